import { createPublicKey, type KeyObject } from "node:crypto";
import { getSecret } from "../../lib/secrets.server";
import { keyIdOf, MANIFEST_ALGORITHM, privateKeyFrom, publicKeyText, signManifest } from "../../lib/manifest-signature";

type PublicKeyJson = { algorithm: typeof MANIFEST_ALGORITHM; publicKey: string; keyId: string };
type ManifestKeys = { secret: string; privateKey: KeyObject; publicJson: PublicKeyJson };
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
    const publicKey = createPublicKey(privateKey);
    // Made once per key: GET /api/v1/manifest-key would otherwise export and hash the key on every request.
    const publicJson: PublicKeyJson = { algorithm: MANIFEST_ALGORITHM, publicKey: publicKeyText(publicKey), keyId: keyIdOf(publicKey) };
    cached = { secret, privateKey, publicJson };
  }
  return cached;
}

/** manifest.sig for the bytes of manifest.json as the archive holds them: one signature per archive. */
export function signManifestBytes(bytes: Buffer): Buffer {
  return signManifest(bytes, manifestKeys().privateKey);
}

/** What GET /api/v1/manifest-key answers: the public half, which anyone may have. */
export function manifestPublicKey(): PublicKeyJson {
  return { ...manifestKeys().publicJson };
}
