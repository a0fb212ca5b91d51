import { sql } from "kysely";
import type { DB } from "../../db/client";
import { authorize, type Requester } from "../auth/requester";

export interface ProjectWithApps {
  id: string;
  name: string;
  description: string;
  participants: number;
  apps: { id: string; name: string; platform: string }[];
}

/** The tenant's projects with their apps and participant counts. */
export async function listProjects(db: DB, requester: Requester): Promise<ProjectWithApps[]> {
  authorize(requester, "data.read");
  const { tenantId } = requester;
  // One statement, apps folded in: the exports page reads this on every poll.
  const projects = await db
    .selectFrom("project as p")
    .where("p.tenant_id", "=", tenantId)
    .select(["p.id", "p.name", "p.description"])
    .select((eb) =>
      eb.selectFrom("participant as pa").whereRef("pa.project_id", "=", "p.id").select((e) => e.fn.countAll<string>().as("n")).as("participants"),
    )
    .select(
      sql<ProjectWithApps["apps"]>`coalesce((
        select json_agg(json_build_object('id', a.id, 'name', a.name, 'platform', a.platform) order by a.name)
        from app a where a.tenant_id = ${tenantId} and a.project_id = p.id), '[]')`.as("apps"),
    )
    .orderBy("p.name")
    .execute();
  return projects.map((p) => ({ ...p, participants: Number(p.participants ?? 0) }));
}

export interface TenantMemberRow {
  name: string;
  email: string;
  orgRole: string;
  tenantRole: string | null;
}

/** Who can open the tenant: its members, and the organization's owners and admins. */
export async function listTenantMembers(db: DB, requester: Requester): Promise<TenantMemberRow[]> {
  authorize(requester, "members.read");
  const { tenantId, organizationId } = requester;
  return db
    .selectFrom("member as m")
    .innerJoin("user as u", "u.id", "m.userId")
    .leftJoin("tenant_member as tm", (j) => j.onRef("tm.user_id", "=", "m.userId").on("tm.tenant_id", "=", tenantId))
    .where("m.organizationId", "=", organizationId)
    .where((eb) => eb.or([eb("m.role", "in", ["owner", "admin"]), eb("tm.role", "is not", null)]))
    .select(["u.name", "u.email", "m.role as orgRole", "tm.role as tenantRole"])
    .orderBy("u.name")
    .execute();
}
