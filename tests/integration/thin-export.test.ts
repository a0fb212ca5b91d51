import { createHash } from "node:crypto";
import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import * as exportsPage from "../../app/routes/o.$org.t.$tenant.exports._index";
import * as download from "../../app/routes/o.$org.t.$tenant.exports.$id.download";
import { exportJob } from "../../app/exports/engine/queue.server";
import { callRoute, makeRequest, signIn } from "../setup/routes";
import { exportRow, runQueuedJobs } from "../setup/exports";
import { readZip } from "../setup/zip";

const PROD = { org: "acme-health", tenant: "production" };
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

let editor: string;
beforeAll(async () => {
  editor = await signIn("production-editor@acme.test");
});

describe("the default export: tenant scope, HSI records and lab results, NDJSON", () => {
  it("goes from Pending through the worker to Done, and the archive holds exactly the tenant's rows", async () => {
    const created = await callRoute(exportsPage.action, makeRequest("/o/acme-health/t/production/exports", { cookie: editor, method: "POST" }), PROD);
    expect(created.status).toBe(201);
    const id: string = created.data.exportId;
    expect((await exportRow(id)).status).toBe("pending");
    // The job was enqueued in the same transaction as the export.
    const job = await exportJob(getDb(), id);
    expect(job).toMatchObject({ task_identifier: "export_run", attempts: 0 });

    await runQueuedJobs();

    const done = await exportRow(id);
    expect(done.status).toBe("done");
    expect(done.error).toBeNull();
    expect(done.started_at!.getTime()).toBeLessThanOrEqual(done.finished_at!.getTime());

    const { rows: source } = await sql<{ id: string; recorded_at: Date; value: number | null; payload: unknown; metric: string }>`
      select h.id::text, recorded_at, value, payload, metric from hsi_record h join tenant t on t.id = h.tenant_id
      where t.slug = 'production' order by recorded_at, h.id`.execute(getDb());
    expect(source.length).toBeGreaterThan(1000);
    const labs = await sql<{ n: number }>`select count(*)::int as n from lab_result l join tenant t on t.id = l.tenant_id where t.slug = 'production'`.execute(getDb());
    expect(Number(done.rows_done)).toBe(source.length + labs.rows[0].n);

    // Download through the route, as the user would, and open the zip.
    const res = await download.loader({
      request: makeRequest(`/o/acme-health/t/production/exports/${id}/download`, { cookie: editor }),
      params: { ...PROD, id },
      context: {},
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Disposition")).toBe(`attachment; filename="export-${id}.zip"`);
    const zipBytes = Buffer.from(await res.arrayBuffer());
    expect(zipBytes.length).toBe(Number(done.archive_bytes));
    const entries = await readZip(zipBytes);
    expect([...entries.keys()].sort()).toEqual(["hsi_records.ndjson", "lab_results.ndjson", "manifest.json", "manifest.sig"]);

    const ndjson = entries.get("hsi_records.ndjson")!;
    const manifest = JSON.parse(entries.get("manifest.json")!.toString());
    expect(manifest.exportId).toBe(id);
    const labNdjson = entries.get("lab_results.ndjson")!;
    expect(manifest.files).toEqual([
      { name: "hsi_records.ndjson", dataType: "hsi_records", format: "ndjson", rows: source.length, bytes: ndjson.length, sha256: sha256(ndjson) },
      { name: "lab_results.ndjson", dataType: "lab_results", format: "ndjson", rows: labs.rows[0].n, bytes: labNdjson.length, sha256: sha256(labNdjson) },
    ]);
    expect(labNdjson.toString().trim().split("\n").length).toBe(labs.rows[0].n);
    expect(new Date(manifest.snapshotAt).toISOString()).toBe(manifest.snapshotAt);

    // The default is de-identified, whoever asks: the tenant's rows without their record ids, participants as
    // pseudonyms, times shifted, ordered by the shifted times.
    expect(done.deidentification).toBe("deidentified");
    expect(manifest.deidentification.profile).toBe("deidentified");
    const lines = ndjson.toString("utf8").split("\n");
    expect(lines.pop()).toBe("");
    const parsed = lines.map((l) => JSON.parse(l));
    expect(parsed.length).toBe(source.length);
    const content = (rows: { metric: string; value: number | null; payload: unknown }[]) => rows.map((r) => JSON.stringify([r.metric, r.value, r.payload])).sort();
    expect(content(parsed)).toEqual(content(source));
    const times = parsed.map((row) => new Date(row.recorded_at).getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const recorded = new Set(source.map((r) => r.recorded_at.getTime()));
    for (const row of parsed) {
      expect(row.recorded_at).toMatch(/\+00:00$/);
      expect(recorded.has(new Date(row.recorded_at).getTime())).toBe(false);
      expect(row.participant_id).toMatch(/^p_[0-9a-f]{24}$/);
    }
    expect(Object.keys(parsed[0]).sort()).toEqual(
      ["app_id", "metric", "participant_id", "payload", "project_id", "recorded_at", "unit", "value"],
    );

    // The list shows it done, with its size.
    const page = await callRoute(exportsPage.loader, makeRequest("/o/acme-health/t/production/exports", { cookie: editor }), PROD);
    const listed = page.data.exports.find((e: any) => e.id === id);
    expect(listed.status).toBe("done");
    expect(listed.requestedBy).toBe("Production Editor");
  });

  it("a viewer may not download, and an unfinished export has nothing to download", async () => {
    const created = await callRoute(exportsPage.action, makeRequest("/o/acme-health/t/production/exports", { cookie: editor, method: "POST" }), PROD);
    const id = created.data.exportId;
    const pending = await callRoute(download.loader, makeRequest(`/o/acme-health/t/production/exports/${id}/download`, { cookie: editor }), { ...PROD, id });
    expect(pending.status).toBe(409);

    const viewer = await signIn("production-viewer@acme.test");
    const denied = await callRoute(download.loader, makeRequest(`/o/acme-health/t/production/exports/${id}/download`, { cookie: viewer }), { ...PROD, id });
    expect(denied.status).toBe(403);
  });
});
