import { z } from "zod";
import { DATE_PRESETS, exportRequestSchema } from "../exports/export-request";
import { cadenceSchema, timeZoneSchema } from "./cadence";

/**
 * What a schedule exports each run: an export request whose date range is
 * relative to the run, either the run's data interval (from the previous
 * slot to this one, the default) or a preset counted back from the slot.
 */
// A schedule's deltas are its `delta` flag (each run's base is its previous export), never one fixed `since`.
export const scheduleRequestSchema = exportRequestSchema.omit({ dateRange: true, since: true }).extend({
  dateRange: z
    .union(
      [
        z.object({ relative: z.literal("interval") }).strict(),
        z.object({ preset: z.enum(DATE_PRESETS, { error: `Choose a preset: ${DATE_PRESETS.join(", ")}.` }) }).strict(),
      ],
      { error: `Choose the data interval ({"relative":"interval"}) or a preset: ${DATE_PRESETS.join(", ")}.` },
    )
    .default({ relative: "interval" }),
});

/** A schedule as the portal's form and the API send it; field paths in errors name the field at fault. */
export const scheduleInputSchema = z.object({
  name: z.string({ error: "Name the schedule." }).trim().min(1, "Name the schedule.").max(100, "Keep the name under 100 characters."),
  request: scheduleRequestSchema,
  cadence: cadenceSchema,
  timeZone: timeZoneSchema,
  /** Each run exports only what changed since the schedule's previous successful run. */
  delta: z.boolean({ error: "delta is true or false." }).default(false),
  /** Members of the tenant who receive each run (by user id); what each gets follows their own rights. */
  recipients: z.array(z.string({ error: "Recipients are user ids." }), { error: "Recipients are a list of user ids." }).max(100, "At most 100 recipients.").default([]),
  /** The tenant's webhook endpoints and buckets each run is delivered to (app/delivery). */
  webhookIds: z.array(z.string(), { error: "webhookIds is a list of webhook endpoint ids." }).max(20, "At most 20 webhooks.").default([]),
  bucketIds: z.array(z.string(), { error: "bucketIds is a list of bucket ids." }).max(20, "At most 20 buckets.").default([]),
});

export type ScheduleInput = z.input<typeof scheduleInputSchema>;
export type ValidScheduleInput = z.output<typeof scheduleInputSchema>;
