import { sql } from "kysely";
import type { DB } from "../../db/client";
import type { ExportSchedule, ExportScheduleRun, ScheduleExportRequest } from "../../db/schema";
import { recordEvent } from "../audit/audit.server";
import { authorize, type Requester } from "../auth/requester";
import { checkExportRequest } from "../exports/exports.server";
import { AppError } from "../lib/errors";
import { isUuid } from "../lib/ids";
import { fieldErrors, invalid } from "../lib/validation";
import { assertTenantWritable } from "../tenants/archived.server";
import { checkScheduleTargets, scheduleTargets, setScheduleTargets } from "../delivery/targets.server";
import { nextSlot } from "./cadence";
import { requesterForUser } from "./owner-rights.server";
import { scheduleInputSchema, type ScheduleInput, type ValidScheduleInput } from "./schedule-input";

/** A schedule as its pages and the API show it: with its owner's name and its recipients. */
export interface ScheduleView extends ExportSchedule {
  ownerName: string | null;
  recipients: { userId: string; name: string; email: string }[];
  webhookIds: string[];
  bucketIds: string[];
}

function parse(input: ScheduleInput | unknown): ValidScheduleInput {
  const parsed = scheduleInputSchema.safeParse(input ?? {});
  if (!parsed.success) throw new AppError("INVALID_REQUEST", "The schedule is not valid.", { fieldErrors: fieldErrors(parsed.error) });
  return parsed.data;
}

/** The request as each run will make it, checked with the rights of the person saving the schedule (its owner). */
async function checkedRequest(db: DB, requester: Requester, input: ValidScheduleInput): Promise<ScheduleExportRequest> {
  const { dateRange, ...rest } = input.request;
  try {
    const { scope, deidentification } = await checkExportRequest(db, requester, { ...rest, dateRange: {} });
    return { scope, dataTypes: rest.dataTypes, format: rest.format, ...(deidentification && { deidentification }), dateRange };
  } catch (error) {
    // The export checks name fields of an export request; here they sit under `request`.
    if (error instanceof AppError && error.details.fieldErrors) {
      const prefixed = Object.fromEntries(Object.entries(error.details.fieldErrors).map(([field, message]) => [`request.${field}`, message]));
      throw new AppError(error.code, error.message, { ...error.details, fieldErrors: prefixed });
    }
    throw error;
  }
}

/** Recipients must be people who may open the tenant: its members, and the organization's owners and admins. */
async function checkRecipients(db: DB, requester: Requester, userIds: string[]): Promise<string[]> {
  const unique = [...new Set(userIds)];
  if (unique.length === 0) return [];
  const members = await tenantPeople(db, requester).where("u.id", "in", unique).select("u.id").execute();
  if (members.length !== unique.length) throw invalid("recipients", "Every recipient must be a member of this tenant.");
  return unique;
}

/** Everyone who may open the requester's tenant (as `u`): the candidates for recipients. */
export function tenantPeople(db: DB, requester: Pick<Requester, "tenantId" | "organizationId">) {
  return db
    .selectFrom("user as u")
    .innerJoin("member as m", (j) => j.onRef("m.userId", "=", "u.id").on("m.organizationId", "=", requester.organizationId))
    .leftJoin("tenant_member as tm", (j) => j.onRef("tm.user_id", "=", "u.id").on("tm.tenant_id", "=", requester.tenantId))
    .where((eb) => eb.or([eb("m.role", "in", ["owner", "admin"]), eb("tm.role", "is not", null)]));
}

async function setRecipients(db: DB, scheduleId: string, userIds: string[]): Promise<void> {
  await db.deleteFrom("export_schedule_recipient").where("schedule_id", "=", scheduleId).execute();
  if (userIds.length) await db.insertInto("export_schedule_recipient").values(userIds.map((user_id) => ({ schedule_id: scheduleId, user_id }))).execute();
}

/** Whose rights a saved schedule runs with: the person saving it, or for an API key the key's creator (whose rights the key follows). */
const ownerOf = (requester: Requester) => requester.actor.userId ?? requester.keyCreatorUserId ?? null;

const place = (requester: Requester) => ({ organization_id: requester.organizationId, tenant_id: requester.tenantId });

/**
 * Creates a schedule owned by the requester (for an API key, its creator):
 * each run is made with the owner's rights as they are then. The first slot
 * is the next one after now.
 */
export async function createSchedule(db: DB, requester: Requester, input: ScheduleInput | unknown): Promise<ExportSchedule> {
  authorize(requester, "data.exports.schedule");
  await assertTenantWritable(db, requester.tenantId);
  const valid = parse(input);
  const request = await checkedRequest(db, requester, valid);
  const recipients = await checkRecipients(db, requester, valid.recipients);
  const targets = await checkScheduleTargets(db, requester, { webhookIds: valid.webhookIds, bucketIds: valid.bucketIds });
  return db.transaction().execute(async (trx) => {
    const schedule = await trx
      .insertInto("export_schedule")
      .values({
        tenant_id: requester.tenantId,
        organization_id: requester.organizationId,
        owner_user_id: ownerOf(requester),
        name: valid.name,
        request,
        cadence: valid.cadence,
        time_zone: valid.timeZone,
        delta: valid.delta,
        next_slot_at: nextSlot(valid.cadence, valid.timeZone, new Date()),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await setRecipients(trx, schedule.id, recipients);
    await setScheduleTargets(trx, schedule.id, targets);
    await recordEvent(trx, place(requester), "schedule.created", { type: "schedule", id: schedule.id }, requester.actor, { name: schedule.name });
    return schedule;
  });
}

/** Replaces a schedule's settings; whoever saves it becomes its owner, since the runs are now made to their choice. */
export async function updateSchedule(db: DB, requester: Requester, id: string, input: ScheduleInput | unknown): Promise<ExportSchedule> {
  authorize(requester, "data.exports.schedule");
  await assertTenantWritable(db, requester.tenantId);
  const existing = await findSchedule(db, requester, id);
  const valid = parse(input);
  const request = await checkedRequest(db, requester, valid);
  const recipients = await checkRecipients(db, requester, valid.recipients);
  const targets = await checkScheduleTargets(db, requester, { webhookIds: valid.webhookIds, bucketIds: valid.bucketIds });
  return db.transaction().execute(async (trx) => {
    const schedule = await trx
      .updateTable("export_schedule")
      .set({
        owner_user_id: ownerOf(requester),
        name: valid.name,
        request,
        cadence: valid.cadence,
        time_zone: valid.timeZone,
        delta: valid.delta,
        next_slot_at: existing.status === "active" ? nextSlot(valid.cadence, valid.timeZone, new Date()) : null,
        updated_at: sql`now()`,
      })
      .where("id", "=", existing.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await setRecipients(trx, schedule.id, recipients);
    await setScheduleTargets(trx, schedule.id, targets);
    await recordEvent(trx, place(requester), "schedule.updated", { type: "schedule", id: schedule.id }, requester.actor, { name: schedule.name });
    return schedule;
  });
}

/** The requester's tenant's schedule with this id, or 404. */
export async function findSchedule(db: DB, requester: Requester, id: string): Promise<ExportSchedule> {
  authorize(requester, "data.exports.read");
  const schedule = isUuid(id)
    ? await db.selectFrom("export_schedule").selectAll().where("tenant_id", "=", requester.tenantId).where("id", "=", id).executeTakeFirst()
    : undefined;
  if (!schedule) throw new AppError("NOT_FOUND", "No such schedule.");
  return schedule;
}

export async function getSchedule(db: DB, requester: Requester, id: string): Promise<ScheduleView> {
  const schedule = await findSchedule(db, requester, id);
  return (await withPeople(db, [schedule]))[0];
}

/** The tenant's schedules, newest first (a tenant has tens, not thousands: no paging). */
export async function listSchedules(db: DB, requester: Requester): Promise<ScheduleView[]> {
  authorize(requester, "data.exports.read");
  const schedules = await db.selectFrom("export_schedule").selectAll().where("tenant_id", "=", requester.tenantId).orderBy("created_at", "desc").orderBy("id").execute();
  return withPeople(db, schedules);
}

async function withPeople(db: DB, schedules: ExportSchedule[]): Promise<ScheduleView[]> {
  if (schedules.length === 0) return [];
  const ids = schedules.map((s) => s.id);
  const recipients = await db
    .selectFrom("export_schedule_recipient as r")
    .innerJoin("user as u", "u.id", "r.user_id")
    .where("r.schedule_id", "in", ids)
    .select(["r.schedule_id", "u.id as userId", "u.name", "u.email"])
    .orderBy("u.name")
    .execute();
  const ownerIds = [...new Set(schedules.map((s) => s.owner_user_id).filter((o): o is string => !!o))];
  const owners = ownerIds.length ? await db.selectFrom("user").select(["id", "name"]).where("id", "in", ownerIds).execute() : [];
  const targets = await Promise.all(schedules.map((s) => scheduleTargets(db, s.id)));
  return schedules.map((s, i) => ({
    ...s,
    ...targets[i],
    ownerName: owners.find((o) => o.id === s.owner_user_id)?.name ?? null,
    recipients: recipients.filter((r) => r.schedule_id === s.id).map(({ userId, name, email }) => ({ userId, name, email })),
  }));
}

/** Pauses a schedule: no slot runs until it is resumed. */
export async function pauseSchedule(db: DB, requester: Requester, id: string, reason: string | null = null): Promise<ExportSchedule> {
  authorize(requester, "data.exports.schedule");
  const schedule = await findSchedule(db, requester, id);
  const paused = await db
    .updateTable("export_schedule")
    .set({ status: "paused", paused_reason: reason, next_slot_at: null, updated_at: sql`now()` })
    .where("id", "=", schedule.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await recordEvent(db, place(requester), "schedule.paused", { type: "schedule", id: schedule.id }, requester.actor, { name: schedule.name });
  return paused;
}

/**
 * Resumes a paused schedule from now: the slots missed while it was paused
 * are not run (a backfill runs past periods on purpose). Its failure count
 * and pause reason are cleared.
 */
export async function resumeSchedule(db: DB, requester: Requester, id: string): Promise<ExportSchedule> {
  authorize(requester, "data.exports.schedule");
  await assertTenantWritable(db, requester.tenantId);
  const schedule = await findSchedule(db, requester, id);
  const resumed = await db
    .updateTable("export_schedule")
    .set({
      status: "active",
      paused_reason: null,
      failures_in_a_row: 0,
      next_slot_at: nextSlot(schedule.cadence, schedule.time_zone, new Date()),
      updated_at: sql`now()`,
    })
    .where("id", "=", schedule.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await recordEvent(db, place(requester), "schedule.resumed", { type: "schedule", id: schedule.id }, requester.actor, { name: schedule.name });
  return resumed;
}

/** Deletes a schedule; the exports its runs made stay, as ordinary exports, until their retention ends. */
export async function deleteSchedule(db: DB, requester: Requester, id: string): Promise<void> {
  authorize(requester, "data.exports.schedule");
  const schedule = await findSchedule(db, requester, id);
  await db.deleteFrom("export_schedule").where("id", "=", schedule.id).execute();
  await recordEvent(db, place(requester), "schedule.deleted", { type: "schedule", id: schedule.id }, requester.actor, { name: schedule.name });
}

/** A schedule's runs, newest first. */
export async function listRuns(db: DB, requester: Requester, scheduleId: string, limit = 50): Promise<ExportScheduleRun[]> {
  const schedule = await findSchedule(db, requester, scheduleId);
  return db
    .selectFrom("export_schedule_run")
    .selectAll()
    .where("schedule_id", "=", schedule.id)
    .orderBy("created_at", "desc")
    .orderBy("slot_at", "desc")
    .limit(limit)
    .execute();
}

export { requesterForUser };
