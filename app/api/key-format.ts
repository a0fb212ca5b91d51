import { createHash, randomBytes } from "node:crypto";

/**
 * API keys look like `xpk_` + 32 random base62 characters + a 6-character
 * base62 checksum of them. The prefix lets secret scanners recognise a leaked
 * key; the checksum rejects a mistyped or made-up key before any lookup.
 */
export const KEY_PREFIX = "xpk_";
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BODY = 32;
const CHECK = 6;

function base62(bytes: Buffer, length: number): string {
  let out = "";
  for (const byte of bytes) {
    if (out.length === length) break;
    if (byte < 248) out += ALPHABET[byte % 62]; // 248 = 4 × 62: no modulo bias
  }
  return out;
}

function checksum(body: string): string {
  return base62(createHash("sha256").update(body).digest(), CHECK);
}

export function generateApiKey(): string {
  let body = "";
  while (body.length < BODY) body += base62(randomBytes(48), BODY - body.length);
  return `${KEY_PREFIX}${body}${checksum(body)}`;
}

/** Shape and checksum only: true says nothing about whether the key exists. */
export function isWellFormedApiKey(key: string): boolean {
  if (key.length !== KEY_PREFIX.length + BODY + CHECK || !key.startsWith(KEY_PREFIX)) return false;
  const body = key.slice(KEY_PREFIX.length, KEY_PREFIX.length + BODY);
  if (![...body].every((c) => ALPHABET.includes(c))) return false;
  return key.slice(KEY_PREFIX.length + BODY) === checksum(body);
}

/** Keys carry 190 bits of randomness, so a fast hash is enough to store them. */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}
