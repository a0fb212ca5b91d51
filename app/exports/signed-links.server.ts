import { createHmac, timingSafeEqual } from "node:crypto";
import { getSecret } from "../lib/secrets.server";

export interface SignedLink {
  exportId: string;
  tenantId: string;
  /** Unix seconds. */
  expires: number;
  /**
   * Signed for an organization-wide export. Such a link is minted only for
   * those who may export the organization; a link signed without it never
   * opens an organization-wide export.
   */
  organizationWide: boolean;
}

function signature(link: SignedLink): string {
  const message = `${link.exportId}.${link.tenantId}.${link.expires}${link.organizationWide ? ".organization" : ""}`;
  return createHmac("sha256", getSecret("signing")).update(message).digest("base64url");
}

/** A path that downloads the export without a session until `expiresAt`. */
export function signedDownloadPath(exportId: string, tenantId: string, expiresAt: Date, organizationWide = false): string {
  const link = { exportId, tenantId, expires: Math.floor(expiresAt.getTime() / 1000), organizationWide };
  const query = new URLSearchParams({ tenant: tenantId, expires: String(link.expires) });
  if (organizationWide) query.set("scope", "organization");
  query.set("signature", signature(link));
  return `/downloads/${exportId}?${query}`;
}

export type LinkCheck = { ok: true; link: SignedLink } | { ok: false; reason: "invalid" | "expired"; expiresAt?: Date };

/** Checks a signed link: the signature first (tampered → invalid), then its expiry. */
export function verifySignedLink(exportId: string, params: URLSearchParams, now = Date.now()): LinkCheck {
  const tenantId = params.get("tenant") ?? "";
  const expires = Number(params.get("expires"));
  const given = Buffer.from(params.get("signature") ?? "");
  if (!Number.isSafeInteger(expires)) return { ok: false, reason: "invalid" };
  const link = { exportId, tenantId, expires, organizationWide: params.get("scope") === "organization" };
  const expected = Buffer.from(signature(link));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: "invalid" };
  if (expires * 1000 <= now) return { ok: false, reason: "expired", expiresAt: new Date(expires * 1000) };
  return { ok: true, link };
}
