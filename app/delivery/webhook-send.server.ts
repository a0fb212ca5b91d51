import { createHmac } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { checkLiteralHost, PrivateAddressError, publicAgents } from "./public-address.server";

const agents = publicAgents();

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
  /** No try can succeed (the address is private): not retried. */
  final?: boolean;
}

/** One POST through the delivery agents (public addresses only); resolves with the status once the answer was read. */
function post(url: URL, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<number> {
  checkLiteralHost(url.hostname);
  const secure = url.protocol === "https:";
  return new Promise((resolve, reject) => {
    const request = (secure ? https : http).request(
      url,
      { method: "POST", headers: { ...headers, "Content-Length": String(Buffer.byteLength(body)) }, agent: secure ? agents.httpsAgent : agents.httpAgent, signal },
      (response) => {
        // Read (and drop) what it answered, so the connection is released; a slow body counts against the timeout too.
        response.resume();
        response.on("end", () => resolve(response.statusCode ?? 0));
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/** POSTs a JSON event, signed, once; never throws. */
export async function postWebhook(url: string, secret: string, event: unknown, timeoutMs = WEBHOOK_TIMEOUT_MS): Promise<PostOutcome> {
  const body = JSON.stringify(event);
  const t = Math.floor(Date.now() / 1000);
  const started = performance.now();
  const duration = () => Math.round(performance.now() - started);
  try {
    // Redirects are not followed (a 3xx is an answer like any other): the receiver is the URL as registered.
    const statusCode = await post(
      new URL(url),
      { "Content-Type": "application/json", "User-Agent": "Exportal-Webhooks/1", "Exportal-Signature": webhookSignature(secret, t, body) },
      body,
      AbortSignal.timeout(timeoutMs),
    );
    const ok = statusCode >= 200 && statusCode < 300;
    return { statusCode, error: ok ? null : `The endpoint answered ${statusCode}.`, durationMs: duration() };
  } catch (error) {
    if (error instanceof PrivateAddressError) return { statusCode: null, error: `Not sent: ${error.message}.`, durationMs: duration(), final: true };
    const e = error as Error & { code?: string; cause?: { code?: string; message?: string } };
    const timedOut = e.name === "TimeoutError" || e.name === "AbortError";
    const message = timedOut ? `No answer within ${timeoutMs / 1000} seconds.` : `Could not reach the endpoint: ${e.code ?? e.cause?.code ?? e.message}.`;
    return { statusCode: null, error: message, durationMs: duration() };
  }
}

/** Whether a failed try may succeed later: no answer, or a server error. A 4xx says the request itself is refused. */
export function isRetryable(outcome: PostOutcome): boolean {
  return !outcome.final && (outcome.statusCode === null || outcome.statusCode >= 500);
}
