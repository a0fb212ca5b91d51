import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import * as studiesPage from "../../app/routes/o.$org.t.$tenant.studies._index";
import * as studyPage from "../../app/routes/o.$org.t.$tenant.studies.$studyId._index";
import * as cohortPage from "../../app/routes/o.$org.t.$tenant.studies.$studyId.cohorts.$cohortId";
import { callRoute, makeRequest, signIn } from "../setup/routes";

const PROD = { org: "acme-health", tenant: "production" };
const base = "/o/acme-health/t/production/studies";
const db = () => getDb();

let viewer: string;
let editor: string;
let admin: string;
let sleep: { studyId: string; projectId: string; cohortA: string; cohortB: string };
let staging: { studyId: string; cohortId: string };

async function studyOf(tenant: string, project: string) {
  const study = await db()
    .selectFrom("study as s").innerJoin("project as p", "p.id", "s.project_id").innerJoin("tenant as t", "t.id", "s.tenant_id")
    .where("t.slug", "=", tenant).where("p.name", "=", project)
    .select(["s.id", "p.id as projectId"]).executeTakeFirstOrThrow();
  const cohorts = await db().selectFrom("cohort").select("id").where("study_id", "=", study.id).orderBy("name").execute();
  return { studyId: study.id, projectId: study.projectId, cohortA: cohorts[0].id, cohortB: cohorts[1].id };
}

const cohort = (cookie: string, query = "", ids = { studyId: sleep.studyId, cohortId: sleep.cohortA }, params = PROD) =>
  callRoute(cohortPage.loader, makeRequest(`/o/${params.org}/t/${params.tenant}/studies/${ids.studyId}/cohorts/${ids.cohortId}${query}`, { cookie }), { ...params, ...ids });

beforeAll(async () => {
  [viewer, editor, admin] = await Promise.all(["viewer", "editor", "admin"].map((r) => signIn(`production-${r}@acme.test`)));
  sleep = await studyOf("production", "Sleep Lab");
  const s = await studyOf("staging", "Sleep Lab");
  staging = { studyId: s.studyId, cohortId: s.cohortA };
});

describe("studies of a project", () => {
  it("groups studies by project and filters with ?project=", async () => {
    const all = await callRoute(studiesPage.loader, makeRequest(base, { cookie: viewer }), PROD);
    expect(all.status).toBe(200);
    expect(all.data.studies.map((s: any) => s.name)).toEqual(["Cardio-2025", "Metabolic-2025", "Sleep-2025"]);
    const one = await callRoute(studiesPage.loader, makeRequest(`${base}?project=${sleep.projectId}`, { cookie: viewer }), PROD);
    expect(one.data.studies.map((s: any) => s.name)).toEqual(["Sleep-2025"]);
    expect(one.data.projectId).toBe(sleep.projectId);
  });
});

describe("a study with its cohorts", () => {
  it("lists the cohorts with their sizes; export and profiles follow the role", async () => {
    const asViewer = await callRoute(studyPage.loader, makeRequest(`${base}/${sleep.studyId}`, { cookie: viewer }), { ...PROD, studyId: sleep.studyId });
    expect(asViewer.status).toBe(200);
    expect(asViewer.data.study).toMatchObject({ name: "Sleep-2025", projectName: "Sleep Lab" });
    expect(asViewer.data.study.cohorts).toEqual([
      { id: sleep.cohortA, name: "Cohort A", participants: 30 },
      { id: sleep.cohortB, name: "Cohort B", participants: 30 },
    ]);
    expect(asViewer.data.canExport).toBe(false);
    const asEditor = await callRoute(studyPage.loader, makeRequest(`${base}/${sleep.studyId}`, { cookie: editor }), { ...PROD, studyId: sleep.studyId });
    expect(asEditor.data.canExport).toBe(true);
    expect(asEditor.data.allowedProfiles).toEqual(["identifiers_removed", "deidentified"]);
    const asAdmin = await callRoute(studyPage.loader, makeRequest(`${base}/${sleep.studyId}`, { cookie: admin }), { ...PROD, studyId: sleep.studyId });
    expect(asAdmin.data.allowedProfiles).toEqual(["full", "identifiers_removed", "deidentified"]);
  });
});

describe("a cohort with its participants", () => {
  it("pages 25 at a time by participant id", async () => {
    const first = await cohort(viewer);
    expect(first.status).toBe(200);
    expect(first.data).toMatchObject({ page: 1, pages: 2, total: 30 });
    expect(first.data.participants.length).toBe(25);
    const ids = first.data.participants.map((p: any) => p.externalId);
    expect(ids).toEqual([...ids].sort());
    expect(ids[0]).toBe("P-0001");
    const second = await cohort(viewer, "?page=2");
    expect(second.data.participants.map((p: any) => p.externalId)).toEqual(["P-0051", "P-0053", "P-0055", "P-0057", "P-0059"]);
    // Past the last page, the last page (issue 11, item 12).
    const beyond = await cohort(viewer, "?page=9");
    expect(beyond.status).toBe(302);
    expect(beyond.headers.get("Location")).toMatch(/\?page=2$/);
    const nonsense = await cohort(viewer, "?page=-3");
    expect(nonsense.data.page).toBe(1);
  });

  it("searches by participant id, with an empty result when nothing matches", async () => {
    const found = await cohort(viewer, "?q=p-004");
    expect(found.data.participants.map((p: any) => p.externalId)).toEqual(["P-0041", "P-0043", "P-0045", "P-0047", "P-0049"]);
    expect(found.data).toMatchObject({ total: 5, pages: 1, q: "p-004" });
    const evenInA = await cohort(viewer, "?q=P-0042");
    expect(evenInA.data.participants).toEqual([]);
    expect(evenInA.data.total).toBe(0);
    const wildcard = await cohort(viewer, "?q=%25");
    expect(wildcard.data.participants).toEqual([]);
    // U+0000, which PostgreSQL refuses, is dropped rather than answered with a 500.
    const nul = await cohort(viewer, "?q=P-004%001");
    expect(nul.status).toBe(200);
    expect(nul.data.participants.map((p: any) => p.externalId)).toEqual(["P-0041"]);
  });

  it("shows identifying fields only to those allowed full data", async () => {
    for (const cookie of [viewer, editor]) {
      const res = await cohort(cookie, "?q=P-0001");
      expect(res.data.identifying).toBe(false);
      expect(Object.keys(res.data.participants[0]).sort()).toEqual(["enrolledAt", "externalId", "id"]);
      expect(JSON.stringify(res.data)).not.toContain("@example.test");
    }
    const res = await cohort(admin, "?q=P-0001");
    expect(res.data.identifying).toBe(true);
    expect(res.data.participants[0].identifying).toMatchObject({ email: "p0001@example.test", name: expect.any(String), dateOfBirth: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) });
  });
});

describe("ids from another tenant answer 404 exactly like unknown ids", () => {
  const unknown = "00000000-0000-4000-8000-000000000000";
  const cases: [string, () => Promise<number>][] = [
    ["another tenant's study", async () => (await callRoute(studyPage.loader, makeRequest(`${base}/${staging.studyId}`, { cookie: editor }), { ...PROD, studyId: staging.studyId })).status],
    ["an unknown study", async () => (await callRoute(studyPage.loader, makeRequest(`${base}/${unknown}`, { cookie: editor }), { ...PROD, studyId: unknown })).status],
    ["a study id that is not an id", async () => (await callRoute(studyPage.loader, makeRequest(`${base}/nope`, { cookie: editor }), { ...PROD, studyId: "nope" })).status],
    ["another tenant's cohort", async () => (await cohort(editor, "", staging)).status],
    ["another tenant's cohort under my study", async () => (await cohort(editor, "", { studyId: sleep.studyId, cohortId: staging.cohortId })).status],
    ["a cohort of another study", async () => {
      const cardio = await studyOf("production", "Cardio Study");
      return (await cohort(editor, "", { studyId: sleep.studyId, cohortId: cardio.cohortA })).status;
    }],
    ["an unknown cohort", async () => (await cohort(editor, "", { studyId: sleep.studyId, cohortId: unknown })).status],
    ["another tenant's cohort page, asked in its own tenant", async () =>
      (await cohort(editor, "", staging, { org: "acme-health", tenant: "staging" })).status],
  ];
  it.each(cases)("%s", async (_name, status) => {
    expect(await status()).toBe(404);
  });
});
