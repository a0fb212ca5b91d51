import { authorize, type Requester } from "../auth/requester";
import type { DB } from "../../db/client";
import type { ExportScope } from "../../db/schema";

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
  const projects = await db
    .selectFrom("project as p")
    .where("p.tenant_id", "=", tenantId)
    .select(["p.id", "p.name", "p.description"])
    .select((eb) =>
      eb.selectFrom("participant as pa").whereRef("pa.project_id", "=", "p.id").select((e) => e.fn.countAll<string>().as("n")).as("participants"),
    )
    .orderBy("p.name")
    .execute();
  const apps = await db
    .selectFrom("app")
    .where("tenant_id", "=", tenantId)
    .select(["id", "name", "platform", "project_id"])
    .orderBy("name")
    .execute();
  return projects.map((p) => ({
    id: p.id,
    name: p.name,
    description: p.description,
    participants: Number(p.participants ?? 0),
    apps: apps.filter((a) => a.project_id === p.id).map(({ id, name, platform }) => ({ id, name, platform })),
  }));
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

/** Names of the studies, cohorts and participants that study-scope exports refer to, by id. */
export async function studyScopeNames(db: DB, requester: Requester, scopes: ExportScope[]): Promise<Record<string, string>> {
  authorize(requester, "data.exports.read");
  const { tenantId } = requester;
  const study = scopes.filter((s): s is Extract<ExportScope, { type: "study" }> => s.type === "study");
  if (study.length === 0) return {};
  const ids = (pick: (s: (typeof study)[number]) => string | undefined) => [...new Set(study.map(pick).filter((x): x is string => !!x))];
  const [studies, cohorts, participants] = await Promise.all([
    db.selectFrom("study").select(["id", "name"]).where("tenant_id", "=", tenantId).where("id", "in", ids((s) => s.studyId)).execute(),
    db.selectFrom("cohort").select(["id", "name"]).where("tenant_id", "=", tenantId).where("id", "in", ids((s) => s.cohortId)).execute(),
    ids((s) => s.participantId).length
      ? db.selectFrom("participant").select(["id", "external_id as name"]).where("tenant_id", "=", tenantId).where("id", "in", ids((s) => s.participantId)).execute()
      : [],
  ]);
  return Object.fromEntries([...studies, ...cohorts, ...participants].map((r) => [r.id, r.name]));
}

export interface StudyWithCohorts {
  id: string;
  name: string;
  projectId: string;
  projectName: string;
  cohorts: { id: string; name: string; participants: number }[];
}

/** The tenant's studies with their cohorts and how many participants each enrols. */
export async function listStudies(db: DB, requester: Requester): Promise<StudyWithCohorts[]> {
  authorize(requester, "data.read");
  const { tenantId } = requester;
  const rows = await db
    .selectFrom("study as s")
    .innerJoin("project as p", "p.id", "s.project_id")
    .leftJoin("cohort as c", "c.study_id", "s.id")
    .where("s.tenant_id", "=", tenantId)
    .select(["s.id", "s.name", "p.id as projectId", "p.name as projectName", "c.id as cohortId", "c.name as cohortName"])
    .select((eb) =>
      eb.selectFrom("cohort_member as m").whereRef("m.cohort_id", "=", "c.id").select((e) => e.fn.countAll<string>().as("n")).as("participants"),
    )
    .orderBy("p.name")
    .orderBy("s.name")
    .orderBy("c.name")
    .execute();
  const studies = new Map<string, StudyWithCohorts>();
  for (const r of rows) {
    const study = studies.get(r.id) ?? { id: r.id, name: r.name, projectId: r.projectId, projectName: r.projectName, cohorts: [] };
    studies.set(r.id, study);
    if (r.cohortId) study.cohorts.push({ id: r.cohortId, name: r.cohortName!, participants: Number(r.participants ?? 0) });
  }
  return [...studies.values()];
}
