import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from "node:crypto";

// Pure helpers shared by the portal (which signs) and `exportal-verify` (which checks): node:crypto only,
// so the verifier bundles without the portal around it.

export const MANIFEST_ALGORITHM = "Ed25519";

function ensureEd25519(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== "ed25519") throw new Error(`${what} is a ${key.asymmetricKeyType} key; manifests are signed with Ed25519.`);
  return key;
}

/** The private key as EXPORTAL_MANIFEST_KEY gives it: a PKCS8 PEM, or PKCS8 DER in base64 (what the generated one is). */
export function privateKeyFrom(text: string): KeyObject {
  const trimmed = text.trim();
  const key = trimmed.startsWith("-----BEGIN")
    ? createPrivateKey(trimmed)
    : createPrivateKey({ key: Buffer.from(trimmed, "base64"), format: "der", type: "pkcs8" });
  return ensureEd25519(key, "The manifest key");
}

/** A public key as /api/v1/manifest-key serves it (SPKI DER in base64) or as a PEM. */
export function publicKeyFrom(text: string): KeyObject {
  const trimmed = text.trim();
  const key = trimmed.startsWith("-----BEGIN")
    ? createPublicKey(trimmed)
    : createPublicKey({ key: Buffer.from(trimmed, "base64"), format: "der", type: "spki" });
  return ensureEd25519(key, "The public key");
}

/** SPKI DER in base64: one line, easy to put in JSON, a command or an environment variable. */
export function publicKeyText(key: KeyObject): string {
  return key.export({ format: "der", type: "spki" }).toString("base64");
}

/** A short name for a key, so a reader can tell which key signed without comparing whole keys. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash("sha256").update(publicKey.export({ format: "der", type: "spki" })).digest("hex").slice(0, 16);
}

/** The signature of manifest.json's exact bytes: what manifest.sig holds (64 raw bytes). */
export function signManifest(bytes: Buffer, privateKey: KeyObject): Buffer {
  // Ed25519 hashes internally: the algorithm argument is null.
  return sign(null, bytes, privateKey);
}

/** Whether `signature` is the key's signature of exactly these bytes; a malformed signature is simply false. */
export function manifestSignatureHolds(bytes: Buffer, signature: Buffer, publicKey: KeyObject): boolean {
  try {
    return verify(null, bytes, publicKey, signature);
  } catch {
    return false;
  }
}
