import { createHmac } from "node:crypto";

/** How long a receiver has to answer before the try counts as a timeout. */
export const WEBHOOK_TIMEOUT_MS = 10_000;

/**
 * The `Exportal-Signature` header of a body sent at unix time `t`:
 * `t=<t>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the endpoint's secret>`.
 * A receiver recomputes it over the raw body and rejects an old `t`, so a
 * captured request cannot be replayed later.
 */
export function webhookSignature(secret: string, t: number, body: string): string {
  return `t=${t},v1=${createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")}`;
}

export interface PostOutcome {
  /** The receiver's status code; null when none came (timeout, refused, DNS). */
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** POSTs a JSON event, signed, once; never throws. */
export async function postWebhook(url: string, secret: string, event: unknown, timeoutMs = WEBHOOK_TIMEOUT_MS): Promise<PostOutcome> {
  const body = JSON.stringify(event);
  const t = Math.floor(Date.now() / 1000);
  const started = performance.now();
  const duration = () => Math.round(performance.now() - started);
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "User-Agent": "Exportal-Webhooks/1", "Exportal-Signature": webhookSignature(secret, t, body) },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    // Read (and drop) what it answered, so the connection is released; a slow body counts against the timeout too.
    await response.arrayBuffer().catch(() => undefined);
    const ok = response.status >= 200 && response.status < 300;
    return { statusCode: response.status, error: ok ? null : `The endpoint answered ${response.status}.`, durationMs: duration() };
  } catch (error) {
    const e = error as Error & { cause?: { code?: string; message?: string } };
    const timedOut = e.name === "TimeoutError" || e.name === "AbortError";
    const message = timedOut ? `No answer within ${timeoutMs / 1000} seconds.` : `Could not reach the endpoint: ${e.cause?.code ?? e.cause?.message ?? e.message}.`;
    return { statusCode: null, error: message, durationMs: duration() };
  }
}

/** Whether a failed try may succeed later: no answer, or a server error. A 4xx says the request itself is refused. */
export function isRetryable(outcome: PostOutcome): boolean {
  return outcome.statusCode === null || outcome.statusCode >= 500;
}
