import { randomUUID } from "node:crypto";
import { hashPassword } from "better-auth/crypto";
import { sql } from "kysely";
import type { DB } from "./client";
import { createDashboards, createIntegrations, type SealCredential } from "./seed-analytics";
import { TENANT_ROLES, type OrgRole } from "./schema";

export const DEMO_PASSWORD = "exportal-demo";
export const DEMO_ORG_SLUG = "acme-health";

export interface DemoAccount {
  email: string;
  name: string;
  role: string;
}

interface SeedOptions {
  hsiRows: number;
  labRows: number;
}

const PROJECTS: { name: string; description: string; apps: [string, string][] }[] = [
  {
    name: "Cardio Study",
    description: "Resting and active heart rate in adults with hypertension.",
    apps: [["Watch", "watchOS"], ["Ring", "ring"], ["Phone", "iOS"]],
  },
  {
    name: "Sleep Lab",
    description: "Sleep stages and oxygen saturation overnight.",
    apps: [["Ring", "ring"], ["Bedside Sensor", "embedded"]],
  },
  {
    name: "Metabolic Health",
    description: "Activity, glucose and lab panels over a year.",
    apps: [["Glucose Monitor", "cgm"], ["Scale", "embedded"], ["Phone", "Android"], ["Watch", "wearOS"]],
  },
];

// Share of the generated rows each tenant receives.
const TENANT_SHARE: Record<string, number> = { "acme-health/production": 0.85, "acme-health/staging": 0.1, "globex/main": 0.05 };

export async function isSeeded(db: DB): Promise<boolean> {
  const row = await db.selectFrom("organization").select("id").where("slug", "=", DEMO_ORG_SLUG).executeTakeFirst();
  return row !== undefined;
}

async function createUser(db: DB, email: string, name: string, passwordHash: string): Promise<string> {
  const id = randomUUID();
  const now = new Date();
  await db.insertInto("user").values({ id, email, name, emailVerified: true, image: null, updatedAt: now }).execute();
  await db
    .insertInto("account")
    .values({ id: randomUUID(), accountId: id, providerId: "credential", userId: id, password: passwordHash, updatedAt: now })
    .execute();
  return id;
}

async function createOrg(db: DB, name: string, slug: string): Promise<string> {
  const id = randomUUID();
  await db.insertInto("organization").values({ id, name, slug, logo: null, metadata: null, createdAt: new Date() }).execute();
  return id;
}

async function addOrgMember(db: DB, organizationId: string, userId: string, role: OrgRole) {
  await db.insertInto("member").values({ id: randomUUID(), organizationId, userId, role, createdAt: new Date() }).execute();
}

async function createTenant(db: DB, organizationId: string, name: string, slug: string): Promise<string> {
  const row = await db.insertInto("tenant").values({ organization_id: organizationId, name, slug }).returning("id").executeTakeFirstOrThrow();
  return row.id;
}

async function createProjects(db: DB, tenantId: string, participantsPerProject: number, seal: SealCredential) {
  const projectIds: string[] = [];
  for (const project of PROJECTS) {
    const { id: projectId } = await db
      .insertInto("project")
      .values({ tenant_id: tenantId, name: project.name, description: project.description })
      .returning("id")
      .executeTakeFirstOrThrow();
    projectIds.push(projectId);
    await db
      .insertInto("app")
      .values(project.apps.map(([name, platform]) => ({ tenant_id: tenantId, project_id: projectId, name, platform })))
      .execute();
    await addParticipants(db, tenantId, projectId, participantsPerProject);
    await createStudy(db, tenantId, projectId, `${project.name.split(" ")[0]}-2025`);
  }
  await createIntegrations(db, tenantId, projectIds, seal);
}

const FIRST_NAMES = ["Ada", "Bruno", "Chiara", "Dmitri", "Elif", "Farid", "Greta", "Hiro", "Ines", "Jonas", "Keziah", "Luis"];
const LAST_NAMES = ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Novak", "Haddad", "Silva", "Kowalski", "Brennan", "Ivanova"];

/**
 * Participants P-0001… of a project with fake identifying fields: names from
 * short lists, p0042@example.test, a birth date, a note on some and a wearable serial.
 */
async function addParticipants(db: DB, tenantId: string, projectId: string, count: number) {
  await sql`
    insert into participant (tenant_id, project_id, external_id, enrolled_at, name, email, date_of_birth, notes, device_serial)
    select ${tenantId}, ${projectId}, 'P-' || lpad(i::text, 4, '0'), now() - (interval '1 day' * (400 + i * 7 % 300)),
      (${FIRST_NAMES}::text[])[1 + i % ${FIRST_NAMES.length}] || ' ' || (${LAST_NAMES}::text[])[1 + (i * 7) % ${LAST_NAMES.length}],
      'p' || lpad(i::text, 4, '0') || '@example.test',
      date '1950-01-01' + (i * 397 % 18000),
      case when i % 3 = 0 then 'Prefers morning visits; call ' || (${FIRST_NAMES}::text[])[1 + i % ${FIRST_NAMES.length}] || ' before 10.' end,
      'WR-' || upper(substr(md5(${projectId}::text || i::text), 1, 10))
    from generate_series(1, ${count}) i`.execute(db);
}

/** A study of the project with two cohorts: odd- and even-numbered participants. */
async function createStudy(db: DB, tenantId: string, projectId: string, name: string) {
  const { id: studyId } = await db.insertInto("study").values({ tenant_id: tenantId, project_id: projectId, name }).returning("id").executeTakeFirstOrThrow();
  for (const [cohort, parity] of [["Cohort A", 1], ["Cohort B", 0]] as const) {
    const { id: cohortId } = await db.insertInto("cohort").values({ tenant_id: tenantId, study_id: studyId, name: cohort }).returning("id").executeTakeFirstOrThrow();
    await sql`
      insert into cohort_member (tenant_id, cohort_id, participant_id, enrolled_at)
      select tenant_id, ${cohortId}, id, enrolled_at from participant
      where project_id = ${projectId} and substr(external_id, 3)::int % 2 = ${parity}`.execute(db);
  }
}

/**
 * Adds `rows` HSI records to a tenant: heart rate, steps, SpO2 and sleep stages
 * from random participants and apps of the same project over the last two years.
 */
export async function addHsiRecords(db: DB, tenantId: string, rows: number) {
  if (rows <= 0) return;
  await sql`
    with parts as (select id, project_id, row_number() over (order by id)::int as k from participant where tenant_id = ${tenantId}),
    total as (select count(*)::int as n from parts),
    apps as (select project_id, array_agg(id order by id) as ids from app where tenant_id = ${tenantId} group by project_id),
    picks as (
      select 1 + floor(random() * total.n)::int as k, floor(random() * 4)::int as m, random() as r,
             now() - random() * interval '730 days' as at
      from total, generate_series(1, ${rows})
    )
    insert into hsi_record (tenant_id, project_id, app_id, participant_id, recorded_at, metric, value, unit, payload)
    select ${tenantId}, parts.project_id, apps.ids[1 + floor(random() * array_length(apps.ids, 1))::int], parts.id, at,
      (array['heart_rate', 'steps', 'spo2', 'sleep_stage'])[m + 1],
      case m when 0 then round((52 + r * 70)::numeric, 1) when 1 then floor(r * 1800)
             when 2 then round((91 + r * 9)::numeric, 1) else 5 + floor(r * 85) end,
      (array['bpm', 'count', '%', 'min'])[m + 1],
      case m
        when 0 then jsonb_build_object('context', case when r > 0.6 then 'active' else 'rest' end, 'confidence', round((0.8 + r * 0.2)::numeric, 2))
        when 1 then jsonb_build_object('interval_min', 15, 'source', 'accelerometer')
        when 2 then jsonb_build_object('confidence', round((0.85 + r * 0.15)::numeric, 2), 'perfusion_index', round((r * 5)::numeric, 2))
        else jsonb_build_object('stage', (array['awake', 'light', 'deep', 'rem'])[1 + floor(r * 4)::int], 'device', jsonb_build_object('firmware', '2.4.' || floor(r * 9)::int))
      end
    from picks
    join parts using (k)
    join apps on apps.project_id = parts.project_id`.execute(db);
}

/** Adds `rows` lab results (LOINC codes, units, reference ranges) to a tenant. */
export async function addLabResults(db: DB, tenantId: string, rows: number) {
  if (rows <= 0) return;
  await sql`
    with tests (i, code, name, unit, low, high) as (values
      (0, '2345-7', 'Glucose [Mass/volume] in Serum or Plasma', 'mg/dL', 70.0, 99.0),
      (1, '2093-3', 'Cholesterol [Mass/volume] in Serum or Plasma', 'mg/dL', 125.0, 200.0),
      (2, '718-7', 'Hemoglobin [Mass/volume] in Blood', 'g/dL', 12.0, 17.5),
      (3, '4548-4', 'Hemoglobin A1c/Hemoglobin.total in Blood', '%', 4.0, 5.6),
      (4, '2160-0', 'Creatinine [Mass/volume] in Serum or Plasma', 'mg/dL', 0.6, 1.3),
      (5, '6690-2', 'Leukocytes [#/volume] in Blood', '10*3/uL', 4.5, 11.0)
    ),
    parts as (select id, project_id, row_number() over (order by id)::int as k from participant where tenant_id = ${tenantId}),
    total as (select count(*)::int as n from parts),
    apps as (select project_id, array_agg(id order by id) as ids from app where tenant_id = ${tenantId} group by project_id),
    picks as (
      select 1 + floor(random() * total.n)::int as k, floor(random() * 6)::int as t, random() as r,
             now() - random() * interval '730 days' as at
      from total, generate_series(1, ${rows})
    )
    insert into lab_result (tenant_id, project_id, app_id, participant_id, collected_at, test_code, test_name, value, unit, reference_low, reference_high, payload)
    select ${tenantId}, parts.project_id, apps.ids[1], parts.id, at, tests.code, tests.name,
      round((tests.low + (r * 1.4 - 0.2) * (tests.high - tests.low))::numeric, 2), tests.unit, tests.low, tests.high,
      jsonb_build_object('specimen', case when tests.unit = '%' or tests.code in ('718-7', '6690-2') then 'blood' else 'serum' end,
                         'fasting', r > 0.5, 'lab', jsonb_build_object('name', 'Northside Clinical Lab', 'accession', 'A' || (100000 + floor(r * 899999))::int))
    from picks
    join tests on tests.i = picks.t
    join parts using (k)
    join apps on apps.project_id = parts.project_id`.execute(db);
}

/**
 * Runs bulk inserts of generated rows. They are consistent by construction,
 * so a superuser (the embedded database's) skips the per-row foreign-key
 * triggers, which otherwise take most of the time.
 */
export async function bulkInsert(db: DB, insert: (trx: DB) => Promise<void>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ rolsuper: boolean }>`select rolsuper from pg_roles where rolname = current_user`.execute(trx);
    if (rows[0]?.rolsuper) await sql`set local session_replication_role = replica`.execute(trx);
    await insert(trx);
  });
  await sql`analyze hsi_record, lab_result`.execute(db);
}

/** Rows per seeded tenant, by the tenants' shares. */
export async function addDemoData(db: DB, options: SeedOptions) {
  await bulkInsert(db, (trx) => addRows(trx, options));
}

async function addRows(db: DB, { hsiRows, labRows }: SeedOptions) {
  const tenants = await db
    .selectFrom("tenant")
    .innerJoin("organization", "organization.id", "tenant.organization_id")
    .select(["tenant.id", "tenant.slug", "organization.slug as orgSlug"])
    .execute();
  for (const t of tenants) {
    const share = TENANT_SHARE[`${t.orgSlug}/${t.slug}`] ?? 0;
    await addHsiRecords(db, t.id, Math.round(hsiRows * share));
    await addLabResults(db, t.id, Math.round(labRows * share));
  }
}

/** Who can sign in to the demo, all with DEMO_PASSWORD. */
export const DEMO_ACCOUNTS: DemoAccount[] = [
  { email: "owner@acme.test", name: "Olivia Owner", role: "Acme Health owner" },
  { email: "admin@acme.test", name: "Adam Admin", role: "Acme Health admin" },
  ...["Production", "Staging"].flatMap((tenant) =>
    TENANT_ROLES.map((role) => ({
      email: `${tenant.toLowerCase()}-${role}@acme.test`,
      name: `${tenant} ${role[0].toUpperCase()}${role.slice(1)}`,
      role: `${tenant} ${role}`,
    })),
  ),
  { email: "owner@globex.test", name: "Grace Globex", role: "Globex Research owner" },
];

/** The demo organizations, tenants, projects, users (DEMO_ACCOUNTS) and data. */
export async function seedDemo(db: DB, options: SeedOptions & { seal: SealCredential }): Promise<void> {
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  const userIds = new Map<string, string>();
  for (const account of DEMO_ACCOUNTS) userIds.set(account.email, await createUser(db, account.email, account.name, passwordHash));
  const user = (email: string) => userIds.get(email)!;

  const acme = await createOrg(db, "Acme Health", DEMO_ORG_SLUG);
  await addOrgMember(db, acme, user("owner@acme.test"), "owner");
  await addOrgMember(db, acme, user("admin@acme.test"), "admin");
  for (const [name, slug] of [["Production", "production"], ["Staging", "staging"]] as const) {
    const tenantId = await createTenant(db, acme, name, slug);
    await createProjects(db, tenantId, slug === "production" ? 60 : 20, options.seal);
    for (const role of TENANT_ROLES) {
      const userId = user(`${slug}-${role}@acme.test`);
      await addOrgMember(db, acme, userId, "member");
      await db.insertInto("tenant_member").values({ tenant_id: tenantId, user_id: userId, role }).execute();
    }
    await createDashboards(db, tenantId, user(`${slug}-admin@acme.test`));
  }

  // A second organization, so isolation between organizations is visible and testable.
  const globex = await createOrg(db, "Globex Research", "globex");
  await addOrgMember(db, globex, user("owner@globex.test"), "owner");
  const globexMain = await createTenant(db, globex, "Main", "main");
  await createProjects(db, globexMain, 10, options.seal);
  await createDashboards(db, globexMain, user("owner@globex.test"));

  await addDemoData(db, options);
}
