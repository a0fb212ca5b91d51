import type { Cadence, ScheduleExportRequest } from "../../db/schema";
import { resolveDateRange } from "../exports/date-range";
import type { ValidExportRequest } from "../exports/export-request";
import { nextSlot, previousSlot, slotsBetween } from "./cadence";

/**
 * The latest slot at or before `now`: what a late tick runs, so slots missed
 * while nothing ran are caught up once, not once each. The slot before the
 * next one, so a time that occurs twice (autumn) still counts once.
 */
export function latestSlot(cadence: Cadence, timeZone: string, now: Date): Date | null {
  const next = nextSlot(cadence, timeZone, now);
  return next ? previousSlot(cadence, timeZone, next) : null;
}

/**
 * The data interval a run for `slot` exports, `to` exclusive: the cadence
 * period ending at the slot for `{relative: "interval"}` (23.5 or 25 hours
 * across a clock change, since croner places the slots), a preset counted
 * back from the slot, all_time with no start.
 */
export function runInterval(request: ScheduleExportRequest, cadence: Cadence, timeZone: string, slot: Date): { from: Date | null; to: Date } {
  if ("relative" in request.dateRange) return { from: previousSlot(cadence, timeZone, slot), to: slot };
  const { from } = resolveDateRange({ preset: request.dateRange.preset as ValidExportRequest["dateRange"]["preset"] }, slot);
  return { from: from ? new Date(from) : null, to: slot };
}

/** A manual run's interval: from the schedule's latest slot (or a preset back) up to now. */
export function intervalUntilNow(request: ScheduleExportRequest, cadence: Cadence, timeZone: string, now: Date): { from: Date | null; to: Date } {
  if ("relative" in request.dateRange) return { from: latestSlot(cadence, timeZone, now), to: now };
  return runInterval(request, cadence, timeZone, now);
}

/** A backfill's slots: one per cadence period ending in (from, to], oldest first; limit + 1 at most, to tell "too many". */
export function backfillSlots(cadence: Cadence, timeZone: string, from: Date, to: Date, limit: number): Date[] {
  return slotsBetween(cadence, timeZone, from, to, limit + 1);
}
