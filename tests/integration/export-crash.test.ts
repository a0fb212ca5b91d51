import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import { addHsiRecords, bulkInsert } from "../../db/seed";
import * as download from "../../app/routes/o.$org.t.$tenant.exports.$id.download";
import { recoverStalledExports } from "../../app/exports/engine/recovery.server";
import { createExport } from "../../app/exports/exports.server";
import { exportRow, openArchive, runQueuedJobs } from "../setup/exports";
import { makeRequest, requesterFor, signIn } from "../setup/routes";

describe("a worker killed mid-export", () => {
  it("leaves nothing published, and the export completes correctly once recovered", { timeout: 90_000 }, async () => {
    const db = getDb();
    const requester = await requesterFor("staging-editor@acme.test", "staging");
    await bulkInsert(db, (trx) => addHsiRecords(trx, requester.tenantId, 250_000));
    const exp = await createExport(db, requester, { format: "both" });

    // A real worker process, as `npm run worker` starts it.
    const worker = spawn(process.execPath, ["--import", "tsx", "worker/cli.ts"], { env: process.env, stdio: "ignore" });
    const exited = new Promise((resolve) => worker.once("exit", resolve));
    await expect.poll(async () => Number((await exportRow(exp.id)).rows_done), { timeout: 30_000, interval: 100 }).toBeGreaterThan(0);
    worker.kill("SIGKILL");
    await exited;

    const orphan = await exportRow(exp.id);
    expect(orphan.status).toBe("running");
    expect(orphan.archive_key).toBeNull();
    const archiveDir = path.join(process.env.EXPORTAL_DATA_DIR!, "archives", "exports", requester.tenantId);
    expect(readdirSync(archiveDir).filter((f) => f.endsWith(".zip"))).toEqual([]);
    const cookie = await signIn("staging-editor@acme.test");
    const res = await download.loader({
      request: makeRequest(`/o/acme-health/t/staging/exports/${exp.id}/download`, { cookie }),
      params: { org: "acme-health", tenant: "staging", id: exp.id },
      context: {},
    });
    expect(res.status).toBe(409);

    // The killed run's unfinished file is there, but under a name nothing serves.
    expect(readdirSync(archiveDir).filter((f) => f.includes(".partial-"))).toHaveLength(1);

    // Not stalled yet by the heartbeat's measure; a minute later it is.
    expect(await recoverStalledExports(db)).toEqual([]);
    expect(await recoverStalledExports(db, new Date(Date.now() + 61_000))).toEqual([exp.id]);
    expect(readdirSync(archiveDir)).toEqual([]);
    await runQueuedJobs();

    const done = await exportRow(exp.id);
    expect(done.status).toBe("done");
    const files = await openArchive(exp.id);
    const manifest = JSON.parse(files.get("manifest.json")!.toString());
    const counts = await sql<{ hsi: number; lab: number }>`
      select (select count(*)::int from hsi_record where tenant_id = ${requester.tenantId}) as hsi,
             (select count(*)::int from lab_result where tenant_id = ${requester.tenantId}) as lab`.execute(db);
    const { hsi, lab } = counts.rows[0];
    expect(manifest.files.map((f: { name: string; rows: number }) => [f.name, f.rows])).toEqual([
      ["hsi_records.ndjson", hsi], ["hsi_records.csv", hsi], ["lab_results.ndjson", lab], ["lab_results.csv", lab],
    ]);
    expect(files.get("hsi_records.ndjson")!.toString().trim().split("\n").length).toBe(hsi);
    expect(readdirSync(archiveDir).filter((f) => f.endsWith(".zip"))).toEqual([path.basename(done.archive_key!)]);
  });
});
