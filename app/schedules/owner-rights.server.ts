import type { DB } from "../../db/client";
import { SYSTEM } from "../audit/audit.server";
import { buildAbility, can, permissionsFor, type AppAbility, type Permission } from "../auth/permissions";
import type { Requester } from "../auth/requester";
import type { DeidentificationProfile, ExportScope, ScheduleExportRequest } from "../../db/schema";
import { DEFAULT_PROFILE, PROFILE_PERMISSION } from "../studies/deidentification";
import { DATA_TYPE_SPECS, type DataType, type DataTypeSpec } from "../exports/engine/columns.server";

/**
 * Someone's rights in a tenant as they are now, as a requester acting for
 * them (a schedule's owner at each run, a recipient when a run is delivered);
 * null once they may not open the tenant (removed from the organization or
 * the tenant). The actor is the system, acting for them.
 */
export async function requesterForUser(db: DB, userId: string, tenantId: string): Promise<(Requester & { permissions: Permission[]; name: string }) | null> {
  const row = await db
    .selectFrom("tenant as t")
    .innerJoin("member as m", (j) => j.onRef("m.organizationId", "=", "t.organization_id").on("m.userId", "=", userId))
    .innerJoin("user as u", "u.id", "m.userId")
    .leftJoin("tenant_member as tm", (j) => j.onRef("tm.tenant_id", "=", "t.id").on("tm.user_id", "=", userId))
    .where("t.id", "=", tenantId)
    .select(["t.organization_id", "m.role as orgRole", "tm.role as tenantRole", "u.name"])
    .executeTakeFirst();
  if (!row) return null;
  const permissions = permissionsFor(row.orgRole, row.tenantRole);
  if (permissions.length === 0) return null;
  return {
    tenantId,
    organizationId: row.organization_id,
    actor: { ...SYSTEM, userId, label: `schedule for ${row.name}` },
    ability: buildAbility(permissions),
    permissions,
    name: row.name,
  };
}

/** What one recipient of a run gets: an archive of this scope, profile and data types, or only a notice. */
export type RecipientVariant = { scope: ExportScope; deidentification: DeidentificationProfile | null; dataTypes: string[] } | null;

/**
 * What a recipient may receive of a schedule's export, by their rights now:
 * null (a notice that a run happened, no data) without the right to download
 * or to the scope; otherwise the profile asked for if they may export it,
 * else the most protective one, and only the data types they may read. An
 * organization-wide schedule reaches a tenant member as their tenant's part.
 */
export function recipientVariant(ability: AppAbility, request: ScheduleExportRequest): RecipientVariant {
  if (!can(ability, "data.exports.download")) return null;
  let scope = request.scope;
  if (scope.type === "organization" && !can(ability, "org.exports.create")) scope = { type: "tenant" };
  if (scope.type === "study" && !can(ability, "studies.export")) return null;
  const dataTypes = request.dataTypes.filter((type) => {
    const spec: DataTypeSpec | undefined = DATA_TYPE_SPECS[type as DataType];
    const permission = spec?.permission;
    return !permission || can(ability, permission);
  });
  if (dataTypes.length === 0) return null;
  const asked = request.deidentification ?? null;
  const deidentification = asked && !can(ability, PROFILE_PERMISSION[asked]) ? DEFAULT_PROFILE : asked;
  return { scope, deidentification, dataTypes };
}

/** One key per distinct archive, so a run builds each once however many recipients share it. */
export function variantKey(variant: NonNullable<RecipientVariant>): string {
  return JSON.stringify([variant.scope, variant.deidentification, [...variant.dataTypes].sort()]);
}
