import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { keyIdOf, manifestSignatureHolds, privateKeyFrom, publicKeyFrom, publicKeyText, signManifest } from "../../app/lib/manifest-signature";
import { CsvRecordCounter, LineCounter } from "../../app/lib/record-count";

const pair = () => generateKeyPairSync("ed25519");
const manifest = Buffer.from(JSON.stringify({ exportId: "e1", files: [{ name: "a.csv", rows: 2, bytes: 10, sha256: "00" }] }, null, 2) + "\n");

describe("manifest signatures", () => {
  it("a signature holds for the bytes it signed under the signer's public key", () => {
    const { privateKey, publicKey } = pair();
    const signature = signManifest(manifest, privateKey);
    expect(signature.length).toBe(64);
    expect(manifestSignatureHolds(manifest, signature, publicKey)).toBe(true);
  });

  it("another key's public half refuses it", () => {
    const signature = signManifest(manifest, pair().privateKey);
    expect(manifestSignatureHolds(manifest, signature, pair().publicKey)).toBe(false);
  });

  it("one edited byte of the manifest, or of the signature, breaks it", () => {
    const { privateKey, publicKey } = pair();
    const signature = signManifest(manifest, privateKey);
    for (const at of [0, manifest.indexOf("rows") + 7, manifest.length - 1]) {
      const edited = Buffer.from(manifest);
      edited[at] ^= 0x01;
      expect(manifestSignatureHolds(edited, signature, publicKey), `byte ${at}`).toBe(false);
    }
    const flipped = Buffer.from(signature);
    flipped[10] ^= 0x80;
    expect(manifestSignatureHolds(manifest, flipped, publicKey)).toBe(false);
    // A truncated or empty signature is a plain no, not an exception.
    expect(manifestSignatureHolds(manifest, signature.subarray(0, 32), publicKey)).toBe(false);
    expect(manifestSignatureHolds(manifest, Buffer.alloc(0), publicKey)).toBe(false);
  });

  it("keys read back from PEM and from base64 DER, as EXPORTAL_MANIFEST_KEY and the key endpoint give them", () => {
    const { privateKey, publicKey } = pair();
    const der = privateKey.export({ format: "der", type: "pkcs8" }).toString("base64");
    const pem = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    for (const text of [der, pem, `  ${pem}\n`]) {
      const signature = signManifest(manifest, privateKeyFrom(text));
      expect(manifestSignatureHolds(manifest, signature, publicKey)).toBe(true);
    }
    const served = publicKeyText(createPublicKey(privateKeyFrom(der)));
    expect(keyIdOf(publicKeyFrom(served))).toBe(keyIdOf(publicKey));
    expect(keyIdOf(publicKeyFrom(publicKey.export({ format: "pem", type: "spki" }).toString()))).toBe(keyIdOf(publicKey));
    expect(keyIdOf(publicKey)).toMatch(/^[0-9a-f]{16}$/);
    expect(keyIdOf(pair().publicKey)).not.toBe(keyIdOf(publicKey));
  });

  it("refuses a key of another algorithm rather than signing with it", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 });
    expect(() => privateKeyFrom(rsa.privateKey.export({ format: "pem", type: "pkcs8" }).toString())).toThrow(/Ed25519/);
    expect(() => publicKeyFrom(rsa.publicKey.export({ format: "der", type: "spki" }).toString("base64"))).toThrow(/Ed25519/);
  });
});

/** Feeds text in chunks of `size` bytes, so records and quotes cross chunk boundaries. */
function count(counter: CsvRecordCounter | LineCounter, text: string, size: number): number {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) counter.update(bytes.subarray(i, i + size));
  return counter.rows();
}

describe("row counts", () => {
  const csv = 'id,note\n1,"two\nlines"\n2,"a ""quoted"", comma"\n3,"x\n\ny"\n4,plain\n';
  it("CSV: records after the header, a quoted newline staying inside its record, in any chunking", () => {
    for (const size of [1, 2, 3, 7, 1000]) expect(count(new CsvRecordCounter(), csv, size), `chunks of ${size}`).toBe(4);
    // Splitting lines would count 7 here: the scanner must not.
    expect(csv.split("\n").filter(Boolean).length - 1).toBe(6);
  });

  it("CSV: only a header is no rows; a last record without its newline counts; an empty file is no rows", () => {
    expect(count(new CsvRecordCounter(), "id,note\n", 4)).toBe(0);
    expect(count(new CsvRecordCounter(), "id,note\n1,a\n2,b", 4)).toBe(2);
    expect(count(new CsvRecordCounter(), "", 4)).toBe(0);
  });

  it("NDJSON: lines, a last one without its newline too", () => {
    expect(count(new LineCounter(), '{"a":1}\n{"a":"x\\ny"}\n', 3)).toBe(2);
    expect(count(new LineCounter(), '{"a":1}\n{"a":2}', 3)).toBe(2);
    expect(count(new LineCounter(), "", 3)).toBe(0);
  });
});
