import { AppError } from "./errors";

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
  if (holdsNul(body)) throw new AppError("INVALID_REQUEST", NUL_MESSAGE, { field: "body" });
  return body;
}

const NUL_MESSAGE = "The body holds a NUL character (\\u0000), which text fields cannot store. Remove it and send again.";

/** PostgreSQL text and jsonb cannot hold U+0000; finding it here makes it a 400 rather than a database error. */
export function holdsNul(value: unknown): boolean {
  if (typeof value === "string") return value.includes("\0");
  if (Array.isArray(value)) return value.some(holdsNul);
  if (value && typeof value === "object") return Object.entries(value).some(([k, v]) => k.includes("\0") || holdsNul(v));
  return false;
}
