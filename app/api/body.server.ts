import { AppError } from "../lib/errors";

export const MAX_BODY_BYTES = 1024 * 1024;
// An oversized body is still read (and dropped) up to this much, so the client,
// which is still sending, receives the 413 instead of a reset connection.
const DRAIN_BYTES = 16 * 1024 * 1024;

async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, seen: number) {
  while (seen <= DRAIN_BYTES) {
    const { done, value } = await reader.read();
    if (done) return;
    seen += value.byteLength;
  }
  await reader.cancel().catch(() => {});
}

/**
 * Reads a request body as text, refusing more than 1 MB: at once when
 * Content-Length says so, else as soon as the streamed bytes pass the limit.
 */
export async function readBodyText(request: Request): Promise<string> {
  const tooLarge = () => new AppError("PAYLOAD_TOO_LARGE", `Request bodies are limited to ${MAX_BODY_BYTES} bytes (1 MB).`, { limitBytes: MAX_BODY_BYTES });
  if (!request.body) return "";
  const reader = request.body.getReader();
  if (Number(request.headers.get("content-length")) > MAX_BODY_BYTES) {
    await drain(reader, 0);
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await drain(reader, size);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The body as JSON; an empty body is `undefined`. Names what is wrong otherwise. */
export function parseJsonBody(request: Request, text: string): unknown {
  if (text.trim() === "") return undefined;
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/([\w.+-]*\+)?json\b/i.test(type)) {
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Send the body as JSON with Content-Type: application/json.", { header: "Content-Type" });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new AppError("INVALID_REQUEST", `The body is not valid JSON: ${(error as Error).message}.`, { field: "body" });
  }
  if (!storableText(body)) throw new AppError("INVALID_REQUEST", UNSTORABLE_MESSAGE, { field: "body" });
  return body;
}

const UNSTORABLE_MESSAGE = "The body holds a NUL character (\\u0000) or an unpaired surrogate (\\ud800–\\udfff), which cannot be stored. Remove it and send again.";

// U+0000, a high surrogate with no low one after it, or a low one with no high one before it.
const UNSTORABLE = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Whether every string in a parsed JSON value can be stored: PostgreSQL text and
 * jsonb refuse U+0000, and jsonb refuses unpaired surrogates. Checked here, they
 * are a 400 rather than a database error.
 */
export function storableText(value: unknown): boolean {
  if (typeof value === "string") return !UNSTORABLE.test(value);
  if (Array.isArray(value)) return value.every(storableText);
  if (value && typeof value === "object") return Object.entries(value).every(([k, v]) => storableText(k) && storableText(v));
  return true;
}
