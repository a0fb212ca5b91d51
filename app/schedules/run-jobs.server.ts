import { sql } from "kysely";
import type { DB } from "../../db/client";

// The graphile-worker jobs that drive schedule runs (worker/tasks/schedule_*.ts).
// Kept apart and small: the export engine imports it to wake a run when one
// of its exports ends.

/** Backfill runs wait behind live runs (graphile-worker runs lower numbers first). */
export const BACKFILL_PRIORITY = 100;

/** How long a run whose export found a project busy (someone's export running) waits before trying again. */
export const CONFLICT_RETRY_MS = 30_000;

const priorityOf = (runId: string) =>
  sql`(select case when kind = 'backfill' then ${BACKFILL_PRIORITY} else 0 end from export_schedule_run where id = ${runId}::uuid)::smallint`;

/**
 * Queues the start of a run. A scheduled slot's job key is per schedule and
 * slot (`schedule:<id>:<slot ISO>`), so however many ticks see the slot, one
 * job runs it; other runs are keyed by their id.
 */
export async function enqueueRunStart(db: DB, runId: string, jobKey = `schedule_run:${runId}`): Promise<void> {
  await sql`select graphile_worker.add_job('schedule_run', json_build_object('runId', ${runId}::text),
    job_key := ${jobKey}, job_key_mode := 'preserve_run_at', max_attempts := 10, priority := ${priorityOf(runId)})`.execute(db);
}

/**
 * Wakes a run to take its next step (an export of it ended, or a busy project
 * may be free). One waiting job per run: a later call moves it (replace).
 */
export async function enqueueRunAdvance(db: DB, runId: string, delayMs = 0): Promise<void> {
  await sql`select graphile_worker.add_job('schedule_run_advance', json_build_object('runId', ${runId}::text),
    run_at := now() + ${`${delayMs} milliseconds`}::interval,
    job_key := ${`schedule_run_advance:${runId}`}, max_attempts := 10, priority := ${priorityOf(runId)})`.execute(db);
}
