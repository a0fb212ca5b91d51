import { sql } from "kysely";
import type { DB } from "../../db/client";
import { ACTIVE_EXPORT_STATUSES } from "../../db/schema";
import { can } from "../auth/permissions";
import { authorize, type Requester } from "../auth/requester";
import { listActiveExports } from "./export-queries.server";

/** The tenant's running and waiting exports the requester may see, for the Settings page's Jobs panel. */
export async function tenantJobs(db: DB, requester: Requester) {
  authorize(requester, "data.exports.read");
  return listActiveExports(db, requester);
}

/** Whether the requester may see every tenant's queue in the organization: its owners and admins. */
export const maySeeOrganizationQueues = (requester: Pick<Requester, "ability">) =>
  can(requester.ability, "org.exports.create") || can(requester.ability, "tenants.manage");

/**
 * How many exports run and wait in each tenant of the requester's
 * organization, one query over the organization only; undefined for those
 * who may not see it.
 */
export async function organizationQueues(db: DB, requester: Requester) {
  if (!maySeeOrganizationQueues(requester)) return undefined;
  const rows = await db
    .selectFrom("tenant as t")
    .leftJoin("export as e", (join) => join.onRef("e.tenant_id", "=", "t.id").on("e.status", "in", ACTIVE_EXPORT_STATUSES))
    .where("t.organization_id", "=", requester.organizationId)
    .groupBy(["t.id", "t.name", "t.slug"])
    .select(["t.id", "t.name", "t.slug"])
    .select(sql<string>`count(*) filter (where e.status = 'running')`.as("running"))
    .select(sql<string>`count(*) filter (where e.status = 'pending')`.as("queued"))
    .orderBy("t.name")
    .execute();
  return rows.map((r) => ({ ...r, running: Number(r.running), queued: Number(r.queued) }));
}
