import { z } from "zod";
import type { DB } from "../../db/client";
import { generateApiKey, hashApiKey, isWellFormedApiKey, KEY_PREFIX } from "./key-format";
import { AppError } from "../lib/errors";
import { fieldErrors } from "../lib/validation";
import { can, type AppAbility, type Permission } from "../auth/permissions";
import { isUuid } from "../lib/ids";

/** What a key may be allowed: the permissions that make sense for a program. */
export const API_KEY_PERMISSIONS = [
  "data.exports.read",
  "data.exports.create",
  "data.exports.download",
  "data.exports.cancel",
  "studies.export",
  "studies.export.full",
  "metrics.read",
  "metrics.write",
  "dashboards.read",
  "dashboards.import",
  "dashboards.export",
] as const satisfies readonly Permission[];

const createInput = z.object({
  name: z
    .string()
    .trim()
    .min(1, "Give the key a name.")
    .max(100, "Keep the name under 100 characters.")
    // Control characters have no place in a name, and PostgreSQL refuses U+0000 outright.
    .refine((name) => !/[\u0000-\u001f\u007f]/.test(name), "Use letters, digits, spaces and punctuation only."),
  permissions: z.array(z.enum(API_KEY_PERMISSIONS, { error: "Unknown permission." })).min(1, "Choose at least one permission."),
  expiresAt: z
    .string()
    .optional()
    .refine((v) => !v || (!Number.isNaN(Date.parse(v)) && Date.parse(v) > Date.now()), { error: "Choose an expiry date in the future." }),
});

export interface CreatedApiKey {
  id: string;
  /** Shown once; only its hash is stored. */
  key: string;
}

/** Creates a key for the tenant with a subset of the creator's own permissions. */
export async function createApiKey(
  db: DB,
  creator: { tenantId: string; userId: string; ability: AppAbility },
  input: unknown,
): Promise<CreatedApiKey> {
  const parsed = createInput.safeParse(input);
  if (!parsed.success) {
    throw new AppError("INVALID_REQUEST", "The API key request is not valid.", { fieldErrors: fieldErrors(parsed.error, { topLevel: true }) });
  }
  const { name, permissions, expiresAt } = parsed.data;
  const beyond = permissions.filter((p) => !can(creator.ability, p));
  if (beyond.length) {
    throw new AppError("FORBIDDEN", `A key cannot have permissions you lack: ${beyond.join(", ")}.`, { fieldErrors: { permissions: `You lack ${beyond.join(", ")}.` } });
  }
  const key = generateApiKey();
  const row = await db
    .insertInto("api_key")
    .values({
      tenant_id: creator.tenantId,
      name,
      key_prefix: key.slice(0, KEY_PREFIX.length + 4),
      last4: key.slice(-4),
      key_hash: hashApiKey(key),
      permissions: [...new Set(permissions)],
      created_by_user_id: creator.userId,
      expires_at: expiresAt ? new Date(expiresAt) : null,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return { id: row.id, key };
}

/** The tenant's keys, newest first, without their hashes. */
export function listApiKeys(db: DB, tenantId: string) {
  return db
    .selectFrom("api_key as k")
    .leftJoin("user as u", "u.id", "k.created_by_user_id")
    .where("k.tenant_id", "=", tenantId)
    .select(["k.id", "k.name", "k.key_prefix", "k.last4", "k.permissions", "k.created_at", "k.expires_at", "k.revoked_at", "k.last_used_at", "u.name as createdBy"])
    .orderBy("k.created_at", "desc")
    .execute();
}

/** Revokes a key of the tenant; it stops working at once. */
export async function revokeApiKey(db: DB, tenantId: string, id: string): Promise<void> {
  const revoked = isUuid(id)
    ? await db.updateTable("api_key").set({ revoked_at: new Date() }).where("tenant_id", "=", tenantId).where("id", "=", id).where("revoked_at", "is", null).returning("id").executeTakeFirst()
    : undefined;
  if (!revoked) throw new AppError("NOT_FOUND", "No such active key.");
}

/**
 * The tenant and permissions of a presented key, or null for a malformed,
 * unknown, revoked or expired one alike. Records when it was last used, to
 * the minute, so a busy key does not write on every request.
 */
export async function authenticateApiKey(db: DB, key: string, now = new Date()) {
  if (!isWellFormedApiKey(key)) return null;
  const row = await db
    .selectFrom("api_key as k")
    .innerJoin("tenant as t", "t.id", "k.tenant_id")
    .innerJoin("organization as o", "o.id", "t.organization_id")
    .select(["k.id", "k.tenant_id", "k.name", "k.permissions", "k.last_used_at"])
    .select(["t.slug", "t.organization_id", "o.slug as orgSlug", "t.api_requests_per_hour", "t.api_exports_per_hour", "t.api_export_burst"])
    .where("k.key_hash", "=", hashApiKey(key))
    .where("k.revoked_at", "is", null)
    .where((eb) => eb.or([eb("k.expires_at", "is", null), eb("k.expires_at", ">", now)]))
    .executeTakeFirst();
  if (!row) return null;
  if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() > 60_000) {
    await db.updateTable("api_key").set({ last_used_at: now }).where("id", "=", row.id).execute();
  }
  return {
    keyId: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    permissions: row.permissions as Permission[],
    tenant: {
      id: row.tenant_id,
      slug: row.slug,
      organizationId: row.organization_id,
      orgSlug: row.orgSlug,
      limits: { api_requests_per_hour: row.api_requests_per_hour, api_exports_per_hour: row.api_exports_per_hour, api_export_burst: row.api_export_burst },
    },
  };
}
