import { randomUUID } from "node:crypto";
import type { DB } from "../../db/client";
import type { ExportScheduleRun, ScheduleRunVariant } from "../../db/schema";
import { recordEvent } from "../audit/audit.server";
import { authorize, type Requester } from "../auth/requester";
import { dateOrTime } from "../exports/export-request";
import { AppError } from "../lib/errors";
import { isUuid } from "../lib/ids";
import { utcInstant } from "../lib/dates";
import { invalid } from "../lib/validation";
import { assertTenantWritable } from "../tenants/archived.server";
import { BACKFILL_PRIORITY, enqueueRunStart } from "./run-jobs.server";
import { findSchedule } from "./schedules.server";
import { backfillSlots, intervalUntilNow, runInterval } from "./slots";

export { BACKFILL_PRIORITY };

/** At most this many runs in one backfill (a year of a daily schedule). */
export const MAX_BACKFILL_RUNS = 366;

const place = (requester: Requester) => ({ organization_id: requester.organizationId, tenant_id: requester.tenantId });

/** The requester's tenant's run with this id, or 404. */
async function findRun(db: DB, requester: Requester, runId: string): Promise<ExportScheduleRun> {
  const run = isUuid(runId)
    ? await db.selectFrom("export_schedule_run").selectAll().where("tenant_id", "=", requester.tenantId).where("id", "=", runId).executeTakeFirst()
    : undefined;
  if (!run) throw new AppError("NOT_FOUND", "No such run.");
  return run;
}

/** Runs a schedule now, outside its cadence, for the interval from its previous slot to now (data.exports.schedule). */
export async function runNow(db: DB, requester: Requester, scheduleId: string): Promise<ExportScheduleRun> {
  authorize(requester, "data.exports.schedule");
  await assertTenantWritable(db, requester.tenantId);
  const schedule = await findSchedule(db, requester, scheduleId);
  const now = new Date();
  const interval = intervalUntilNow(schedule.request, schedule.cadence, schedule.time_zone, now);
  return db.transaction().execute(async (trx) => {
    const run = await trx
      .insertInto("export_schedule_run")
      .values({ schedule_id: schedule.id, tenant_id: schedule.tenant_id, kind: "manual", slot_at: now, interval_from: interval.from, interval_to: interval.to })
      .returningAll()
      .executeTakeFirstOrThrow();
    await enqueueRunStart(trx, run.id);
    await recordEvent(trx, place(requester), "schedule.run_requested", { type: "schedule", id: schedule.id }, requester.actor, { runId: run.id, kind: run.kind });
    return run;
  });
}

/** Runs a failed run's slot again, as a new run of kind "retry" (data.exports.schedule). */
export async function retryRun(db: DB, requester: Requester, runId: string): Promise<ExportScheduleRun> {
  authorize(requester, "data.exports.schedule");
  await assertTenantWritable(db, requester.tenantId);
  const failed = await findRun(db, requester, runId);
  if (failed.status !== "failed") throw new AppError("CONFLICT", `This run is ${failed.status}; only a failed run can be retried.`);
  return db.transaction().execute(async (trx) => {
    const run = await trx
      .insertInto("export_schedule_run")
      .values({
        schedule_id: failed.schedule_id,
        tenant_id: failed.tenant_id,
        kind: "retry",
        slot_at: failed.slot_at,
        interval_from: failed.interval_from,
        interval_to: failed.interval_to,
        retry_of: failed.id,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await enqueueRunStart(trx, run.id);
    await recordEvent(trx, place(requester), "schedule.run_requested", { type: "schedule", id: failed.schedule_id }, requester.actor, { runId: run.id, kind: run.kind, retryOf: failed.id });
    return run;
  });
}

function instant(field: "from" | "to", value: unknown): Date {
  if (typeof value !== "string" || !dateOrTime.safeParse(value).success) throw invalid(field, "Enter a date as YYYY-MM-DD or an ISO 8601 date and time.");
  return utcInstant(value);
}

/**
 * Queues one run per period of the schedule's cadence that ends in (from, to]
 * (data.exports.schedule), each for its own slot and interval, sharing one
 * backfill id. They run one at a time, oldest first, at a lower priority than
 * live runs, so a backfill never holds back the schedule's own slots.
 */
export async function startBackfill(db: DB, requester: Requester, scheduleId: string, range: { from: string; to: string }): Promise<{ backfillId: string; runs: number }> {
  authorize(requester, "data.exports.schedule");
  await assertTenantWritable(db, requester.tenantId);
  const schedule = await findSchedule(db, requester, scheduleId);
  const from = instant("from", range?.from);
  const to = instant("to", range?.to);
  if (from >= to) throw invalid("to", "“To” must be after “From”.");
  if (to > new Date()) throw invalid("to", "A backfill covers past periods only: choose a “To” that is not in the future.");
  const slots = backfillSlots(schedule.cadence, schedule.time_zone, from, to, MAX_BACKFILL_RUNS);
  if (slots.length === 0) throw invalid("from", "No period of this schedule ends between “From” and “To”. Choose a longer range.");
  if (slots.length > MAX_BACKFILL_RUNS) throw invalid("to", `A backfill makes at most ${MAX_BACKFILL_RUNS} runs, and this range has more periods. Choose a shorter range.`);
  const backfillId = randomUUID();
  await db.transaction().execute(async (trx) => {
    const runs = await trx
      .insertInto("export_schedule_run")
      .values(
        slots.map((slot) => {
          const interval = runInterval(schedule.request, schedule.cadence, schedule.time_zone, slot);
          return { schedule_id: schedule.id, tenant_id: schedule.tenant_id, kind: "backfill" as const, slot_at: slot, interval_from: interval.from, interval_to: interval.to, backfill_id: backfillId };
        }),
      )
      .returning(["id", "slot_at"])
      .execute();
    // The oldest first; each run that ends starts the next (app/schedules/runner.server.ts).
    const first = runs.reduce((a, b) => (a.slot_at <= b.slot_at ? a : b));
    await enqueueRunStart(trx, first.id);
    await recordEvent(trx, place(requester), "schedule.backfill_started", { type: "schedule", id: schedule.id }, requester.actor, {
      backfillId,
      runs: runs.length,
      from: from.toISOString(),
      to: to.toISOString(),
    });
  });
  return { backfillId, runs: slots.length };
}

export interface RunExport {
  id: string;
  status: string;
  deidentification: string | null;
  /** What this archive holds; delivery gives it to the recipients whose variant key matches. */
  variant: ScheduleRunVariant;
  variantKey: string;
  /** The owner's own request, for the schedule's webhooks and buckets. */
  forTargets: boolean;
  rowsDone: number;
  rowsExpected: number | null;
}

/** One run with its exports (one per archive variant) and their statuses (data.exports.read); a backfill's progress too. */
export async function getRun(
  db: DB,
  requester: Requester,
  runId: string,
): Promise<ExportScheduleRun & { exports: RunExport[]; backfill: { runs: number; done: number; failed: number } | null }> {
  authorize(requester, "data.exports.read");
  const run = await findRun(db, requester, runId);
  const rows = await db
    .selectFrom("export_schedule_run_variant as v")
    .innerJoin("export as e", "e.id", "v.export_id")
    .where("v.run_id", "=", run.id)
    .select(["e.id", "e.status", "e.deidentification", "e.rows_done", "e.rows_expected", "v.variant", "v.variant_key", "v.for_targets"])
    .orderBy("v.position")
    .execute();
  const exports = rows.map((r) => ({
    id: r.id,
    status: r.status,
    deidentification: r.deidentification,
    variant: r.variant,
    variantKey: r.variant_key,
    forTargets: r.for_targets,
    rowsDone: Number(r.rows_done),
    rowsExpected: r.rows_expected === null ? null : Number(r.rows_expected),
  }));
  let backfill = null;
  if (run.backfill_id) {
    const counts = await db
      .selectFrom("export_schedule_run")
      .where("backfill_id", "=", run.backfill_id)
      .select((eb) => [
        eb.fn.countAll<string>().as("runs"),
        eb.fn.countAll<string>().filterWhere("status", "=", "done").as("done"),
        eb.fn.countAll<string>().filterWhere("status", "=", "failed").as("failed"),
      ])
      .executeTakeFirstOrThrow();
    backfill = { runs: Number(counts.runs), done: Number(counts.done), failed: Number(counts.failed) };
  }
  return { ...run, exports, backfill };
}
