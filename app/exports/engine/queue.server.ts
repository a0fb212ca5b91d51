import { sql } from "kysely";
import type { DB } from "../../../db/client";

/** The job key of an export's run: one queued job per export, found again by recovery and tests. */
export const exportJobKey = (exportId: string) => `export_run:${exportId}`;

/**
 * Queues the export's run with graphile-worker, in the caller's transaction
 * so the export row and its job commit together.
 */
export async function enqueueExportRun(db: DB, exportId: string): Promise<void> {
  await sql`select graphile_worker.add_job('export_run', json_build_object('exportId', ${exportId}::text),
    max_attempts := 5, job_key := ${exportJobKey(exportId)})`.execute(db);
}

/** The export's queued job as graphile-worker's public view shows it, if any. */
export async function exportJob(db: DB, exportId: string) {
  const { rows } = await sql<{ task_identifier: string; attempts: number; last_error: string | null; run_at: Date; locked_by: string | null }>`
    select task_identifier, attempts, last_error, run_at, locked_by from graphile_worker.jobs where key = ${exportJobKey(exportId)}`.execute(db);
  return rows[0];
}
