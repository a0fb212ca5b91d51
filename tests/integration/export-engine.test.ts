import { readdirSync } from "node:fs";
import path from "node:path";
import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import { addHsiRecords, bulkInsert } from "../../db/seed";
import { listExportEvents } from "../../app/audit/audit.server";
import { AppError } from "../../app/lib/errors";
import { runExport } from "../../app/exports/engine/run.server";
import { cancelExport, createExport } from "../../app/exports/exports.server";
import { parseCsv } from "../setup/csv";
import { exportRow, openArchive, runQueuedJobs } from "../setup/exports";
import { requesterFor } from "../setup/routes";
import { day } from "../setup/dates";

type Requester = Awaited<ReturnType<typeof requesterFor>>;
let prodEditor: Requester;
let prodAdmin: Requester;
let owner: Requester;
let stagingEditor: Requester;
let stagingAdmin: Requester;
let projects: { id: string; name: string; tenant: string }[];

const db = () => getDb();

async function appsOf(projectId: string) {
  return db().selectFrom("app").select(["id", "name"]).where("project_id", "=", projectId).orderBy("name").execute();
}

/** Ids of the source rows an export should hold, in export order, straight from the database. */
async function sourceIds(table: "hsi_record" | "lab_result", where: ReturnType<typeof sql>) {
  const time = table === "hsi_record" ? sql.ref("recorded_at") : sql.ref("collected_at");
  const { rows } = await sql<{ id: string }>`select id::text from ${sql.table(table)} where ${where} order by ${time}, id`.execute(db());
  return rows.map((r) => r.id);
}

function ndjsonIds(buffer: Buffer): string[] {
  return buffer.toString().trim().split("\n").filter(Boolean).map((l) => String(JSON.parse(l).id));
}

async function expectConflict(promise: Promise<unknown>) {
  await expect(promise).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringContaining("Another export is in progress") });
}

beforeAll(async () => {
  [prodEditor, prodAdmin, owner, stagingEditor, stagingAdmin] = await Promise.all([
    requesterFor("production-editor@acme.test", "production"),
    requesterFor("production-admin@acme.test", "production"),
    requesterFor("owner@acme.test", "production"),
    requesterFor("staging-editor@acme.test", "staging"),
    requesterFor("staging-admin@acme.test", "staging"),
  ]);
  projects = await db()
    .selectFrom("project as p")
    .innerJoin("tenant as t", "t.id", "p.tenant_id")
    .select(["p.id", "p.name", "t.slug as tenant"])
    .orderBy("p.name")
    .execute();
});

const project = (tenant: string, name: string) => projects.find((p) => p.tenant === tenant && p.name === name)!;

// Tests that compare exported rows with the database by record id export full data, which keeps the ids
// (de-identified files leave them out); only admins may.
describe("scopes", () => {
  it("a project export holds exactly that project's rows", async () => {
    const cardio = project("production", "Cardio Study");
    const exp = await createExport(db(), prodAdmin, { scope: { type: "project", projectId: cardio.id }, dataTypes: ["hsi_records", "lab_results"], deidentification: "full" });
    await runQueuedJobs();
    const files = await openArchive(exp.id);
    for (const [table, file] of [["hsi_record", "hsi_records.ndjson"], ["lab_result", "lab_results.ndjson"]] as const) {
      const expected = await sourceIds(table, sql`project_id = ${cardio.id}`);
      // The project has rows, and the tenant has rows outside it, so an export that ignored the scope would differ.
      expect(expected.length, table).toBeGreaterThan(0);
      expect((await sourceIds(table, sql`tenant_id = ${prodEditor.tenantId} and project_id <> ${cardio.id}`)).length, table).toBeGreaterThan(0);
      expect(ndjsonIds(files.get(file)!), file).toEqual(expected);
    }
  });

  it("an app export holds exactly the chosen apps' rows", async () => {
    const metabolic = project("production", "Metabolic Health");
    const [a, b] = await appsOf(metabolic.id);
    const exp = await createExport(db(), prodAdmin, { scope: { type: "app", projectId: metabolic.id, appIds: [a.id, b.id] }, dataTypes: ["hsi_records"], deidentification: "full" });
    await runQueuedJobs();
    const files = await openArchive(exp.id);
    const expected = await sourceIds("hsi_record", sql`app_id in (${a.id}, ${b.id})`);
    expect(expected.length).toBeGreaterThan(0);
    expect(ndjsonIds(files.get("hsi_records.ndjson")!)).toEqual(expected);
  });

  it("an organization export holds every tenant of the organization and nothing of another organization", async () => {
    const exp = await createExport(db(), owner, { scope: { type: "organization" }, dataTypes: ["hsi_records"], deidentification: "full" });
    await runQueuedJobs();
    const files = await openArchive(exp.id);
    const expected = await sourceIds(
      "hsi_record",
      sql`tenant_id in (select t.id from tenant t join organization o on o.id = t.organization_id where o.slug = 'acme-health')`,
    );
    expect(ndjsonIds(files.get("hsi_records.ndjson")!)).toEqual(expected);
    const tenants = await sql<{ n: number }>`select count(distinct tenant_id)::int as n from hsi_record where id = any(${expected.map(Number)}::bigint[])`.execute(db());
    expect(tenants.rows[0].n).toBe(2);
  });

  it("a study cohort export holds exactly its participants' rows, and a participant export only that participant's", async () => {
    const sleep = project("production", "Sleep Lab");
    const study = await db().selectFrom("study").select(["id", "name"]).where("project_id", "=", sleep.id).executeTakeFirstOrThrow();
    const cohort = await db().selectFrom("cohort").select("id").where("study_id", "=", study.id).where("name", "=", "Cohort A").executeTakeFirstOrThrow();
    const members = await db().selectFrom("cohort_member").select("participant_id").where("cohort_id", "=", cohort.id).execute();
    expect(members.length).toBeGreaterThan(10);

    // Identifiers removed keeps ids, dates and their order as recorded; the default (de-identified) shifts them.
    const cohortExport = await createExport(db(), prodEditor, {
      scope: { type: "study", studyId: study.id, cohortId: cohort.id },
      deidentification: "identifiers_removed",
    });
    await runQueuedJobs();
    const files = await openArchive(cohortExport.id);
    const inCohort = sql`participant_id in (select participant_id from cohort_member where cohort_id = ${cohort.id})`;
    const expected = await sourceIds("hsi_record", inCohort);
    expect(expected.length).toBeGreaterThan(0);
    expect(ndjsonIds(files.get("hsi_records.ndjson")!)).toEqual(expected);
    expect(ndjsonIds(files.get("lab_results.ndjson")!)).toEqual(await sourceIds("lab_result", inCohort));

    // A member with HSI and lab rows, so the single-participant export has something to get right.
    const { rows: [{ participant_id: one }] } = await sql<{ participant_id: string }>`
      select m.participant_id from cohort_member m where m.cohort_id = ${cohort.id}
        and exists (select 1 from hsi_record h where h.participant_id = m.participant_id)
        and exists (select 1 from lab_result l where l.participant_id = m.participant_id)
      order by m.participant_id limit 1`.execute(db());
    const single = await createExport(db(), prodEditor, {
      scope: { type: "study", studyId: study.id, cohortId: cohort.id, participantId: one },
      deidentification: "identifiers_removed",
    });
    await runQueuedJobs();
    const singleFiles = await openArchive(single.id);
    for (const [table, file] of [["hsi_record", "hsi_records.ndjson"], ["lab_result", "lab_results.ndjson"]] as const) {
      const expected = await sourceIds(table, sql`participant_id = ${one}`);
      expect(expected.length, table).toBeGreaterThan(0);
      expect(expected.length, table).toBeLessThan((await sourceIds(table, inCohort)).length);
      const rows = singleFiles.get(file)!.toString().trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
      expect(rows.map((r) => String(r.id)), file).toEqual(expected);
      expect(rows.filter((r) => r.participant_id !== one), file).toEqual([]);
    }
  });

  it("only organization owners and admins may export the organization; others get 403 and nothing is created", async () => {
    const before = await db().selectFrom("export").select((e) => e.fn.countAll<string>().as("n")).executeTakeFirstOrThrow();
    await expect(createExport(db(), prodAdmin, { scope: { type: "organization" } })).rejects.toMatchObject({ code: "FORBIDDEN", status: 403 });
    const after = await db().selectFrom("export").select((e) => e.fn.countAll<string>().as("n")).executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
  });
});

describe("validation names the field", () => {
  const cases: [string, () => Promise<unknown>, string, RegExp][] = [
    ["a project of another tenant", async () => createExport(db(), prodEditor, { scope: { type: "project", projectId: project("staging", "Sleep Lab").id } }), "scope.projectId", /not in this tenant/],
    ["a project id that is not an id", async () => createExport(db(), prodEditor, { scope: { type: "project", projectId: "'; drop table export; --" } }), "scope.projectId", /not in this tenant/],
    ["an app of another project", async () => {
      const sleep = project("production", "Sleep Lab");
      const [cardioApp] = await appsOf(project("production", "Cardio Study").id);
      return createExport(db(), prodEditor, { scope: { type: "app", projectId: sleep.id, appIds: [cardioApp.id] } });
    }, "scope.appIds", /not in that project/],
    ["an empty app list", async () => createExport(db(), prodEditor, { scope: { type: "app", projectId: project("production", "Sleep Lab").id, appIds: [] } }), "scope.appIds", /at least one app/],
    ["from after to", async () => createExport(db(), prodEditor, { dateRange: { from: day(-30), to: day(-60) } }), "dateRange.to", /must be after/],
    ["a date that is not a date", async () => createExport(db(), prodEditor, { dateRange: { from: "yesterday" } }), "dateRange.from", /YYYY-MM-DD/],
    ["an unknown data type", async () => createExport(db(), prodEditor, { dataTypes: ["hsi_records", "passwords"] as never }), "dataTypes.1", /Unknown data type "passwords"/],
    ["no data types", async () => createExport(db(), prodEditor, { dataTypes: [] }), "dataTypes", /at least one data type/],
    ["an unknown format", async () => createExport(db(), prodEditor, { format: "xml" as never }), "format", /any of ndjson, csv, parquet, xlsx/],
    ["an unknown format in a list", async () => createExport(db(), prodEditor, { format: ["csv", "xml"] as never }), "format", /any of ndjson, csv, parquet, xlsx/],
    ["an empty list of formats", async () => createExport(db(), prodEditor, { format: [] }), "format", /at least one format/],
    ["a study of another tenant", async () => {
      const study = await db().selectFrom("study").select("id").where("tenant_id", "=", stagingEditor.tenantId).executeTakeFirstOrThrow();
      return createExport(db(), prodEditor, { scope: { type: "study", studyId: study.id, cohortId: study.id } });
    }, "scope.studyId", /not in this tenant/],
    ["a cohort of another study", async () => {
      const [a, b] = await db().selectFrom("study").select("id").where("tenant_id", "=", prodEditor.tenantId).orderBy("name").limit(2).execute();
      const otherCohort = await db().selectFrom("cohort").select("id").where("study_id", "=", b.id).executeTakeFirstOrThrow();
      return createExport(db(), prodEditor, { scope: { type: "study", studyId: a.id, cohortId: otherCohort.id } });
    }, "scope.cohortId", /not part of the study/],
    ["a participant outside the cohort", async () => {
      const study = await db().selectFrom("study").select("id").where("tenant_id", "=", prodEditor.tenantId).executeTakeFirstOrThrow();
      const [a, b] = await db().selectFrom("cohort").select("id").where("study_id", "=", study.id).orderBy("name").execute();
      const outsider = await db().selectFrom("cohort_member").select("participant_id").where("cohort_id", "=", b.id).executeTakeFirstOrThrow();
      return createExport(db(), prodEditor, { scope: { type: "study", studyId: study.id, cohortId: a.id, participantId: outsider.participant_id } });
    }, "scope.participantId", /not enrolled in the cohort/],
    ["an unknown scope", async () => createExport(db(), prodEditor, { scope: { type: "galaxy" } as never }), "scope.type", /Choose a scope/],
  ];
  for (const [what, attempt, field, message] of cases) {
    it(what, async () => {
      const error = await attempt().then(() => null, (e) => e);
      expect(error).toBeInstanceOf(AppError);
      expect(error.status).toBe(400);
      expect(error.details.fieldErrors[field]).toMatch(message);
    });
  }
});

describe("date ranges", () => {
  it("include From and exclude To", async () => {
    const sleep = project("staging", "Sleep Lab");
    const [app] = await appsOf(sleep.id);
    const participant = await db().selectFrom("participant").select("id").where("project_id", "=", sleep.id).executeTakeFirstOrThrow();
    const at = (iso: string) => sql`insert into hsi_record (tenant_id, project_id, app_id, participant_id, recorded_at, metric, value, unit)
      select tenant_id, ${sleep.id}, ${app.id}, ${participant.id}, ${iso}::timestamptz, 'heart_rate', 60, 'bpm' from project where id = ${sleep.id}
      returning id::text`.execute(db()).then((r) => (r.rows[0] as { id: string }).id);
    // Days after everything seeded, so only these rows fall near the range.
    const [from, to] = [day(400), day(408)];
    const before = await at(new Date(Date.parse(`${from}T00:00:00Z`) - 1).toISOString());
    const atFrom = await at(`${from}T00:00:00Z`);
    const inside = await at(`${day(403)}T12:00:00Z`);
    const atTo = await at(`${to}T00:00:00Z`);
    const exp = await createExport(db(), stagingAdmin, {
      scope: { type: "project", projectId: sleep.id },
      dataTypes: ["hsi_records"],
      dateRange: { from, to },
      deidentification: "full",
    });
    expect(exp.filters).toEqual({ from: `${from}T00:00:00.000Z`, to: `${to}T00:00:00.000Z` });
    await runQueuedJobs();
    const ids = ndjsonIds((await openArchive(exp.id)).get("hsi_records.ndjson")!);
    expect(ids).toEqual([atFrom, inside]);
    expect(ids).not.toContain(before);
    expect(ids).not.toContain(atTo);
  });

  it("a preset resolves to dates when the export is requested, and the manifest records both", async () => {
    // The seed spreads a few lab results over two years at random: make sure the last 30 days hold one.
    await sql`insert into lab_result (tenant_id, project_id, app_id, participant_id, collected_at, test_code, test_name, value, unit, reference_low, reference_high, payload)
              select tenant_id, project_id, app_id, participant_id, now() - interval '1 day', test_code, test_name, value, unit, reference_low, reference_high, payload
              from lab_result where tenant_id = ${stagingEditor.tenantId} limit 1`.execute(db());
    const exp = await createExport(db(), stagingEditor, { dataTypes: ["lab_results"], dateRange: { preset: "last_30_days" } });
    const from = new Date(exp.filters.from!).getTime();
    expect(Math.abs(from - (Date.now() - 30 * 86_400_000))).toBeLessThan(60_000);
    await runQueuedJobs();
    const manifest = JSON.parse((await openArchive(exp.id)).get("manifest.json")!.toString());
    expect(manifest.filters).toEqual({ preset: "last_30_days", from: exp.filters.from });
    const expected = await sourceIds("lab_result", sql`tenant_id = ${stagingEditor.tenantId} and collected_at >= ${exp.filters.from}::timestamptz`);
    expect(expected.length).toBeGreaterThan(0);
    expect(manifest.files[0].rows).toBe(expected.length);
  });
});

describe("CSV", () => {
  it("is RFC 4180 with a header, round-trips awkward text and neutralizes formulas", async () => {
    const cardio = project("production", "Cardio Study");
    const [app] = await appsOf(cardio.id);
    const participant = await db().selectFrom("participant").select("id").where("project_id", "=", cardio.id).executeTakeFirstOrThrow();
    const after = day(500); // after everything seeded: only these rows are in the range
    const nasty = [`=HYPERLINK("http://x","y")`, "+1+2", "-3", "@SUM(A1)", "\tlead", "\rlead", 'quote " and, comma\nnew line'];
    for (const metric of nasty) {
      await db().insertInto("hsi_record").values({
        tenant_id: prodEditor.tenantId, project_id: cardio.id, app_id: app.id, participant_id: participant.id,
        recorded_at: `${after}T00:00:00Z`, metric, value: -5.5, unit: "u", payload: { note: "=1+1", n: 2 },
      }).execute();
    }
    const exp = await createExport(db(), prodAdmin, {
      scope: { type: "project", projectId: cardio.id }, dataTypes: ["hsi_records"], format: "both", dateRange: { from: after }, deidentification: "full",
    });
    await runQueuedJobs();
    const files = await openArchive(exp.id);
    expect([...files.keys()].sort()).toEqual(["hsi_records.csv", "hsi_records.ndjson", "manifest.json", "manifest.sig"]);
    const rows = parseCsv(files.get("hsi_records.csv")!.toString());
    expect(rows[0]).toEqual(["id", "project_id", "app_id", "participant_id", "recorded_at", "metric", "value", "unit", "payload"]);
    const body = rows.slice(1);
    expect(body.map((r) => r[5]).sort()).toEqual(
      [`'=HYPERLINK("http://x","y")`, "'+1+2", "'-3", "'@SUM(A1)", "'\tlead", "'\rlead", 'quote " and, comma\nnew line'].sort(),
    );
    expect(body.every((r) => r[4] === `${after}T00:00:00.000000Z` && r[6] === "-5.5")).toBe(true);
    expect(JSON.parse(body[0][8])).toEqual({ n: 2, note: "=1+1" });
    // NDJSON keeps the text exactly as stored.
    const ndjson = files.get("hsi_records.ndjson")!.toString().trim().split("\n").map((l) => JSON.parse(l));
    expect(ndjson.map((r) => r.metric).sort()).toEqual([...nasty].sort());
    expect(ndjson[0].value).toBe(-5.5);
    const manifest = JSON.parse(files.get("manifest.json")!.toString());
    expect(manifest.files.map((f: { name: string; rows: number }) => [f.name, f.rows])).toEqual([
      ["hsi_records.ndjson", nasty.length],
      ["hsi_records.csv", nasty.length],
    ]);
  });
});

describe("one active export per project", () => {
  it("of 20 concurrent requests for one project exactly one is created; the others are told which export runs", async () => {
    const sleep = project("production", "Sleep Lab");
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => createExport(db(), prodEditor, { scope: { type: "project", projectId: sleep.id } })),
    );
    const created = results.filter((r) => r.status === "fulfilled");
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(created).toHaveLength(1);
    expect(refused).toHaveLength(19);
    const id = (created[0] as PromiseFulfilledResult<{ id: string }>).value.id;
    for (const r of refused) {
      expect(r.reason).toMatchObject({ code: "CONFLICT", status: 409, details: { exportId: id } });
      expect(r.reason.message).toContain(`Another export is in progress for project Sleep Lab (export ${id})`);
    }
    // A tenant export covers the busy project too; other projects stay free.
    await expectConflict(createExport(db(), prodEditor, {}));
    const free = await createExport(db(), prodEditor, { scope: { type: "project", projectId: project("production", "Cardio Study").id } });
    // Once the first is no longer active, the project is free again.
    await cancelExport(db(), prodEditor, id);
    await cancelExport(db(), prodEditor, free.id);
    await expect(createExport(db(), prodEditor, { scope: { type: "project", projectId: sleep.id } })).resolves.toMatchObject({ status: "pending" });
    await runQueuedJobs();
  });
});

describe("cancel", () => {
  it("a pending export cancelled before its job runs never runs", async () => {
    const exp = await createExport(db(), stagingEditor, { dataTypes: ["lab_results"] });
    await cancelExport(db(), stagingEditor, exp.id);
    await runQueuedJobs();
    const row = await exportRow(exp.id);
    expect(row.status).toBe("cancelled");
    expect(row.started_at).toBeNull();
    await expect(cancelExport(db(), stagingEditor, exp.id)).rejects.toMatchObject({ code: "CONFLICT" });
  });

  it("a running export stops within a couple of seconds and leaves no archive", { timeout: 60_000 }, async () => {
    await bulkInsert(db(), (trx) => addHsiRecords(trx, stagingEditor.tenantId, 200_000));
    const exp = await createExport(db(), stagingEditor, { dataTypes: ["hsi_records"], format: "both" });
    const running = runExport(exp.id);
    await expect.poll(async () => (await exportRow(exp.id)).status, { timeout: 10_000, interval: 50 }).toBe("running");
    await new Promise((r) => setTimeout(r, 300)); // well into the COPY
    const cancelledAt = Date.now();
    await cancelExport(db(), stagingEditor, exp.id);
    await running;
    expect(Date.now() - cancelledAt).toBeLessThan(2_500);
    const row = await exportRow(exp.id);
    expect(row.status).toBe("cancelled");
    expect(row.archive_key).toBeNull();
    // On local disk, no temporary file stays behind (S3's aborted upload: s3-storage.test.ts).
    if (!process.env.EXPORTAL_S3_BUCKET) {
      const dir = path.join(process.env.EXPORTAL_DATA_DIR!, "archives", "exports", stagingEditor.tenantId);
      expect(readdirSync(dir).filter((f) => f.startsWith(exp.id))).toEqual([]);
    }
    const events = (await listExportEvents(db(), stagingEditor.tenantId, exp.id)).map((e) => e.action);
    expect(events).toEqual(["export.requested", "export.started", "export.cancelled"]);
  });
});

describe("audit trail", () => {
  it("records who asked and what happened, and cannot be rewritten", async () => {
    const exp = await createExport(db(), stagingEditor, { dataTypes: ["lab_results"], format: "csv" });
    await runQueuedJobs();
    const events = await listExportEvents(db(), stagingEditor.tenantId, exp.id);
    expect(events.map((e) => [e.action, e.actor_label])).toEqual([
      ["export.requested", "Staging Editor"],
      ["export.started", "system"],
      ["export.done", "system"],
    ]);
    expect(events[0].details).toMatchObject({ dataTypes: ["lab_results"], formats: ["csv"], scope: { type: "tenant" } });
    await expect(sql`update audit_event set actor_label = 'someone else'`.execute(db())).rejects.toThrow(/append-only/);
    await expect(sql`delete from audit_event`.execute(db())).rejects.toThrow(/append-only/);
  });
});
