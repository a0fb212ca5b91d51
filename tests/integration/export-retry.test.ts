import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import { addHsiRecords, bulkInsert } from "../../db/seed";
import { runExport } from "../../app/exports/engine/run.server";
import { createExport } from "../../app/exports/exports.server";
import { exportJob } from "../../app/exports/engine/queue.server";
import { exportRow, openArchive, runQueuedJobs } from "../setup/exports";
import { requesterFor } from "../setup/routes";

type Requester = Awaited<ReturnType<typeof requesterFor>>;
let requester: Requester;

/** Kills the export's database connection mid-COPY, as a failover or restart would. */
async function dropExportConnection(exportId: string) {
  await expect.poll(async () => Number((await exportRow(exportId)).rows_done), { timeout: 20_000, interval: 50 }).toBeGreaterThan(0);
  const { rows } = await sql<{ n: number }>`
    select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
    where application_name = 'exportal-export' and datname = current_database()`.execute(getDb());
  expect(rows[0].n).toBeGreaterThan(0);
}


beforeAll(async () => {
  requester = await requesterFor("staging-editor@acme.test", "staging");
  await bulkInsert(getDb(), (trx) => addHsiRecords(trx, requester.tenantId, 250_000));
}, 60_000);

describe("transient database errors", () => {
  it("are retried by the worker, and the retry completes the export", { timeout: 60_000 }, async () => {
    const exp = await createExport(getDb(), requester, { dataTypes: ["hsi_records"], format: "both" });
    const firstAttempt = runQueuedJobs();
    await dropExportConnection(exp.id);
    await firstAttempt;

    const between = await exportRow(exp.id);
    expect(between.status).toBe("running");
    expect(between.error).toBeNull();
    expect(between.archive_key).toBeNull();
    const job = await exportJob(getDb(), exp.id);
    expect(job.attempts).toBe(1);
    expect(job.last_error).toMatch(/terminat/);

    await new Promise((r) => setTimeout(r, Math.max(0, job.run_at.getTime() - Date.now()) + 200));
    await runQueuedJobs();
    const done = await exportRow(exp.id);
    expect(done.status).toBe("done");
    const manifest = JSON.parse((await openArchive(exp.id)).get("manifest.json")!.toString());
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from hsi_record where tenant_id = ${requester.tenantId}`.execute(getDb());
    expect(manifest.files.map((f: { rows: number }) => f.rows)).toEqual([rows[0].n, rows[0].n]);
  });

  it("on the last attempt end the export Failed with a message to try again later", { timeout: 60_000 }, async () => {
    const exp = await createExport(getDb(), requester, { dataTypes: ["hsi_records"], format: "both" });
    const lastAttempt = runExport(exp.id, { mayRetry: false });
    await dropExportConnection(exp.id);
    await lastAttempt;
    const failed = await exportRow(exp.id);
    expect(failed.status).toBe("failed");
    expect(failed.error).toBe("The database was unavailable while the export ran, and retries did not help. Try again in a few minutes.");
    await runQueuedJobs(); // its queued job finds the export final and does nothing
    expect((await exportRow(exp.id)).status).toBe("failed");
  });
});
