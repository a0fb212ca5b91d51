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
  const problem = jsonProblem(body);
  if (problem) throw new AppError("INVALID_REQUEST", problem === "nesting" ? NESTING_MESSAGE : UNSTORABLE_MESSAGE, { field: "body" });
  return body;
}

/** Deeper than any real request; what zod, JSON.stringify and jsonb then do with it stays far from their stack limits. */
export const MAX_JSON_DEPTH = 64;

const NESTING_MESSAGE = `The body is nested more than ${MAX_JSON_DEPTH} levels deep (objects and arrays within each other). Send a flatter body.`;
const UNSTORABLE_MESSAGE = "The body holds a NUL character (\\u0000) or an unpaired surrogate (\\ud800–\\udfff), which cannot be stored. Remove it and send again.";

// U+0000, a high surrogate with no low one after it, or a low one with no high one before it.
const UNSTORABLE = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * What keeps a parsed JSON value from being stored, or null: nesting deeper than
 * MAX_JSON_DEPTH, or a string PostgreSQL refuses (text and jsonb refuse U+0000,
 * jsonb unpaired surrogates). Checked here, both are a 400 rather than a stack
 * overflow or a database error. Walks without recursion, so depth cannot overflow it.
 */
export function jsonProblem(value: unknown): "nesting" | "text" | null {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item === "string") {
      if (UNSTORABLE.test(item)) return "text";
    } else if (item && typeof item === "object") {
      if (depth >= MAX_JSON_DEPTH) return "nesting";
      for (const [key, child] of Object.entries(item)) {
        if (!Array.isArray(item) && UNSTORABLE.test(key)) return "text";
        stack.push([child, depth + 1]);
      }
    }
  }
  return null;
}
