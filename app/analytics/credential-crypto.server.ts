import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { getSecret } from "../lib/secrets.server";

export interface Sealed {
  ciphertext: Buffer;
  nonce: Buffer;
  auth_tag: Buffer;
}

// The configured secret may be any string; hashing it gives the 32-byte key AES-256 needs.
function key(secret = getSecret("encryption")): Buffer {
  return createHash("sha256").update(secret).digest();
}

/** Encrypts an integration credential with AES-256-GCM for storage. */
export function sealCredential(plaintext: string, secret?: string): Sealed {
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key(secret), nonce);
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return { ciphertext, nonce, auth_tag: cipher.getAuthTag() };
}

/** Opens what sealCredential sealed; throws when it was tampered with or sealed under another secret. */
export function openCredential(sealed: Sealed, secret?: string): string {
  const decipher = createDecipheriv("aes-256-gcm", key(secret), sealed.nonce);
  decipher.setAuthTag(sealed.auth_tag);
  return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString("utf8");
}
