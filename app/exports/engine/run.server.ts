import { randomUUID } from "node:crypto";
import { getDb, type DB } from "../../../db/client";
import { ACTIVE_EXPORT_STATUSES, type Export } from "../../../db/schema";
import { recordExportEvent, SYSTEM } from "../../audit/audit.server";
import { leaseConfig, retentionConfig } from "../../lib/config.server";
import { writeArchive } from "./archive.server";
import { ExportFailure } from "./export-failure.server";
import { holdLease } from "./lease.server";
import { getStorage, StorageFailure } from "./storage.server";
import { enqueueRunAdvance } from "../../schedules/run-jobs.server";


/** The export was cancelled, or handed to another run, while this one ran. */
class ExportCancelled extends Error {}

/** Connection losses, shutdowns, serialization failures and deadlocks pass; the job is retried. */
export function isTransient(error: unknown): boolean {
  // Object storage that could not be reached, or answered with a server error, may be back on the next attempt.
  if (error instanceof StorageFailure) return isTransient(error.cause) || ((error.cause as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode ?? 0) >= 500;
  const code = (error as { code?: string })?.code ?? "";
  // node-postgres reports a socket closed under it (before the server's message arrived) without a code, and so
  // does a later query on that client, depending on which of the two the run was in when the socket went.
  const dropped = /^(Connection terminated|Client has encountered a connection error and is not queryable)/.test((error as Error)?.message ?? "");
  return dropped || code.startsWith("08") || ["57P01", "57P02", "57P03", "40001", "40P01", "53300", "ECONNREFUSED", "ECONNRESET"].includes(code);
}

export interface RunOptions {
  /** False on the job's last attempt: a transient error then fails the export instead of retrying. */
  mayRetry: boolean;
}

/** Takes a pending or running export for this run; undefined when it is no longer to run (cancelled, done). */
function claim(db: DB, exportId: string, runId: string) {
  return db
    .updateTable("export")
    .set({ status: "running", run_id: runId, started_at: new Date(), heartbeat_at: new Date(), rows_done: 0, error: null })
    .where("id", "=", exportId)
    .where("status", "in", ACTIVE_EXPORT_STATUSES)
    .returningAll()
    .executeTakeFirst();
}

/** The update that only the run owning a still-running export may make. */
function ownRun(db: DB, exp: Export) {
  return db.updateTable("export").where("id", "=", exp.id).where("status", "=", "running").where("run_id", "=", exp.run_id);
}

/** Moves the heartbeat of an export this run still owns; false once it no longer does. */
async function renewLease(db: DB, exp: Export): Promise<boolean> {
  return !!(await ownRun(db, exp).set({ heartbeat_at: new Date() }).returning("id").executeTakeFirst());
}

/**
 * Progress and heartbeat, about once a second. A cancelled export stops
 * here, and so does a run whose export was handed to another worker.
 */
function progressOf(db: DB, exp: Export) {
  return async (rowsDone: number, rowsExpected: number) => {
    const updated = await ownRun(db, exp)
      .set({ rows_done: rowsDone, rows_expected: rowsExpected, heartbeat_at: new Date() })
      .returning("id")
      .executeTakeFirst();
    if (!updated) throw new ExportCancelled();
  };
}

/** Marks the export done with its archive; an archive whose export was cancelled meanwhile is no one's and goes. */
async function publish(db: DB, exp: Export, result: Awaited<ReturnType<typeof writeArchive>>): Promise<void> {
  const done = await ownRun(db, exp)
    .set({
      status: "done",
      rows_done: result.rowsDone,
      rows_expected: result.rowsDone,
      archive_key: result.key,
      archive_bytes: result.bytes,
      manifest: result.manifest,
      snapshot: result.snapshot,
      finished_at: new Date(),
      expires_at: new Date(Date.now() + retentionConfig().linkTtlMs),
    })
    .returningAll()
    .executeTakeFirst();
  if (done) await recordExportEvent(db, done, "done", SYSTEM, { rows: result.rowsDone, bytes: result.bytes });
  else await getStorage().remove(result.key);
  // A schedule run's export: the run takes its next step (next archive, or delivery).
  if (done?.schedule_run_id) await enqueueRunAdvance(db, done.schedule_run_id);
}

/** What the person who asked reads about a failure; details go to the log only. */
function failureMessage(error: unknown): string {
  if (error instanceof ExportFailure) return error.message;
  if (error instanceof StorageFailure) {
    return "The archive could not be uploaded to the archive storage (it could not be reached, or it refused the upload). Ask an administrator to check the archive storage, then try again.";
  }
  if (isTransient(error)) return "The database was unavailable while the export ran, and retries did not help. Try again in a few minutes.";
  if (["EACCES", "EPERM", "ENOSPC", "ENOTDIR", "EROFS"].includes((error as { code?: string })?.code ?? "")) {
    return "The archive could not be written to storage (no permission or no space left). Ask an administrator to check the archive storage, then try again.";
  }
  return "The export could not be completed because of an internal error. Try again; if it fails again, contact support.";
}

async function fail(db: DB, exp: Export, error: unknown): Promise<void> {
  const message = failureMessage(error);
  console.error(`export ${exp.id} failed:`, error);
  const failed = await ownRun(db, exp).set({ status: "failed", error: message, finished_at: new Date() }).returningAll().executeTakeFirst();
  if (failed) await recordExportEvent(db, failed, "failed", SYSTEM, { message });
  if (failed?.schedule_run_id) await enqueueRunAdvance(db, failed.schedule_run_id);
}

/**
 * Runs one export to the end: claims it, writes and publishes its archive and
 * marks it done, or records a failure a person can act on. An export that is
 * no longer pending or running (cancelled, done) is left alone, so a job that
 * runs twice does no harm. Transient database errors are thrown for
 * graphile-worker to retry while `mayRetry`.
 */
export async function runExport(exportId: string, { mayRetry }: RunOptions = { mayRetry: false }): Promise<void> {
  const db = getDb();
  const exp = await claim(db, exportId, randomUUID());
  if (!exp) return;
  // From claim to publish: progress ticks alone leave gaps longer than the stale threshold.
  const lease = holdLease(() => renewLease(db, exp), leaseConfig().renewEveryMs, `export ${exp.id}`);
  try {
    await recordExportEvent(db, exp, "started", SYSTEM);
    await publish(db, exp, await writeArchive(exp, progressOf(db, exp)));
  } catch (error) {
    if (error instanceof ExportCancelled) return;
    if (isTransient(error) && mayRetry) throw error;
    await fail(db, exp, error);
  } finally {
    await lease.release();
  }
}
