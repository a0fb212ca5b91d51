import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import * as exportsPage from "../../app/routes/o.$org.t.$tenant.exports._index";
import * as exportPage from "../../app/routes/o.$org.t.$tenant.exports.$id";
import * as apiExportRoute from "../../app/routes/api.v1.exports.$id";
import { apiExport } from "../../app/api/schemas";
import { writeArchive } from "../../app/exports/engine/archive.server";
import { createExport } from "../../app/exports/exports.server";
import { callRoute, makeRequest, requesterFor, signIn } from "../setup/routes";
import { createKey } from "../setup/api";
import { exportRow, openArchive, runQueuedJobs } from "../setup/exports";

// Rows are records: an export in NDJSON and CSV holds each record twice, but
// progress, the list, the detail page and the API count it once.
const STAGING = { org: "acme-health", tenant: "staging" };
let requester: Awaited<ReturnType<typeof requesterFor>>;
let cookie: string;
let records: { hsi: number; lab: number };

beforeAll(async () => {
  requester = await requesterFor("staging-editor@acme.test", "staging");
  cookie = await signIn("staging-editor@acme.test");
  const counts = await sql<{ hsi: number; lab: number }>`
    select (select count(*)::int from hsi_record where tenant_id = ${requester.tenantId}) as hsi,
           (select count(*)::int from lab_result where tenant_id = ${requester.tenantId}) as lab`.execute(getDb());
  records = counts.rows[0];
});

describe("an export in both formats", () => {
  it("reports progress in records: each record counts once, whatever the number of formats", async () => {
    const exp = await createExport(getDb(), requester, { format: "both" });
    const claimed = await getDb().updateTable("export").set({ status: "running", run_id: crypto.randomUUID() }).where("id", "=", exp.id).returningAll().executeTakeFirstOrThrow();
    const ticks: [number, number][] = [];
    const result = await writeArchive(claimed, async (done, expected) => void ticks.push([done, expected]));
    await getDb().updateTable("export").set({ status: "cancelled" }).where("id", "=", exp.id).execute(); // frees the project
    const total = records.hsi + records.lab;
    expect(ticks[0]).toEqual([0, total]);
    for (const [done, expected] of ticks) {
      expect(expected).toBe(total);
      expect(done).toBeLessThanOrEqual(total);
    }
    expect(result.rowsDone).toBe(total);
    // The manifest still counts each file's own rows.
    expect(result.manifest.files.map((f) => [f.name, f.rows])).toEqual([
      ["hsi_records.ndjson", records.hsi], ["hsi_records.csv", records.hsi], ["lab_results.ndjson", records.lab], ["lab_results.csv", records.lab],
    ]);
  });

  it("says how many records it holds on the list, the detail page and in the API", async () => {
    const total = records.hsi + records.lab;
    const exp = await createExport(getDb(), requester, { format: "both" });
    await runQueuedJobs();
    const row = await exportRow(exp.id);
    expect(row.status).toBe("done");
    expect([Number(row.rows_done), Number(row.rows_expected)]).toEqual([total, total]);
    expect((await openArchive(exp.id)).size).toBe(6); // 4 data files, manifest.json and manifest.sig

    const list = await callRoute(exportsPage.loader, makeRequest("/o/acme-health/t/staging/exports", { cookie }), STAGING);
    expect(Number(list.data.exports.find((e: { id: string }) => e.id === exp.id).rows_done)).toBe(total);
    const detail = await callRoute(exportPage.loader, makeRequest(`/o/acme-health/t/staging/exports/${exp.id}`, { cookie }), { ...STAGING, id: exp.id });
    expect(Number(detail.data.exp.rows_done)).toBe(total);

    const key = await createKey("staging");
    const request = new Request(`http://localhost:3000/api/v1/exports/${exp.id}`, { headers: { Authorization: `Bearer ${key}` } });
    const res = await callRoute(apiExportRoute.loader, request, { id: exp.id });
    expect(res.status).toBe(200);
    const body = apiExport.parse(res.data);
    expect(body.rows).toBe(total);
    expect(body.progress).toEqual({ rowsDone: total, rowsExpected: total, percent: 100, estimatedSecondsLeft: null });
  });
});

describe("the estimated time left", () => {
  it("appears once a few seconds have run and some records are done, on the list, the detail page and in the API", async () => {
    const exp = await createExport(getDb(), requester, { dataTypes: ["lab_results"], format: "csv" });
    // A run that started 20 s ago and has done a fifth: about 80 s to go at its rate so far.
    await getDb().updateTable("export")
      .set({ status: "running", started_at: new Date(Date.now() - 20_000), heartbeat_at: new Date(), rows_done: 1000, rows_expected: 5000 })
      .where("id", "=", exp.id).execute();
    const list = await callRoute(exportsPage.loader, makeRequest("/o/acme-health/t/staging/exports", { cookie }), STAGING);
    const listed = list.data.exports.find((e: { id: string }) => e.id === exp.id);
    expect(listed.secondsLeft).toBeGreaterThanOrEqual(79);
    expect(listed.secondsLeft).toBeLessThanOrEqual(81);
    const detail = await callRoute(exportPage.loader, makeRequest(`/o/acme-health/t/staging/exports/${exp.id}`, { cookie }), { ...STAGING, id: exp.id });
    expect(detail.data.secondsLeft).toBeGreaterThanOrEqual(79);
    const key = await createKey("staging");
    const request = new Request(`http://localhost:3000/api/v1/exports/${exp.id}`, { headers: { Authorization: `Bearer ${key}` } });
    const body = apiExport.parse((await callRoute(apiExportRoute.loader, request, { id: exp.id })).data);
    expect(body.progress.estimatedSecondsLeft).toBeGreaterThanOrEqual(79);
    expect(body.progress.estimatedSecondsLeft).toBeLessThanOrEqual(81);

    // Just started: no estimate yet.
    await getDb().updateTable("export").set({ started_at: new Date(Date.now() - 2_000) }).where("id", "=", exp.id).execute();
    const early = await callRoute(exportsPage.loader, makeRequest("/o/acme-health/t/staging/exports", { cookie }), STAGING);
    expect(early.data.exports.find((e: { id: string }) => e.id === exp.id).secondsLeft).toBeNull();
    await getDb().updateTable("export").set({ status: "cancelled" }).where("id", "=", exp.id).execute();
  });
});
