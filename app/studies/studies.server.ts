import type { ExportScope } from "../../db/schema";
import { authorize, type Requester } from "../auth/requester";
import { sql } from "kysely";
import type { DB } from "../../db/client";
import { isUuid } from "../lib/ids";

export const PARTICIPANTS_PAGE_SIZE = 25;

export interface StudyDetail {
  id: string;
  name: string;
  projectId: string;
  projectName: string;
  cohorts: { id: string; name: string; participants: number }[];
}

/** A study of the tenant with its cohorts; undefined for an unknown id or another tenant's study alike. */
export async function getStudy(db: DB, requester: Requester, studyId: string): Promise<StudyDetail | undefined> {
  authorize(requester, "data.read");
  const { tenantId } = requester;
  if (!isUuid(studyId)) return undefined;
  const study = await db
    .selectFrom("study as s")
    .innerJoin("project as p", "p.id", "s.project_id")
    .where("s.tenant_id", "=", tenantId)
    .where("s.id", "=", studyId)
    .select(["s.id", "s.name", "p.id as projectId", "p.name as projectName"])
    .executeTakeFirst();
  if (!study) return undefined;
  const cohorts = await db
    .selectFrom("cohort as c")
    .where("c.tenant_id", "=", tenantId)
    .where("c.study_id", "=", study.id)
    .select(["c.id", "c.name"])
    .select((eb) => eb.selectFrom("cohort_member as m").whereRef("m.cohort_id", "=", "c.id").select((e) => e.fn.countAll<string>().as("n")).as("participants"))
    .orderBy("c.name")
    .execute();
  return { ...study, cohorts: cohorts.map((c) => ({ id: c.id, name: c.name, participants: Number(c.participants ?? 0) })) };
}

/** A cohort of a study of the tenant; undefined unless all three match. */
export async function getCohort(db: DB, requester: Requester, studyId: string, cohortId: string) {
  authorize(requester, "data.read");
  const { tenantId } = requester;
  if (!isUuid(studyId) || !isUuid(cohortId)) return undefined;
  return db
    .selectFrom("cohort as c")
    .innerJoin("study as s", "s.id", "c.study_id")
    .where("c.tenant_id", "=", tenantId)
    .where("s.id", "=", studyId)
    .where("c.id", "=", cohortId)
    .select(["c.id", "c.name", "s.id as studyId", "s.name as studyName"])
    .executeTakeFirst();
}

export interface CohortParticipant {
  id: string;
  externalId: string;
  enrolledAt: Date;
  /** Present only when the reader may see identifying fields. */
  identifying?: { name: string | null; email: string | null; dateOfBirth: string | null; notes: string | null; deviceSerial: string | null };
}

/**
 * One page of a cohort's participants, by external id, optionally those whose
 * external id contains `q`. Identifying fields are read only when asked for,
 * so they never reach a page that may not show them.
 */
export async function listCohortParticipants(
  db: DB,
  requester: Requester,
  cohortId: string,
  options: { q?: string; page: number; identifying: boolean },
): Promise<{ participants: CohortParticipant[]; total: number }> {
  authorize(requester, "data.read");
  // Identifying fields are for those who may export full data.
  if (options.identifying) authorize(requester, "studies.export.full");
  const { tenantId } = requester;
  let query = db
    .selectFrom("cohort_member as m")
    .innerJoin("participant as p", "p.id", "m.participant_id")
    .where("m.tenant_id", "=", tenantId)
    .where("m.cohort_id", "=", cohortId);
  if (options.q) query = query.where("p.external_id", "ilike", `%${options.q.replace(/[\\%_]/g, "\\$&")}%`);
  const [rows, count] = await Promise.all([
    query
      .select(["p.id", "p.external_id", "m.enrolled_at"])
      .$if(options.identifying, (q) =>
        q.select(["p.name", "p.email", sql<string | null>`p.date_of_birth::text`.as("date_of_birth"), "p.notes", "p.device_serial"]),
      )
      .orderBy("p.external_id")
      .limit(PARTICIPANTS_PAGE_SIZE)
      .offset((options.page - 1) * PARTICIPANTS_PAGE_SIZE)
      .execute(),
    query.select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow(),
  ]);
  return {
    total: Number(count.n),
    participants: rows.map((r) => ({
      id: r.id,
      externalId: r.external_id,
      enrolledAt: r.enrolled_at,
      ...(options.identifying && {
        identifying: { name: r.name ?? null, email: r.email ?? null, dateOfBirth: r.date_of_birth ?? null, notes: r.notes ?? null, deviceSerial: r.device_serial ?? null },
      }),
    })),
  };
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
