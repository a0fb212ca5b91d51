import type { z } from "zod";
import type { DB } from "../../db/client";
import type { ExportScheduleRun } from "../../db/schema";
import type { Requester } from "../auth/requester";
import { formatsOf, legacyFormat } from "../exports/formats";
import { AppError } from "../lib/errors";
import { isUuid } from "../lib/ids";
import { getRun } from "../schedules/runs.server";
import { findSchedule } from "../schedules/schedules.server";
import { describeCadence } from "../schedules/cadence";
import type { ScheduleInput } from "../schedules/schedule-input";
import type { ScheduleView } from "../schedules/schedules.server";
import type { apiSchedule, apiScheduleRun } from "./schemas";
import { schedulePatch } from "./schemas";
import { parseBody } from "./api-params.server";

type ApiSchedule = z.infer<typeof apiSchedule>;
type ApiScheduleRun = z.infer<typeof apiScheduleRun>;
type RunExport = { id: string; status: string; deidentification: string | null };

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const scheduleUrl = (origin: string, id: string) => `${origin}/api/v1/schedules/${id}`;

/** A schedule as the API shows it: camelCase, times in ISO 8601, links absolute. */
export function toApiSchedule(s: ScheduleView, origin: string): ApiSchedule {
  const self = scheduleUrl(origin, s.id);
  const { deidentification, ...request } = s.request;
  return {
    id: s.id,
    name: s.name,
    status: s.status,
    pausedReason: s.paused_reason,
    cadence: s.cadence,
    cadenceText: describeCadence(s.cadence),
    timeZone: s.time_zone,
    nextRunAt: iso(s.next_slot_at),
    request: { ...request, format: legacyFormat(formatsOf(request.format)), formats: formatsOf(request.format), deidentification: deidentification ?? null },
    delta: s.delta,
    recipients: s.recipients,
    webhookIds: s.webhookIds,
    bucketIds: s.bucketIds,
    owner: s.owner_user_id ? { userId: s.owner_user_id, name: s.ownerName } : null,
    createdAt: s.created_at.toISOString(),
    updatedAt: s.updated_at.toISOString(),
    links: { self, runs: `${self}/runs` },
  };
}

/** A run as the API shows it, with the exports it made when known. */
export function toApiRun(run: ExportScheduleRun, exports: RunExport[], origin: string): ApiScheduleRun {
  const schedule = scheduleUrl(origin, run.schedule_id);
  return {
    id: run.id,
    kind: run.kind,
    slot: run.slot_at.toISOString(),
    interval: { from: iso(run.interval_from), to: iso(run.interval_to) },
    status: run.status,
    error: run.error,
    retryOf: run.retry_of,
    backfillId: run.backfill_id,
    createdAt: run.created_at.toISOString(),
    finishedAt: iso(run.finished_at),
    // Only what a client needs of each archive; which recipients get which is the portal's business.
    exports: exports.map((e) => ({ id: e.id, status: e.status, deidentification: e.deidentification, links: { self: `${origin}/api/v1/exports/${e.id}` } })),
    links: { self: `${schedule}/runs/${run.id}`, schedule },
  };
}

/** A run of this schedule of the requester's tenant, with its exports; 404 for a run of another schedule or tenant. */
export async function runOfSchedule(db: DB, requester: Requester, scheduleId: string, runId: string) {
  const schedule = await findSchedule(db, requester, scheduleId);
  const run = isUuid(runId) ? await getRun(db, requester, runId) : null;
  if (!run || run.schedule_id !== schedule.id) throw new AppError("NOT_FOUND", "No such run of this schedule.", { id: runId });
  return run;
}

/** The exports each of these runs made (of the requester's tenant: the runs were read through it). */
export async function exportsOfRuns(db: DB, tenantId: string, runIds: string[]): Promise<Map<string, RunExport[]>> {
  const byRun = new Map<string, RunExport[]>(runIds.map((id) => [id, []]));
  if (runIds.length === 0) return byRun;
  const rows = await db
    .selectFrom("export")
    .select(["id", "status", "deidentification", "schedule_run_id"])
    .where("tenant_id", "=", tenantId)
    .where("schedule_run_id", "in", runIds)
    .orderBy("created_at")
    .execute();
  for (const { schedule_run_id, ...e } of rows) byRun.get(schedule_run_id!)?.push(e);
  return byRun;
}

/** A stored schedule's settings as input: what a PATCH is merged onto. */
function settingsOf(s: ScheduleView): ScheduleInput {
  return {
    name: s.name,
    request: s.request as ScheduleInput["request"],
    cadence: s.cadence,
    timeZone: s.time_zone,
    delta: s.delta,
    recipients: s.recipients.map((r) => r.userId),
    webhookIds: s.webhookIds,
    bucketIds: s.bucketIds,
  };
}

const SETTINGS = Object.keys(schedulePatch.shape);
const REQUEST_FIELDS = ["scope", "dataTypes", "format", "deidentification", "dateRange"];

/** 400 unless the body is a JSON object. */
export function requireObject(body: unknown): asserts body is Record<string, unknown> {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new AppError("INVALID_REQUEST", "Send the schedule as a JSON object.", { fieldErrors: { body: "must be a JSON object" } });
  }
}

/** 400 naming the first field a schedule does not have (a misspelt `timezone` is not silently dropped). */
export function refuseUnknownFields(body: unknown): void {
  if (!body || typeof body !== "object" || Array.isArray(body)) return;
  const unknown = (keys: string[], known: string[], prefix: string) => keys.filter((k) => !known.includes(k)).map((k) => prefix + k);
  const request = (body as { request?: unknown }).request;
  const fields = [
    ...unknown(Object.keys(body), SETTINGS, ""),
    ...(request && typeof request === "object" && !Array.isArray(request) ? unknown(Object.keys(request), REQUEST_FIELDS, "request.") : []),
  ];
  if (fields.length === 0) return;
  throw new AppError("INVALID_REQUEST", `Unknown field ${fields[0]}: a schedule has ${SETTINGS.join(", ")}.`, { fieldErrors: Object.fromEntries(fields.map((f) => [f, "is not a schedule field"])) });
}

/**
 * The settings a PATCH asks for: the current ones with the fields sent
 * replaced, `request` merged field by field. Each field's type is checked
 * here (400 naming it); the whole is validated when it is saved.
 */
export function mergedSettings(current: ScheduleView, body: unknown): ScheduleInput {
  if (body === undefined) return settingsOf(current);
  requireObject(body);
  refuseUnknownFields(body);
  // Only shape errors here (`{"request": 5}`); the rules are the save's.
  const patch = body as Record<string, unknown>;
  const settings = settingsOf(current);
  if ("request" in patch && (patch.request === null || typeof patch.request !== "object" || Array.isArray(patch.request))) {
    parseBody(patch, schedulePatch.pick({ request: true }));
  }
  const request: Record<string, unknown> = patch.request ? { ...settings.request, ...(patch.request as object) } : { ...settings.request };
  // null clears the profile asked for (the export's default then applies).
  if (request.deidentification === null) delete request.deidentification;
  return { ...settings, ...patch, request } as ScheduleInput;
}
