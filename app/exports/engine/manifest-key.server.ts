import { createPublicKey, type KeyObject } from "node:crypto";
import { getSecret } from "../../lib/secrets.server";
import { keyIdOf, MANIFEST_ALGORITHM, privateKeyFrom, publicKeyText, signManifest } from "../../lib/manifest-signature";

type ManifestKeys = { secret: string; privateKey: KeyObject; publicKey: KeyObject };
let cached: ManifestKeys | undefined;

/** The key pair from EXPORTAL_MANIFEST_KEY or secrets.json, parsed once per process (again only if the secret changes). */
function manifestKeys(): ManifestKeys {
  const secret = getSecret("manifest");
  if (cached?.secret !== secret) {
    let privateKey: KeyObject;
    try {
      privateKey = privateKeyFrom(secret);
    } catch (error) {
      throw new Error(`EXPORTAL_MANIFEST_KEY is not an Ed25519 private key (PKCS8 PEM, or PKCS8 DER in base64): ${(error as Error).message}`);
    }
    cached = { secret, privateKey, publicKey: createPublicKey(privateKey) };
  }
  return cached;
}

/** manifest.sig for the bytes of manifest.json as the archive holds them: one signature per archive. */
export function signManifestBytes(bytes: Buffer): Buffer {
  return signManifest(bytes, manifestKeys().privateKey);
}

/** What GET /api/v1/manifest-key answers: the public half, which anyone may have. */
export function manifestPublicKey(): { algorithm: typeof MANIFEST_ALGORITHM; publicKey: string; keyId: string } {
  const { publicKey } = manifestKeys();
  return { algorithm: MANIFEST_ALGORITHM, publicKey: publicKeyText(publicKey), keyId: keyIdOf(publicKey) };
}
