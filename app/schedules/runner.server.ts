import type { DB } from "../../db/client";
import type { ExportSchedule, ExportScheduleRun, ScheduleRunVariant } from "../../db/schema";
import { recordEvent, SYSTEM } from "../audit/audit.server";
import { authorize } from "../auth/requester";
import { deliverRun, notifyRunFailed } from "../delivery/deliver-run.server";
import { scheduleTargets } from "../delivery/targets.server";
import { checkExportRequest, createExport } from "../exports/exports.server";
import type { ValidExportRequest } from "../exports/export-request";
import { formatsOf } from "../exports/formats";
import { AppError } from "../lib/errors";
import { nextSlot } from "./cadence";
import { recipientVariant, requesterForUser, variantKey } from "./owner-rights.server";
import { CONFLICT_RETRY_MS, enqueueRunAdvance, enqueueRunStart } from "./run-jobs.server";
import { latestSlot, runInterval } from "./slots";

/** Failed runs in a row that pause a schedule. */
export const FAILURES_BEFORE_PAUSE = 3;

const TICK_BATCH = 50;

/**
 * The slot driver (crontab, every minute): each active schedule whose next
 * slot is due gets one run, for its latest due slot, and its next slot moves
 * past now. The rows are claimed FOR UPDATE SKIP LOCKED, and the run row's
 * unique (schedule, slot) index and the job key per schedule and slot make a
 * slot run once however many workers tick at once. Returns the new runs' ids.
 */
export async function tick(db: DB, now = new Date()): Promise<string[]> {
  const created: string[] = [];
  for (;;) {
    const claimed = await db.transaction().execute(async (trx) => {
      const due = await trx
        .selectFrom("export_schedule")
        .selectAll()
        .where("status", "=", "active")
        .where("next_slot_at", "<=", now)
        .orderBy("next_slot_at")
        .limit(TICK_BATCH)
        .forUpdate()
        .skipLocked()
        .execute();
      for (const schedule of due) {
        const slot = latestSlot(schedule.cadence, schedule.time_zone, now) ?? schedule.next_slot_at!;
        const interval = runInterval(schedule.request, schedule.cadence, schedule.time_zone, slot);
        const run = await trx
          .insertInto("export_schedule_run")
          .values({ schedule_id: schedule.id, tenant_id: schedule.tenant_id, kind: "scheduled", slot_at: slot, interval_from: interval.from, interval_to: interval.to })
          .onConflict((oc) => oc.columns(["schedule_id", "slot_at"]).where("kind", "=", "scheduled").doNothing())
          .returning("id")
          .executeTakeFirst();
        if (run) {
          await enqueueRunStart(trx, run.id, `schedule:${schedule.id}:${slot.toISOString()}`);
          created.push(run.id);
        }
        await trx.updateTable("export_schedule").set({ next_slot_at: nextSlot(schedule.cadence, schedule.time_zone, now) }).where("id", "=", schedule.id).execute();
      }
      return due.length;
    });
    if (claimed < TICK_BATCH) return created;
  }
}

const place = (schedule: ExportSchedule) => ({ organization_id: schedule.organization_id, tenant_id: schedule.tenant_id });
const runDetails = (run: ExportScheduleRun) => ({ runId: run.id, kind: run.kind, slotAt: run.slot_at.toISOString() });

type Owner = NonNullable<Awaited<ReturnType<typeof requesterForUser>>>;

/**
 * The owner's rights now, checked against the request: the owner, or why the
 * schedule can no longer run as they set it up (the run fails and the
 * schedule pauses with that reason).
 */
async function ownerNow(db: DB, schedule: ExportSchedule): Promise<{ owner: Owner } | { reason: string }> {
  const user = schedule.owner_user_id ? await db.selectFrom("user").select("name").where("id", "=", schedule.owner_user_id).executeTakeFirst() : undefined;
  if (!user) return { reason: "The schedule's owner was deleted. Edit the schedule to make it yours, then resume it." };
  const owner = await requesterForUser(db, schedule.owner_user_id!, schedule.tenant_id);
  if (!owner) return { reason: `The schedule's owner ${user.name} is no longer a member of this tenant. Edit the schedule to make it yours, then resume it.` };
  try {
    authorize(owner, "data.exports.create");
    // The stored request passed these very checks when the schedule was saved; its date range is relative to each run.
    const { scope, dataTypes, format, deidentification } = schedule.request;
    await checkExportRequest(db, owner, { scope, dataTypes: dataTypes as ValidExportRequest["dataTypes"], format: formatsOf(format), deidentification, dateRange: {} });
    return { owner };
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return { reason: ownerReason(owner.name, error) };
  }
}

function ownerReason(name: string, error: AppError): string {
  const permission = error.details.permission;
  if (typeof permission === "string") return `The schedule's owner ${name} no longer has the permission ${permission}, which this schedule's export needs. Edit the schedule to make it yours, or restore their role, then resume it.`;
  return `The schedule's export can no longer be made with its owner ${name}'s rights: ${error.message}`;
}

/**
 * The archives a run builds: the owner's request as asked, for the
 * schedule's webhooks and buckets (or when it has no recipients), and each
 * recipient's variant by their rights now; each distinct one once.
 */
async function planVariants(db: DB, schedule: ExportSchedule): Promise<{ key: string; variant: ScheduleRunVariant; forTargets: boolean }[]> {
  const plan = new Map<string, { key: string; variant: ScheduleRunVariant; forTargets: boolean }>();
  const recipients = await db.selectFrom("export_schedule_recipient").select("user_id").where("schedule_id", "=", schedule.id).orderBy("user_id").execute();
  const targets = await scheduleTargets(db, schedule.id);
  if (recipients.length === 0 || targets.webhookIds.length > 0 || targets.bucketIds.length > 0) {
    const { scope, dataTypes, deidentification } = schedule.request;
    const variant = { scope, deidentification: deidentification ?? null, dataTypes };
    plan.set(variantKey(variant), { key: variantKey(variant), variant, forTargets: true });
  }
  for (const { user_id } of recipients) {
    const recipient = await requesterForUser(db, user_id, schedule.tenant_id);
    const variant = recipient && recipientVariant(recipient.ability, schedule.request);
    if (variant && !plan.has(variantKey(variant))) plan.set(variantKey(variant), { key: variantKey(variant), variant, forTargets: false });
  }
  return [...plan.values()];
}

/** For a delta schedule: this variant's export of the schedule's latest successful run before this slot. */
async function deltaBase(db: DB, run: ExportScheduleRun, key: string): Promise<string | undefined> {
  const base = await db
    .selectFrom("export_schedule_run_variant as v")
    .innerJoin("export_schedule_run as r", "r.id", "v.run_id")
    .where("r.schedule_id", "=", run.schedule_id)
    .where("r.status", "=", "done")
    .where("r.slot_at", "<", run.slot_at)
    .where("v.variant_key", "=", key)
    .where("v.export_id", "is not", null)
    .orderBy("r.slot_at", "desc")
    .select("v.export_id")
    .executeTakeFirst();
  return base?.export_id ?? undefined;
}

const ENDED_BADLY = ["failed", "cancelled", "expired"];

/**
 * One step of a run (the `schedule_run` and `schedule_run_advance` jobs):
 * a pending run checks its owner's rights and plans its archives; then each
 * archive is an ordinary export, created one after another since each holds
 * its projects' locks; when the last is done the run is delivered. Steps of
 * one run are serialized by a lock on its row, so duplicate wake-ups are
 * harmless. What must happen after the commit (delivery, notices, the next
 * backfill run) happens after it.
 */
export async function advanceRun(db: DB, runId: string): Promise<void> {
  const after: (() => Promise<void>)[] = [];
  await db.transaction().execute(async (trx) => {
    // NO KEY UPDATE: the exports created meanwhile (on other connections) reference this row, which takes KEY SHARE.
    const run = await trx.selectFrom("export_schedule_run").selectAll().where("id", "=", runId).forNoKeyUpdate().executeTakeFirst();
    if (!run || run.status === "done" || run.status === "failed") return;
    const schedule = await trx.selectFrom("export_schedule").selectAll().where("id", "=", run.schedule_id).executeTakeFirstOrThrow();
    const fail = (reason: string, pauseReason?: string) => failRun(db, trx, schedule, run, reason, pauseReason, after);

    const checked = await ownerNow(db, schedule);
    if ("reason" in checked) return fail(checked.reason, checked.reason);
    if (run.status === "pending") {
      const plan = await planVariants(db, schedule);
      if (plan.length) {
        await trx
          .insertInto("export_schedule_run_variant")
          .values(plan.map((p, position) => ({ run_id: run.id, position, variant_key: p.key, variant: p.variant, for_targets: p.forTargets })))
          .execute();
      }
      await trx.updateTable("export_schedule_run").set({ status: "running" }).where("id", "=", run.id).execute();
      await recordEvent(trx, place(schedule), "schedule.run_started", { type: "schedule", id: schedule.id }, SYSTEM, { ...runDetails(run), archives: plan.length });
    }

    const variants = await trx
      .selectFrom("export_schedule_run_variant as v")
      .leftJoin("export as e", "e.id", "v.export_id")
      .where("v.run_id", "=", run.id)
      .select(["v.position", "v.variant_key", "v.variant", "v.export_id", "e.status", "e.error"])
      .orderBy("v.position")
      .execute();
    const bad = variants.find((v) => v.export_id && ENDED_BADLY.includes(v.status!));
    if (bad) return fail(`The run's export ${bad.export_id} ${bad.status === "failed" ? `failed: ${bad.error}` : `was ${bad.status}.`}`);
    if (variants.some((v) => v.export_id && (v.status === "pending" || v.status === "running"))) return; // its end wakes the run again

    const next = variants.find((v) => !v.export_id);
    if (next) {
      const { scope, dataTypes, deidentification } = next.variant;
      const input = {
        scope,
        dataTypes,
        format: schedule.request.format,
        ...(deidentification && { deidentification }),
        // A delta's rows are what was written since its base, whatever their dates: a date range would drop a reading
        // that arrives late for an earlier period from every run. The first run, with no base, is complete.
        dateRange: schedule.delta
          ? {}
          : { ...(run.interval_from && { from: run.interval_from.toISOString() }), ...(run.interval_to && { to: run.interval_to.toISOString() }) },
      };
      try {
        const sinceExportId = schedule.delta ? await deltaBase(trx, run, next.variant_key) : undefined;
        const created = await createExport(db, checked.owner, input, { scheduleRunId: run.id, ...(sinceExportId && { sinceExportId }) });
        await trx.updateTable("export_schedule_run_variant").set({ export_id: created.id }).where("run_id", "=", run.id).where("position", "=", next.position).execute();
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        // Someone's export holds a project: not a failure, the run waits its turn.
        if (error.code === "CONFLICT") after.push(() => enqueueRunAdvance(db, run.id, CONFLICT_RETRY_MS));
        else if (error.code === "FORBIDDEN") return fail(ownerReason(checked.owner.name, error), ownerReason(checked.owner.name, error));
        else return fail(`The run's export could not be created: ${error.message}`);
      }
      return;
    }

    await trx.updateTable("export_schedule_run").set({ status: "done", error: null, finished_at: new Date() }).where("id", "=", run.id).execute();
    await trx.updateTable("export_schedule").set({ failures_in_a_row: 0 }).where("id", "=", schedule.id).execute();
    await recordEvent(trx, place(schedule), "schedule.run_done", { type: "schedule", id: schedule.id }, SYSTEM, { ...runDetails(run), archives: variants.length });
    after.push(() => deliverRun(db, run.id), () => startNextBackfillRun(db, run));
  });
  for (const step of after) await step();
}

/**
 * Marks the run failed and counts it against the schedule: the third failure
 * in a row, or a reason that needs a person (the owner's rights), pauses it.
 */
async function failRun(db: DB, trx: DB, schedule: ExportSchedule, run: ExportScheduleRun, reason: string, pauseReason: string | undefined, after: (() => Promise<void>)[]) {
  await trx.updateTable("export_schedule_run").set({ status: "failed", error: reason, finished_at: new Date() }).where("id", "=", run.id).execute();
  const { failures_in_a_row } = await trx
    .updateTable("export_schedule")
    .set((eb) => ({ failures_in_a_row: eb("failures_in_a_row", "+", 1) }))
    .where("id", "=", schedule.id)
    .returning("failures_in_a_row")
    .executeTakeFirstOrThrow();
  await recordEvent(trx, place(schedule), "schedule.run_failed", { type: "schedule", id: schedule.id }, SYSTEM, { ...runDetails(run), reason });
  const pause = pauseReason ?? (failures_in_a_row >= FAILURES_BEFORE_PAUSE ? `Paused after ${FAILURES_BEFORE_PAUSE} failed runs in a row: ${reason}` : undefined);
  if (pause && schedule.status === "active") {
    await trx.updateTable("export_schedule").set({ status: "paused", paused_reason: pause, next_slot_at: null, updated_at: new Date() }).where("id", "=", schedule.id).execute();
    await recordEvent(trx, place(schedule), "schedule.paused", { type: "schedule", id: schedule.id }, SYSTEM, { name: schedule.name, reason: pause });
  }
  after.push(() => notifyRunFailed(db, run.id, reason), () => startNextBackfillRun(db, run));
}

/** A backfill's runs go one at a time, oldest slot first: each ended run starts the next. */
async function startNextBackfillRun(db: DB, run: ExportScheduleRun): Promise<void> {
  if (!run.backfill_id) return;
  const next = await db
    .selectFrom("export_schedule_run")
    .select("id")
    .where("backfill_id", "=", run.backfill_id)
    .where("status", "=", "pending")
    .orderBy("slot_at")
    .executeTakeFirst();
  if (next) await enqueueRunStart(db, next.id);
}
