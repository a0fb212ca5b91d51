import { z } from "zod";
import { EXPORT_STATUSES } from "../../db/schema";
import { DAY_MS } from "../lib/dates";
import { ERROR_CODES } from "../lib/errors";
import { DEIDENTIFICATION_PROFILES } from "../studies/deidentification";
import { dateOrTime } from "../exports/export-request";
import { FILE_FORMATS } from "../exports/formats";
import { scheduleInputSchema, scheduleRequestSchema } from "../schedules/schedule-input";

// The public API's parameters and bodies. The same schemas validate requests
// and generate the OpenAPI document, so the two cannot disagree.

const limit = (max: number, fallback: number) =>
  z.coerce.number({ error: "must be a whole number" }).int("must be a whole number").min(1, "must be at least 1").max(max, `must be at most ${max}`).default(fallback);


export const listExportsQuery = z.strictObject({
  limit: limit(100, 25).meta({ description: "Exports per page, 1–100." }),
  cursor: z.string().max(200, "is not a cursor from this API").optional().meta({ description: "`nextCursor` of the previous page." }),
  status: z.enum(EXPORT_STATUSES, { error: `must be one of ${EXPORT_STATUSES.join(", ")}` }).optional(),
});

const metricIdsParam = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(",")).map((s) => s.trim()).filter(Boolean))
  .pipe(
    z
      .array(
        z
          .string()
          .max(100, "has an id longer than 100 characters")
          // PostgreSQL refuses U+0000 in text; no metric id holds a control character.
          .refine((id) => !/[\u0000-\u001f\u007f]/.test(id), "has an id with a control character"),
      )
      .max(50, "may name at most 50 metrics"),
  );

const isoDate = dateOrTime.meta({ description: "ISO 8601 date (`2026-01-31`) or date and time (`2026-01-31T12:00:00Z`)." });

export const listMetricsQuery = z
  .strictObject({
    metricIds: metricIdsParam.optional().meta({ description: "Comma-separated metric ids (or the parameter repeated)." }),
    startDate: isoDate.optional(),
    endDate: isoDate.optional(),
    limit: limit(1000, 100).meta({ description: "Points per page, 1–1000." }),
    offset: z.coerce.number({ error: "must be a whole number" }).int("must be a whole number").min(0, "must be 0 or more").max(10_000_000, "is too large").default(0),
  })
  .refine((q) => !q.startDate || !q.endDate || Date.parse(q.startDate) < Date.parse(q.endDate), { error: "must be after startDate", path: ["endDate"] });

export const INTERVALS = ["hour", "day", "week", "month"] as const;

export const timeseriesQuery = z
  .strictObject({
    startDate: z.string({ error: "is required" }).pipe(isoDate),
    endDate: z.string({ error: "is required" }).pipe(isoDate),
    interval: z.enum(INTERVALS, { error: `must be one of ${INTERVALS.join(", ")}` }).default("day"),
  })
  .refine((q) => Date.parse(q.startDate) < Date.parse(q.endDate), { error: "must be after startDate", path: ["endDate"] });

export const METRIC_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;

export const customMetricBody = z.strictObject({
  metricId: z.string({ error: "is required" }).regex(METRIC_ID, "must be 1–100 letters, digits, '_', '.', ':' or '-', starting with a letter or digit"),
  value: z.number({ error: "must be a number" }).finite("must be a finite number"),
  timestamp: z
    .number({ error: "must be milliseconds since 1970 as a number" })
    .int("must be whole milliseconds")
    .min(0, "must not be before 1970")
    .refine((ms) => ms <= Date.now() + DAY_MS, { error: "must not be more than a day in the future" })
    .optional()
    .meta({ description: "Milliseconds since the Unix epoch; defaults to now." }),
  unit: z.string({ error: "must be a string" }).max(32, "must be at most 32 characters").optional(),
  metadata: z
    .record(z.string(), z.unknown(), { error: "must be a JSON object" })
    .refine((m) => JSON.stringify(m).length <= 16_384, { error: "must be at most 16 KB as JSON" })
    .optional(),
});

// Responses, for the document (and the tests that check responses against it).
export const apiError = z.object({
  error: z.object({
    code: z.enum(ERROR_CODES),
    message: z.string(),
    details: z.record(z.string(), z.unknown()),
    requestId: z.string(),
  }),
});

const manifestDelta = z
  .object({ baseExportId: z.string().nullable(), from: z.string(), fromSnapshotAt: z.string().nullable(), to: z.string(), toSnapshotAt: z.string() })
  .describe("A delta's file: the rows written or corrected by transactions the base's snapshot (`from`, pg_snapshot text) did not see and this export's (`to`) does");
/** Formats in one value, as older clients read them: a name, `both` (NDJSON + CSV), or the list. */
const askedFormat = z
  .union([z.enum([...FILE_FORMATS, "both"]), z.array(z.enum(FILE_FORMATS))])
  .describe("The formats in one value, as clients read it before there were more than two: a name, `both` for NDJSON + CSV, or the list. Prefer `formats`.");
const fileFormats = z.array(z.enum(FILE_FORMATS)).describe("The files each data type gets, in archive order.");

const manifestFile = z.object({
  name: z.string(),
  dataType: z.string(),
  format: z.enum([...FILE_FORMATS, "json"]),
  rows: z.number(),
  sheets: z
    .array(z.object({ name: z.string(), rows: z.number() }))
    .optional()
    .describe("An Excel workbook's sheets in order, each with its rows: past 1,048,575 rows a data type continues on `name (2)`, …"),
  bytes: z.number(),
  sha256: z.string(),
  delta: manifestDelta.optional(),
});

export const apiExport = z.object({
  id: z.string(),
  status: z.enum(EXPORT_STATUSES),
  scope: z.record(z.string(), z.unknown()),
  dateRange: z.object({ preset: z.string().optional(), from: z.string().optional(), to: z.string().optional() }),
  dataTypes: z.array(z.string()),
  format: askedFormat,
  formats: fileFormats,
  deidentification: z
    .enum(DEIDENTIFICATION_PROFILES)
    .nullable()
    .describe("The profile participants' rows (HSI, lab, study participants) were exported with, in any scope; null for exports without such rows."),
  progress: z.object({
    rowsDone: z.number(),
    rowsExpected: z.number().nullable(),
    percent: z.number().nullable(),
    estimatedSecondsLeft: z.number().nullable().describe("While running, once a few seconds have run: seconds left at the rate so far"),
  }),
  queuePosition: z
    .number()
    .nullable()
    .describe("While pending: its place among this tenant's waiting exports, 1 for the next to run; null once a worker has it, or when not pending"),
  rows: z.number().nullable().describe("Records exported, each counted once even in both formats; the manifest has each file's rows"),
  bytes: z.number().nullable(),
  error: z.string().nullable(),
  requestedBy: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  since: z
    .object({ exportId: z.string().nullable() })
    .nullable()
    .describe("A delta export: the export it holds the changes since (exportId null if that export was since deleted); null for a full export"),
  manifest: z.object({ snapshotAt: z.string(), generator: z.string(), files: z.array(manifestFile) }).loose().nullable(),
  links: z.object({ self: z.string(), download: z.string().nullable() }),
});

export const exportList = z.object({ data: z.array(apiExport), hasMore: z.boolean(), nextCursor: z.string().nullable() });

export const downloadLink = z.object({ url: z.string(), expiresAt: z.string() });

export const manifestKey = z.object({
  algorithm: z.literal("Ed25519"),
  publicKey: z.string().describe("The public key, SPKI DER in base64."),
  keyId: z.string().describe("The first 16 hex digits of the SHA-256 of the SPKI DER: a short name for the key."),
});

export const metricPoint = z.object({
  id: z.string(),
  metricId: z.string(),
  metricName: z.string(),
  value: z.number(),
  unit: z.string(),
  timestamp: z.string(),
  service: z.string(),
  projectId: z.string().nullable(),
  connectionId: z.string().nullable(),
  quality: z.enum(["good", "estimated", "suspect"]),
  metadata: z.record(z.string(), z.unknown()),
});

export const metricList = z.object({ data: z.array(metricPoint), total: z.number(), limit: z.number(), offset: z.number(), hasMore: z.boolean() });

export const timeseries = z.object({
  metricId: z.string(),
  interval: z.enum(INTERVALS),
  startDate: z.string(),
  endDate: z.string(),
  points: z.array(z.object({ bucket: z.string(), count: z.number(), sum: z.number(), avg: z.number(), min: z.number(), max: z.number() })),
});

export const widget = z.object({
  id: z.string(),
  type: z.enum(["metric", "chart", "table"]),
  title: z.string(),
  position: z.object({ x: z.number(), y: z.number(), w: z.number(), h: z.number() }),
  visible: z.boolean(),
  config: z.record(z.string(), z.unknown()),
  /** Set when the widget was imported and its metric does not exist in this tenant. */
  warning: z.string().nullable(),
});

export const dashboardSummary = z.object({
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  type: z.enum(["custom", "category"]),
  isDefault: z.boolean(),
  description: z.string(),
  widgetCount: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const dashboardList = z.object({ data: z.array(dashboardSummary) });
export const dashboardWithWidgets = dashboardSummary.extend({ widgets: z.array(widget) });

export const DASHBOARD_FORMAT = "exportal.dashboard";
/** The format of an export's `dashboards.json`: many dashboards, each in the dashboard file's shape. */
export const DASHBOARDS_FORMAT = "exportal.dashboards";
export const DASHBOARD_FORMAT_VERSION = 1;

const whole = (min: number, max: number) =>
  z.number({ error: "must be a whole number" }).int("must be a whole number").min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);

const dashboardFileWidget = z.object({
  id: z.string().optional().describe("Ignored on import: widgets get new ids."),
  type: z.enum(["metric", "chart", "table"], { error: "must be metric, chart or table" }),
  title: z.string({ error: "must be text" }).trim().min(1, "must not be empty").max(200, "must be at most 200 characters"),
  position: z
    .object({ x: whole(0, 11), y: whole(0, 1000), w: whole(1, 12), h: whole(1, 12) }, { error: "must be an object with x, y, w and h" })
    // Only when x and w are each in range, so one mistake is reported once.
    .refine((p) => p.x > 11 || p.w > 12 || p.x + p.w <= 12, { error: "must fit the 12 columns: x + w at most 12", path: ["w"] }),
  visible: z.boolean({ error: "must be true or false" }).default(true),
  config: z.record(z.string(), z.unknown(), { error: "must be an object" }).default({}).describe("`metricId` names the metric the widget shows."),
});

/** A file written by "Export dashboard", as import reads it (portal upload and API alike). */
export const dashboardFile = z.object({
  format: z.literal(DASHBOARD_FORMAT),
  formatVersion: z.number().int().describe(`At most ${DASHBOARD_FORMAT_VERSION}; newer files are refused.`),
  exportedAt: z.string().optional(),
  dashboard: z.object({
    id: z.string().optional().describe("Ignored on import: the dashboard gets a new id."),
    name: z.string({ error: "must be text" }).trim().min(1, "must not be empty").max(200, "must be at most 200 characters"),
    slug: z.string().regex(/^[a-z0-9][a-z0-9-]{0,89}$/, "must be lower-case letters, digits and dashes").optional(),
    type: z.enum(["custom", "category"], { error: "must be custom or category" }).default("custom"),
    isDefault: z.boolean({ error: "must be true or false" }).default(false),
    description: z.string({ error: "must be text" }).max(2000, "must be at most 2000 characters").default(""),
    widgets: z.array(dashboardFileWidget, { error: "must be a list" }).max(100, "must hold at most 100 widgets"),
  }),
});

/** An export's `dashboards.json`, as import reads it: each dashboard as in a dashboard file. */
export const dashboardsFile = z.object({
  format: z.literal(DASHBOARDS_FORMAT),
  formatVersion: z.number().int().describe(`At most ${DASHBOARD_FORMAT_VERSION}; newer files are refused.`),
  snapshotAt: z.string().optional(),
  dashboards: z
    .array(dashboardFile.shape.dashboard, { error: "must be a list" })
    .min(1, "must hold at least one dashboard")
    .max(1000, "must hold at most 1000 dashboards"),
});

/** What import takes: one dashboard's file, or an export's `dashboards.json`. */
export const dashboardImportFile = z.union([dashboardFile, dashboardsFile]);

export const importedDashboard = z.object({
  dashboard: dashboardWithWidgets,
  flaggedWidgets: z.array(z.object({ title: z.string(), metricId: z.string(), warning: z.string() })),
});

/** What importing an export's `dashboards.json` created: every dashboard, in the file's order. */
export const importedDashboards = z.object({ dashboards: z.array(importedDashboard) });

export const apiWebhook = z.object({
  id: z.string(),
  url: z.string(),
  description: z.string(),
  disabled: z.boolean(),
  createdAt: z.string(),
  createdBy: z.string().nullable(),
});
export const webhookList = z.object({ data: z.array(apiWebhook) });
export const createdWebhook = apiWebhook.extend({
  secret: z.string().meta({ description: "The signing secret (`whsec_…`), in this answer only: store it now, it is never shown again." }),
});
export const apiBucket = z.object({
  id: z.string(),
  name: z.string(),
  endpoint: z.string().nullable().meta({ description: "The S3-compatible server; null for AWS." }),
  region: z.string(),
  bucket: z.string(),
  prefix: z.string().meta({ description: "Each run's files go under `<prefix><schedule>/<slot>/`." }),
  forcePathStyle: z.boolean(),
  accessKeyHint: z.string().meta({ description: "The access key id's last four characters, to recognize it by; the keys are never shown." }),
  createdAt: z.string(),
});
export const bucketList = z.object({ data: z.array(apiBucket) });
export const bucketTestResult = z.object({
  ok: z.boolean(),
  key: z.string().meta({ description: "The object written: `<prefix>exportal-test.txt`." }),
  statusCode: z.number().nullable().meta({ description: "The S3 server's status when it refused; null on success or when it did not answer." }),
  error: z.string().nullable(),
  durationMs: z.number(),
});
export const webhookTestResult = z.object({
  ok: z.boolean(),
  statusCode: z.number().nullable().meta({ description: "What the endpoint answered; null when it did not (timeout, refused)." }),
  error: z.string().nullable(),
  durationMs: z.number(),
});
// Schedules: a saved export request run on a cadence (app/schedules).

export const listRunsQuery = z.strictObject({
  limit: limit(200, 50).meta({ description: "Runs to list, newest first, 1–200." }),
});

/** A PATCH of a schedule: any of its settings, merged onto the current ones (`request` field by field; `cadence` whole). */
export const schedulePatch = scheduleInputSchema
  .partial()
  .extend({ request: scheduleRequestSchema.partial().optional() })
  .describe("Only the fields sent change. `request` is merged field by field onto the current request; `cadence`, `recipients`, `webhookIds` and `bucketIds` are replaced whole.");

export const backfillBody = z.strictObject({
  from: z.string({ error: "is required" }).pipe(dateOrTime).meta({ description: "Start of the first period (included), ISO 8601." }),
  to: z.string({ error: "is required" }).pipe(dateOrTime).meta({ description: "End of the last period (not included), ISO 8601." }),
}).refine((b) => Date.parse(b.from) < Date.parse(b.to), { error: "must be after from", path: ["to"] });

const cadenceOut = z.union([
  z.object({ kind: z.literal("daily"), time: z.string() }),
  z.object({ kind: z.literal("weekly"), weekday: z.number().describe("0 = Sunday … 6 = Saturday"), time: z.string() }),
  z.object({ kind: z.literal("monthly"), dayOfMonth: z.union([z.number(), z.literal("last")]), time: z.string() }),
  z.object({ kind: z.literal("cron"), expression: z.string() }),
]);

export const apiSchedule = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(["active", "paused"]),
  pausedReason: z.string().nullable().describe("Why the portal paused it (after failures, or its owner lost the right); null when paused by hand or active."),
  cadence: cadenceOut,
  cadenceText: z.string().describe("The cadence in words, such as `Every Monday at 09:00`."),
  timeZone: z.string(),
  nextRunAt: z.string().nullable().describe("The next slot (ISO 8601, UTC); null while paused."),
  request: z.object({
    scope: z.record(z.string(), z.unknown()),
    dataTypes: z.array(z.string()),
    format: askedFormat,
    formats: fileFormats,
    deidentification: z.enum(DEIDENTIFICATION_PROFILES).nullable(),
    dateRange: z.union([z.object({ relative: z.literal("interval") }), z.object({ preset: z.string() })]),
  }),
  delta: z.boolean(),
  recipients: z.array(z.object({ userId: z.string(), name: z.string(), email: z.string() })),
  webhookIds: z.array(z.string()),
  bucketIds: z.array(z.string()),
  owner: z.object({ userId: z.string(), name: z.string().nullable() }).nullable().describe("Whose rights each run is made with: who last saved it (for an API key, the key's creator)."),
  createdAt: z.string(),
  updatedAt: z.string(),
  links: z.object({ self: z.string(), runs: z.string() }),
});

export const scheduleList = z.object({ data: z.array(apiSchedule) });

export const apiScheduleRun = z.object({
  id: z.string(),
  kind: z.enum(["scheduled", "manual", "backfill", "retry"]),
  slot: z.string().describe("The slot the run is for; its data interval ends here."),
  interval: z.object({ from: z.string().nullable(), to: z.string().nullable() }),
  status: z.enum(["pending", "running", "done", "failed"]),
  error: z.string().nullable(),
  retryOf: z.string().nullable(),
  backfillId: z.string().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  exports: z
    .array(z.object({ id: z.string(), status: z.string(), deidentification: z.string().nullable(), links: z.object({ self: z.string() }) }))
    .describe("The exports the run made, one per archive its recipients need; empty until it made them."),
  links: z.object({ self: z.string(), schedule: z.string() }),
});

export const scheduleRunList = z.object({ data: z.array(apiScheduleRun) });

export const backfillStarted = z.object({ backfillId: z.string(), runs: z.number().describe("Runs queued, one per period."), links: z.object({ runs: z.string() }) });
