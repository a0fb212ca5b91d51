import { forgetCachedKeys } from "./key-cache.server";
import { z } from "zod";
import type { DB } from "../../db/client";
import { recordEvent } from "../audit/audit.server";
import { can, type Permission } from "../auth/permissions";
import { authorize, type Requester } from "../auth/requester";
import { AppError } from "../lib/errors";
import { isUuid } from "../lib/ids";
import { fieldErrors } from "../lib/validation";
import { assertTenantWritable } from "../tenants/archived.server";
import { creatorPermissions, effectivePermissions, keysWithCreatorRights } from "./key-auth.server";
import { generateApiKey, hashApiKey, KEY_PREFIX } from "./key-format";

/** What a key may be allowed: the permissions that make sense for a program. */
export const API_KEY_PERMISSIONS = [
  "data.exports.read",
  "data.exports.create",
  "data.exports.download",
  "data.exports.cancel",
  // Schedules over the API (/api/v1/schedules): a key's schedules are its creator's and run with their rights.
  "data.exports.schedule",
  "studies.export",
  "studies.export.full",
  "metrics.read",
  "metrics.write",
  "dashboards.read",
  "dashboards.import",
  "dashboards.export",
  // For programs that export the audit trail (the audit_events data type); a key reads only its tenant's events.
  "audit.read",
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

/**
 * Creates a key for the tenant with a subset of the creator's own
 * permissions. It acts with at most its creator's rights of the moment (see
 * key-auth.server.ts), so a key never outlives what its creator may do.
 */
export async function createApiKey(db: DB, creator: Requester, input: unknown): Promise<CreatedApiKey> {
  authorize(creator, "api_keys.manage");
  if (!creator.actor.userId) throw new AppError("FORBIDDEN", "API keys are created by people, in the portal.");
  await assertTenantWritable(db, creator.tenantId);
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
      created_by_user_id: creator.actor.userId,
      expires_at: expiresAt ? new Date(expiresAt) : null,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  await recordEvent(db, placeOf(creator), "api_key.created", { type: "api_key", id: row.id }, creator.actor, { name, permissions, expiresAt: expiresAt ?? null });
  return { id: row.id, key };
}

/**
 * The tenant's keys, newest first, without their hashes; each with the
 * permissions it acts with now (its own, narrowed to its creator's current
 * rights), none once its creator has left.
 */
export async function listApiKeys(db: DB, requester: Requester) {
  authorize(requester, "api_keys.manage");
  const keys = await keysWithCreatorRights(db)
    .leftJoin("user as u", "u.id", "k.created_by_user_id")
    .where("k.tenant_id", "=", requester.tenantId)
    .select(["k.id", "k.name", "k.key_prefix", "k.last4", "k.permissions", "k.created_at", "k.expires_at", "k.revoked_at", "k.last_used_at", "u.name as createdBy"])
    .orderBy("k.created_at", "desc")
    .execute();
  return keys.map(({ creatorOrgRole, creatorTenantRole, ...key }) => ({
    ...key,
    effectivePermissions: effectivePermissions(key.permissions as Permission[], creatorOrgRole, creatorTenantRole),
    /** False once the creator has left: the key is then refused like a revoked one. */
    creatorActive: creatorPermissions(creatorOrgRole, creatorTenantRole).length > 0,
    expired: key.expires_at !== null && key.expires_at.getTime() <= Date.now(),
  }));
}

/** Revokes a key of the tenant; it stops working at once. */
export async function revokeApiKey(db: DB, requester: Requester, id: string): Promise<void> {
  authorize(requester, "api_keys.manage");
  const revoked = isUuid(id)
    ? await db
        .updateTable("api_key")
        .set({ revoked_at: new Date() })
        .where("tenant_id", "=", requester.tenantId)
        .where("id", "=", id)
        .where("revoked_at", "is", null)
        .returning(["id", "name"])
        .executeTakeFirst()
    : undefined;
  if (!revoked) throw new AppError("NOT_FOUND", "No such active key.");
  forgetCachedKeys();
  await recordEvent(db, placeOf(requester), "api_key.revoked", { type: "api_key", id: revoked.id }, requester.actor, { name: revoked.name });
}

const placeOf = (requester: Requester) => ({ organization_id: requester.organizationId, tenant_id: requester.tenantId });
