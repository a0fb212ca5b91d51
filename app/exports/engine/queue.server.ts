import { sql } from "kysely";
import type { DB } from "../../../db/client";

const JOB_KEY_PREFIX = "export_run:";

/** The job key of an export's run: one queued job per export, found again by recovery and tests. */
export const exportJobKey = (exportId: string) => `${JOB_KEY_PREFIX}${exportId}`;

/** The job key as SQL, of an export id column: for joining exports to their jobs. */
export const exportJobKeySql = (exportIdColumn: string) => sql<string>`${JOB_KEY_PREFIX} || ${sql.ref(exportIdColumn)}`;

// graphile-worker's priority is a smallint; ranks beyond this all wait alike.
const MAX_RANK = 1000;

/**
 * Queues the export's run with graphile-worker, in the caller's transaction
 * so the export row and its job commit together.
 *
 * Fair share between tenants: the job's priority (lower runs first) is its
 * rank in its tenant, how many of the tenant's exports created before it are
 * still pending or running. A tenant's first export therefore overtakes
 * another tenant's backlog and waits only for the jobs already running, while
 * a tenant alone still uses every worker slot. (Named queues per tenant
 * would also stop starvation, but run one export per tenant at a time even
 * when the other slots are idle, which is the usual case of one tenant.)
 */
export async function enqueueExportRun(db: DB, exportId: string): Promise<void> {
  await sql`select graphile_worker.add_job('export_run', json_build_object('exportId', ${exportId}::text),
    max_attempts := 5, job_key := ${exportJobKey(exportId)},
    priority := (select least(count(*), ${MAX_RANK})::smallint from export e, export me
      where me.id = ${exportId}::uuid and e.tenant_id = me.tenant_id and e.id <> me.id
        and e.status in ('pending', 'running') and e.created_at <= me.created_at))`.execute(db);
}

/** The export's queued job as graphile-worker's public view shows it, if any. */
export async function exportJob(db: DB, exportId: string) {
  const { rows } = await sql<{ task_identifier: string; attempts: number; last_error: string | null; run_at: Date; locked_by: string | null; priority: number }>`
    select task_identifier, attempts, last_error, run_at, locked_by, priority from graphile_worker.jobs where key = ${exportJobKey(exportId)}`.execute(db);
  return rows[0];
}
