import type { DB } from "../../db/client";
import type { OrgRole, TenantRole } from "../../db/schema";
import { permissionsFor, type Permission } from "../auth/permissions";
import { AppError } from "../lib/errors";
import { hashApiKey, isWellFormedApiKey } from "./key-format";
import { cachedKey, keyCacheGeneration, rememberKey } from "./key-cache.server";

/**
 * API keys (as `k`) with their creator's current roles: the creator's
 * membership in the key's tenant's organization and role in the key's tenant.
 */
export function keysWithCreatorRights(db: DB) {
  return db
    .selectFrom("api_key as k")
    .leftJoin("tenant as kt", "kt.id", "k.tenant_id")
    .leftJoin("member as cm", (j) => j.onRef("cm.organizationId", "=", "kt.organization_id").onRef("cm.userId", "=", "k.created_by_user_id"))
    .leftJoin("tenant_member as ctm", (j) => j.onRef("ctm.tenant_id", "=", "k.tenant_id").onRef("ctm.user_id", "=", "k.created_by_user_id"))
    .select(["cm.role as creatorOrgRole", "ctm.role as creatorTenantRole"]);
}

/**
 * What a key may do now: its own permissions that its creator still holds in
 * its tenant. A creator who left the organization or the tenant leaves the
 * key with nothing, and the key is refused like a revoked one.
 */
export function effectivePermissions(keyPermissions: Permission[], creatorOrgRole: OrgRole | null, creatorTenantRole: TenantRole | null): Permission[] {
  const creator = creatorPermissions(creatorOrgRole, creatorTenantRole);
  return keyPermissions.filter((p) => creator.includes(p));
}

/** What the creator may do in the key's tenant now; nothing once they left the organization or the tenant. */
export function creatorPermissions(creatorOrgRole: OrgRole | null, creatorTenantRole: TenantRole | null): Permission[] {
  return creatorOrgRole ? permissionsFor(creatorOrgRole, creatorTenantRole) : [];
}

function readKey(db: DB, keyHash: string) {
  return keysWithCreatorRights(db)
    .innerJoin("tenant as t", "t.id", "k.tenant_id")
    .innerJoin("organization as o", "o.id", "t.organization_id")
    .select(["k.id", "k.tenant_id", "k.name", "k.permissions", "k.expires_at", "k.last_used_at", "k.created_by_user_id"])
    .select(["t.slug", "t.name as tenantName", "t.archived_at", "t.organization_id", "o.slug as orgSlug", "t.api_requests_per_hour", "t.api_exports_per_hour", "t.api_export_burst"])
    .where("k.key_hash", "=", keyHash)
    .where("k.revoked_at", "is", null)
    .executeTakeFirst();
}

/**
 * The tenant and permissions of a presented key, or null for a malformed,
 * unknown, revoked or expired one, or one whose creator has left, alike. Its
 * permissions are those its creator still holds. A key is read from the
 * database, then served from this process's cache until a change to it, its
 * creator's memberships or its tenant is notified (key-cache.server.ts);
 * expiry is checked on every request. Records when it was last used, to
 * the minute, so a busy key does not write on every request. A valid key of
 * an archived tenant is refused with a 403 that says so (only to its holder).
 */
export async function authenticateApiKey(db: DB, key: string, now = new Date()) {
  const keyHash = hashApiKey(key);
  type Row = NonNullable<Awaited<ReturnType<typeof readKey>>>;
  let row = cachedKey<Row>(keyHash);
  if (!row) {
    // Only a key read from the database is cached, so a cached one passed this check when it was read.
    if (!isWellFormedApiKey(key)) return null;
    const generation = keyCacheGeneration();
    row = await readKey(db, keyHash);
    if (!row) return null;
    rememberKey(keyHash, row, generation);
  }
  if (row.expires_at && row.expires_at <= now) return null;
  const permissions = effectivePermissions(row.permissions as Permission[], row.creatorOrgRole, row.creatorTenantRole);
  if (creatorPermissions(row.creatorOrgRole, row.creatorTenantRole).length === 0) return null;
  if (row.archived_at) {
    throw new AppError("FORBIDDEN", `${row.tenantName} is archived, so its API keys are refused. An organization owner or admin can restore it on the Tenants page.`, { archived: true });
  }
  if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() > 60_000) {
    row.last_used_at = now; // in the cached row too, so this process writes it once a minute
    await db.updateTable("api_key").set({ last_used_at: now }).where("id", "=", row.id).execute();
  }
  return {
    keyId: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    permissions,
    /** Whose rights the key follows; what it schedules is theirs. */
    createdByUserId: row.created_by_user_id,
    tenant: {
      id: row.tenant_id,
      slug: row.slug,
      organizationId: row.organization_id,
      orgSlug: row.orgSlug,
      limits: { api_requests_per_hour: row.api_requests_per_hour, api_exports_per_hour: row.api_exports_per_hour, api_export_burst: row.api_export_burst },
    },
  };
}
