import { describe, expect, it } from "vitest";
import { signedDownloadPath, verifySignedLink } from "../../app/exports/signed-links.server";

process.env.EXPORTAL_SIGNING_SECRET = "unit-test-signing-secret";
const EXPORT = "6f1c1a2e-8d1e-4a53-9d7e-0f4b4a0e9c11";
const TENANT = "0b7a6d5c-4e3f-4a2b-9c1d-8e7f6a5b4c3d";
const params = (path: string) => new URL(path, "http://x").searchParams;

describe("signed download links", () => {
  const expiresAt = new Date(Date.now() + 3_600_000);
  const path = signedDownloadPath(EXPORT, TENANT, expiresAt);

  it("verify until they expire", () => {
    expect(verifySignedLink(EXPORT, params(path))).toEqual({
      ok: true,
      link: { exportId: EXPORT, tenantId: TENANT, expires: Math.floor(expiresAt.getTime() / 1000), organizationWide: false },
    });
    expect(verifySignedLink(EXPORT, params(path), expiresAt.getTime() + 1000)).toMatchObject({ ok: false, reason: "expired" });
  });

  it("reject any change to export, tenant, expiry or signature", () => {
    const p = params(path);
    expect(verifySignedLink("6f1c1a2e-8d1e-4a53-9d7e-0f4b4a0e9c12", p)).toMatchObject({ ok: false, reason: "invalid" });
    for (const [key, value] of [["tenant", EXPORT], ["expires", String(Number(p.get("expires")) + 86400)], ["signature", (p.get("signature")!.startsWith("A") ? "B" : "A") + p.get("signature")!.slice(1)], ["signature", ""]]) {
      const tampered = new URLSearchParams(p);
      tampered.set(key, value);
      expect(verifySignedLink(EXPORT, tampered), key).toMatchObject({ ok: false, reason: "invalid" });
    }
  });

  it("of an organization-wide export verify only with the scope they were signed for", () => {
    const orgPath = signedDownloadPath(EXPORT, TENANT, expiresAt, true);
    expect(verifySignedLink(EXPORT, params(orgPath))).toMatchObject({ ok: true, link: { organizationWide: true } });
    const stripped = params(orgPath);
    stripped.delete("scope");
    expect(verifySignedLink(EXPORT, stripped)).toMatchObject({ ok: false, reason: "invalid" });
    const added = params(path);
    added.set("scope", "organization");
    expect(verifySignedLink(EXPORT, added)).toMatchObject({ ok: false, reason: "invalid" });
  });

  it("are tied to the secret", () => {
    process.env.EXPORTAL_SIGNING_SECRET = "another-secret";
    expect(verifySignedLink(EXPORT, params(path))).toMatchObject({ ok: false, reason: "invalid" });
    process.env.EXPORTAL_SIGNING_SECRET = "unit-test-signing-secret";
  });
});
