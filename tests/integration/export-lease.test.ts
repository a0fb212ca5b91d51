import { readdirSync } from "node:fs";
import path from "node:path";
import { run } from "graphile-worker";
import { sql } from "kysely";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { databaseUrl, getDb } from "../../db/client";
import { listExportEvents } from "../../app/audit/audit.server";
import { recoverStalledExports } from "../../app/exports/engine/recovery.server";
import { runExport } from "../../app/exports/engine/run.server";
import { createExport } from "../../app/exports/exports.server";
import { quietLogger } from "../../worker/logger";
import { taskList } from "../../worker/index";
import { exportRow, openArchive, runQueuedJobs } from "../setup/exports";
import { requesterFor } from "../setup/routes";

// A one-second threshold, so a phase without progress outlasts it many times over within the test.
process.env.EXPORTAL_STALE_AFTER_SECONDS = "1";
const STALE_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Holds hsi_record locked from another connection until released, so an export's count(*) waits. */
async function lockHsiRecords() {
  const blocker = postgres(databaseUrl(), { max: 1, onnotice: () => {} });
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const holding = blocker.begin(async (tx) => {
    await tx`lock table hsi_record in access exclusive mode`;
    locked();
    await released;
  });
  await isLocked;
  const waiting = sql<{ n: number }>`select count(*)::int as n from pg_locks where relation = 'hsi_record'::regclass and not granted`;
  return {
    /** Resolves once a statement waits for the lock. */
    waitedOn: () => expect.poll(async () => (await waiting.execute(getDb())).rows[0].n, { timeout: 10_000, interval: 50 }).toBe(1),
    async release() {
      release();
      await holding.catch(() => {});
      await blocker.end();
    },
  };
}

describe("a live export's lease", () => {
  it("holds while its counting phase outlasts the stale threshold: recovery leaves it alone, a second worker cannot take it, and it finishes once", { timeout: 60_000 }, async () => {
    const db = getDb();
    const requester = await requesterFor("staging-editor@acme.test", "staging");
    const exp = await createExport(db, requester, { dataTypes: ["hsi_records"], format: "both" });

    // The test holds hsi_record locked, so the run's count(*) waits as a count over a huge table would:
    // no progress tick until it returns.
    const lock = await lockHsiRecords();
    const first = runQueuedJobs();
    // A second worker polls for jobs throughout, as another worker process would.
    const second = await run({ connectionString: databaseUrl(), taskList, concurrency: 1, pollInterval: 100, noHandleSignals: true, logger: quietLogger });
    try {
      await lock.waitedOn();
      const { run_id } = await exportRow(exp.id);
      expect(run_id).not.toBeNull();

      // Recovery runs every 100 ms for four thresholds while the count waits.
      const recovered: string[] = [];
      const until = Date.now() + 4 * STALE_MS;
      while (Date.now() < until) {
        recovered.push(...(await recoverStalledExports(db)));
        await sleep(100);
      }
      expect(recovered).toEqual([]);
      expect((await exportRow(exp.id)).run_id).toBe(run_id);

      await lock.release();
      await first;
      await expect.poll(async () => (await exportRow(exp.id)).status, { timeout: 20_000, interval: 100 }).toBe("done");
      const done = await exportRow(exp.id);
      expect(done.run_id).toBe(run_id);
      const actions = (await listExportEvents(db, requester.tenantId, exp.id)).map((e) => e.action);
      expect(actions).toEqual(["export.requested", "export.started", "export.done"]);
      const manifest = JSON.parse((await openArchive(exp.id)).get("manifest.json")!.toString());
      expect(manifest.files.map((f: { name: string }) => f.name)).toEqual(["hsi_records.ndjson", "hsi_records.csv"]);
      const archiveDir = path.join(process.env.EXPORTAL_DATA_DIR!, "archives", "exports", requester.tenantId);
      expect(readdirSync(archiveDir)).toEqual([path.basename(done.archive_key!)]);

      // Once published, the lease is let go: the heartbeat no longer moves.
      const beat = (await exportRow(exp.id)).heartbeat_at!.getTime();
      await sleep(500);
      expect((await exportRow(exp.id)).heartbeat_at!.getTime()).toBe(beat);
    } finally {
      await lock.release();
      await second.stop();
    }
  });

  it("is no longer renewed once the export was handed to another run, and that run's export is left alone", { timeout: 30_000 }, async () => {
    const db = getDb();
    const requester = await requesterFor("staging-editor@acme.test", "staging");
    const exp = await createExport(db, requester, { dataTypes: ["hsi_records"], format: "ndjson" });
    const lock = await lockHsiRecords();
    const running = runExport(exp.id);
    try {
      await lock.waitedOn();
      // Another run takes the export over while this one waits on its count.
      const takenAt = new Date(Date.now() - 100);
      await db.updateTable("export").set({ run_id: crypto.randomUUID(), heartbeat_at: takenAt }).where("id", "=", exp.id).execute();
      await sleep(600);
      expect((await exportRow(exp.id)).heartbeat_at!.getTime()).toBe(takenAt.getTime());
    } finally {
      await lock.release();
    }
    await running;
    const row = await exportRow(exp.id);
    expect([row.status, row.archive_key, row.heartbeat_at!.getTime() <= Date.now() - 100]).toEqual(["running", null, true]);
    await db.updateTable("export").set({ status: "cancelled" }).where("id", "=", exp.id).execute();
  });
});
