import { z } from "zod";
import {
  apiError,
  apiExport,
  apiSchedule,
  apiScheduleRun,
  backfillBody,
  backfillStarted,
  listRunsQuery,
  scheduleList,
  schedulePatch,
  scheduleRunList,
  customMetricBody,
  dashboardFile,
  dashboardList,
  dashboardWithWidgets,
  downloadLink,
  manifestKey,
  dashboardImportFile,
  importedDashboard,
  importedDashboards,
  exportList,
  listExportsQuery,
  listMetricsQuery,
  metricList,
  metricPoint,
  timeseries,
  timeseriesQuery,
  apiWebhook,
  createdWebhook,
  webhookList,
  webhookTestResult,
  apiBucket,
  bucketList,
  bucketTestResult,
} from "./schemas";
import { bucketInputSchema, webhookChangeSchema, webhookInputSchema } from "../delivery/delivery-input";
import { exportRequestSchema } from "../exports/export-request";
import { scheduleInputSchema } from "../schedules/schedule-input";
import type { Permission } from "../auth/permissions";

type Schema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: "input" | "output"): Schema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Schema;
  return rest;
}

/** Query parameters from a zod object schema (its input side: what callers send). */
function queryParameters(schema: z.ZodType, required: string[] = []) {
  const json = jsonSchema(schema, "input") as { properties?: Record<string, Schema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => {
    const { description, ...rest } = s;
    return { name, in: "query", required: required.includes(name) || (json.required ?? []).includes(name), ...(description ? { description } : {}), schema: rest };
  });
}

const pathId = (name: string, description: string) => ({ name, in: "path", required: true, description, schema: { type: "string" } });

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const jsonContent = (schema: Schema) => ({ "application/json": { schema } });
const errorResponse = (description: string) => ({ description, content: jsonContent(ref("Error")) });

const COMMON_ERRORS = {
  "400": errorResponse("A parameter or field is invalid; `details` names it and the rule."),
  "401": errorResponse("The API key is missing, malformed, unknown, revoked or expired."),
  "403": errorResponse("The API key lacks the permission named in `details.permission`."),
  "429": errorResponse("The tenant's rate limit is reached; see `Retry-After`."),
};

export interface Operation {
  method: "get" | "post" | "patch" | "delete";
  path: string;
  summary: string;
  description?: string;
  /** null: public, no API key needed (and so no tenant rate limit). */
  permission: Permission | null;
  query?: z.ZodType;
  requiredQuery?: string[];
  pathParams?: ReturnType<typeof pathId>[];
  body?: { schema: string; example: unknown };
  responses: Record<string, { description: string; schema?: string }>;
  idempotent?: boolean;
}

const scheduleId = pathId("id", "Schedule id.");
const SCHEDULE_404 = { description: "No such schedule in this tenant." };
const WEEKLY_SCHEDULE = {
  name: "Weekly lab results",
  request: { scope: { type: "tenant" }, dataTypes: ["lab_results"], format: "csv", dateRange: { relative: "interval" } },
  cadence: { kind: "weekly", weekday: 1, time: "07:00" },
  timeZone: "Europe/Berlin",
  delta: false,
  recipients: [],
};

/** Every endpoint, in the order the API page lists them. */
export const OPERATIONS: Operation[] = [
  {
    method: "post",
    path: "/api/v1/exports",
    summary: "Create an export",
    description: "Same request and rules as the portal's New export dialog. The export runs in the background; poll it until `status` is `done`. Export creation is also limited to bursts of 10 (300 per hour) per tenant. Some data types need a permission of their own: `audit_events` (the audit trail, tenant or organization scope) needs `audit.read`, and downloading such an export needs it too.",
    permission: "data.exports.create",
    body: { schema: "ExportRequest", example: { scope: { type: "tenant" }, dateRange: { preset: "last_30_days" }, dataTypes: ["hsi_records", "lab_results"], format: ["ndjson", "parquet"] } },
    responses: { "202": { description: "The export, pending.", schema: "Export" }, "409": { description: "Another export is in progress for a project it covers, or the Idempotency-Key is in use." }, "422": { description: "The Idempotency-Key was used with a different body." } },
    idempotent: true,
  },
  {
    method: "get",
    path: "/api/v1/exports",
    summary: "List exports",
    description: "Newest first. Pass `nextCursor` as `cursor` while `hasMore` is true.",
    permission: "data.exports.read",
    query: listExportsQuery,
    responses: { "200": { description: "A page of exports.", schema: "ExportList" } },
  },
  {
    method: "get",
    path: "/api/v1/exports/{id}",
    summary: "Get an export",
    description: "Status, progress, rows and size, and the manifest (files with row counts and SHA-256) once done.",
    permission: "data.exports.read",
    pathParams: [pathId("id", "Export id.")],
    responses: { "200": { description: "The export.", schema: "Export" }, "404": { description: "No such export in this tenant." } },
  },
  {
    method: "post",
    path: "/api/v1/exports/{id}/cancel",
    summary: "Cancel an export",
    permission: "data.exports.cancel",
    pathParams: [pathId("id", "Export id.")],
    responses: { "200": { description: "The export, cancelled.", schema: "Export" }, "404": { description: "No such export in this tenant." }, "409": { description: "The export already finished." } },
    idempotent: true,
  },
  {
    method: "get",
    path: "/api/v1/exports/{id}/download",
    summary: "Download an export",
    description: "Redirects (302) to a signed link that works without the key until `expiresAt`. With `Accept: application/json`, answers the link as JSON instead.",
    permission: "data.exports.download",
    pathParams: [pathId("id", "Export id.")],
    responses: {
      "200": { description: "The signed link (with Accept: application/json).", schema: "DownloadLink" },
      "302": { description: "Redirect to the signed link." },
      "404": { description: "No such export in this tenant." },
      "409": { description: "The export is not done." },
      "410": { description: "The export expired; its archive was deleted." },
    },
  },
  {
    method: "get",
    path: "/api/v1/manifest-key",
    summary: "The key that signs archives",
    description:
      "Public: no API key needed. Every export archive holds `manifest.sig`, the Ed25519 signature of the exact bytes of its `manifest.json`; this is the public key that verifies it (`npm run verify -- export.zip --key <this URL>`). The manifest lists each file's SHA-256, size and rows, so a valid signature vouches for the whole archive.",
    permission: null,
    responses: { "200": { description: "The public key.", schema: "ManifestKey" } },
  },
  // Schedules: a saved export request run on a cadence, with the rights of its owner at each run.
  {
    method: "post",
    path: "/api/v1/schedules",
    summary: "Create a schedule",
    description:
      "Runs the export `request` at each slot of the `cadence` in `timeZone` (daily, weekly on a `weekday` 0–6 from Sunday, monthly on a `dayOfMonth` 1–28 or `last`, or a five-field `cron` expression). Each run exports its data interval (from the previous slot to this one) unless `dateRange` names a preset; `delta` exports only what changed since the previous successful run. The request is checked as `POST /api/v1/exports` checks it, so the key also needs `data.exports.create` (and what the scope, profile and data types need). The schedule is owned by the key's creator: each run is made with their rights as they are then. Recipients are user ids of the tenant's people; each receives what their own rights allow.",
    permission: "data.exports.schedule",
    body: { schema: "ScheduleInput", example: WEEKLY_SCHEDULE },
    responses: { "201": { description: "The schedule, active; `Location` is its URL.", schema: "Schedule" } },
    idempotent: true,
  },
  {
    method: "get",
    path: "/api/v1/schedules",
    summary: "List schedules",
    description: "The tenant's schedules, newest first.",
    permission: "data.exports.read",
    responses: { "200": { description: "The schedules.", schema: "ScheduleList" } },
  },
  {
    method: "get",
    path: "/api/v1/schedules/{id}",
    summary: "Get a schedule",
    description: "Its settings, `cadenceText`, `nextRunAt` (null while paused), owner and recipients.",
    permission: "data.exports.read",
    pathParams: [scheduleId],
    responses: { "200": { description: "The schedule.", schema: "Schedule" }, "404": SCHEDULE_404 },
  },
  {
    method: "patch",
    path: "/api/v1/schedules/{id}",
    summary: "Change a schedule",
    description:
      "Send only the fields to change: they are merged onto the current settings (`request` field by field, `deidentification: null` clearing the profile; `cadence`, `recipients`, `webhookIds` and `bucketIds` whole) and the result is validated as on create. `nextRunAt` follows a new cadence or time zone. Whoever saves a schedule becomes its owner (for a key, its creator).",
    permission: "data.exports.schedule",
    pathParams: [scheduleId],
    body: { schema: "SchedulePatch", example: { cadence: { kind: "daily", time: "06:30" } } },
    responses: { "200": { description: "The schedule as saved.", schema: "Schedule" }, "404": SCHEDULE_404 },
  },
  {
    method: "delete",
    path: "/api/v1/schedules/{id}",
    summary: "Delete a schedule",
    description: "The exports its runs made stay until their retention ends.",
    permission: "data.exports.schedule",
    pathParams: [scheduleId],
    responses: { "204": { description: "Deleted." }, "404": SCHEDULE_404 },
  },
  {
    method: "post",
    path: "/api/v1/schedules/{id}/pause",
    summary: "Pause a schedule",
    description: "No slot runs until it is resumed; `nextRunAt` becomes null.",
    permission: "data.exports.schedule",
    pathParams: [scheduleId],
    responses: { "200": { description: "The schedule, paused.", schema: "Schedule" }, "404": SCHEDULE_404 },
    idempotent: true,
  },
  {
    method: "post",
    path: "/api/v1/schedules/{id}/resume",
    summary: "Resume a schedule",
    description: "From now: slots missed while paused are not run (a backfill runs past periods). Clears its failure count and `pausedReason`.",
    permission: "data.exports.schedule",
    pathParams: [scheduleId],
    responses: { "200": { description: "The schedule, active.", schema: "Schedule" }, "404": SCHEDULE_404 },
    idempotent: true,
  },
  {
    method: "post",
    path: "/api/v1/schedules/{id}/run",
    summary: "Run a schedule now",
    description: "One run outside the cadence, for the interval from its previous slot to now. Counts as an export against the tenant's export limits.",
    permission: "data.exports.schedule",
    pathParams: [scheduleId],
    responses: { "202": { description: "The run, queued; `Location` is its URL.", schema: "ScheduleRun" }, "404": SCHEDULE_404 },
    idempotent: true,
  },
  {
    method: "get",
    path: "/api/v1/schedules/{id}/runs",
    summary: "List a schedule's runs",
    description: "Newest first, with the exports each run made.",
    permission: "data.exports.read",
    pathParams: [scheduleId],
    query: listRunsQuery,
    responses: { "200": { description: "The runs.", schema: "ScheduleRunList" }, "404": SCHEDULE_404 },
  },
  {
    method: "get",
    path: "/api/v1/schedules/{id}/runs/{runId}",
    summary: "Get a run",
    description: "Its status, data interval, error, and the exports it made (one per archive its recipients need).",
    permission: "data.exports.read",
    pathParams: [scheduleId, pathId("runId", "Run id.")],
    responses: { "200": { description: "The run.", schema: "ScheduleRun" }, "404": { description: "No such run of this schedule in this tenant." } },
  },
  {
    method: "post",
    path: "/api/v1/schedules/{id}/runs/{runId}/retry",
    summary: "Retry a failed run",
    description: "Runs the failed run's slot again, as a new run of kind `retry`.",
    permission: "data.exports.schedule",
    pathParams: [scheduleId, pathId("runId", "Run id.")],
    responses: { "202": { description: "The new run, queued.", schema: "ScheduleRun" }, "404": { description: "No such run of this schedule in this tenant." }, "409": { description: "The run did not fail." } },
    idempotent: true,
  },
  {
    method: "post",
    path: "/api/v1/schedules/{id}/backfill",
    summary: "Backfill past periods",
    description: "Queues one run per period of the cadence in [`from`, `to`), behind live runs; they share a `backfillId`.",
    permission: "data.exports.schedule",
    pathParams: [scheduleId],
    body: { schema: "Backfill", example: { from: "2026-01-01", to: "2026-03-01" } },
    responses: { "202": { description: "The backfill, queued.", schema: "BackfillStarted" }, "404": SCHEDULE_404 },
    idempotent: true,
  },
  {
    method: "get",
    path: "/api/v1/metrics",
    summary: "List metric points",
    description: "Newest first, paged by `offset` with `total` and `hasMore`. `startDate` is included, `endDate` is not.",
    permission: "metrics.read",
    query: listMetricsQuery,
    responses: { "200": { description: "A page of points.", schema: "MetricList" } },
  },
  {
    method: "get",
    path: "/api/v1/metrics/{metricId}/timeseries",
    summary: "A metric over time",
    description: "Points aggregated per UTC hour, day, week or month between `startDate` (included) and `endDate` (not).",
    permission: "metrics.read",
    pathParams: [pathId("metricId", "Metric id, such as `stripe.mrr`.")],
    query: timeseriesQuery,
    requiredQuery: ["startDate", "endDate"],
    responses: { "200": { description: "The buckets with count, sum, avg, min and max.", schema: "Timeseries" }, "404": { description: "No such metric in this tenant." } },
  },
  {
    method: "post",
    path: "/api/v1/metrics/custom",
    summary: "Push a custom metric point",
    description: "Points are immutable. Ids fed by an integration are refused with 409.",
    permission: "metrics.write",
    body: { schema: "CustomMetric", example: { metricId: "custom.deployments", value: 3, timestamp: 1767225600000, unit: "count", metadata: { pipeline: "release" } } },
    responses: { "201": { description: "The stored point.", schema: "MetricPoint" }, "409": { description: "The id is fed by an integration." } },
    idempotent: true,
  },
  {
    method: "get",
    path: "/api/v1/dashboards",
    summary: "List dashboards",
    permission: "dashboards.read",
    responses: { "200": { description: "The tenant's dashboards, the default first.", schema: "DashboardList" } },
  },
  {
    method: "get",
    path: "/api/v1/dashboards/{id}",
    summary: "Get a dashboard with its widgets",
    permission: "dashboards.read",
    pathParams: [pathId("id", "Dashboard id.")],
    responses: { "200": { description: "The dashboard and its widgets.", schema: "DashboardWithWidgets" }, "404": { description: "No such dashboard in this tenant." } },
  },
  {
    method: "get",
    path: "/api/v1/dashboards/{id}/export",
    summary: "Export a dashboard file",
    description:
      'The file the portal\'s "Export dashboard" downloads, as an attachment named `dashboard-<id>.json` (`Content-Disposition`): the dashboard and its widgets with the format and its version. `POST /api/v1/dashboards/import` takes it as it is, in this tenant or another.',
    permission: "dashboards.export",
    pathParams: [pathId("id", "Dashboard id.")],
    responses: { "200": { description: "The dashboard file.", schema: "DashboardFile" }, "404": { description: "No such dashboard in this tenant." } },
  },
  {
    method: "post",
    path: "/api/v1/dashboards/import",
    summary: "Import a dashboard, or an export's dashboards",
    description:
      'The body is a file written by "Export dashboard" (`dashboard-<id>.json`, format `exportal.dashboard`), or the `dashboards.json` of an export with dashboards (format `exportal.dashboards`). Each dashboard is recreated in this tenant with new ids, all in one transaction; a taken slug gets a number; one becomes the default only if the tenant has none. Widgets whose metric does not exist here are imported and listed in `flaggedWidgets`. A dashboard file answers with its dashboard (and `Location`), a `dashboards.json` with `dashboards`, one entry per dashboard in the file\'s order. A file of a newer format version is refused with 400.',
    permission: "dashboards.import",
    body: {
      schema: "DashboardImportFile",
      example: {
        format: "exportal.dashboard",
        formatVersion: 1,
        dashboard: { name: "Growth", slug: "growth", type: "custom", isDefault: false, description: "", widgets: [{ type: "chart", title: "Stars", position: { x: 0, y: 0, w: 6, h: 4 }, visible: true, config: { metricId: "github.stars", interval: "week" } }] },
      },
    },
    responses: {
      "201": { description: "For a dashboard file, the new dashboard and the widgets flagged for a missing metric; for a `dashboards.json`, `dashboards`: the same for each.", schema: "DashboardImport" },
    },
    idempotent: true,
  },
  {
    method: "get",
    path: "/api/v1/webhooks",
    summary: "List webhook endpoints",
    description: "The tenant's endpoints that scheduled exports are delivered to. Secrets are never shown after creation.",
    permission: "data.exports.read",
    responses: { "200": { description: "The endpoints, oldest first.", schema: "WebhookList" } },
  },
  {
    method: "post",
    path: "/api/v1/webhooks",
    summary: "Add a webhook endpoint",
    description:
      "The URL must be https (http only for localhost and 127.0.0.1). The answer holds the endpoint's signing secret, once. Each event is a POST of JSON (`type`: `export.completed`, `export.failed` or `ping`) with the header `Exportal-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<raw body>\" under the secret>`; reject a `t` older than a few minutes. A timeout (10 s), a network error or a 5xx is retried with exponential backoff (1 minute, 2, 4, … at most an hour apart) for 24 hours; a 4xx is final.",
    permission: "data.exports.schedule",
    body: { schema: "WebhookInput", example: { url: "https://example.com/hooks/exportal", description: "Data lake loader" } },
    responses: { "201": { description: "The endpoint, with its secret this once.", schema: "CreatedWebhook" } },
    idempotent: true,
  },
  {
    method: "get",
    path: "/api/v1/webhooks/{id}",
    summary: "Get a webhook endpoint",
    permission: "data.exports.read",
    pathParams: [pathId("id", "Webhook endpoint id.")],
    responses: { "200": { description: "The endpoint.", schema: "Webhook" }, "404": { description: "No such endpoint in this tenant." } },
  },
  {
    method: "patch",
    path: "/api/v1/webhooks/{id}",
    summary: "Disable or enable a webhook endpoint",
    description:
      "A disabled endpoint receives nothing: schedules skip it, deliveries waiting for a retry end failed, and it cannot be chosen for a schedule or sent a test event. Its secret, schedule links and log stay; enabling it again resumes deliveries of later runs.",
    permission: "data.exports.schedule",
    pathParams: [pathId("id", "Webhook endpoint id.")],
    body: { schema: "WebhookChange", example: { disabled: true } },
    responses: { "200": { description: "The endpoint.", schema: "Webhook" }, "404": { description: "No such endpoint in this tenant." } },
  },
  {
    method: "delete",
    path: "/api/v1/webhooks/{id}",
    summary: "Delete a webhook endpoint",
    description: "Schedules stop delivering to it; its delivery log goes with it.",
    permission: "data.exports.schedule",
    pathParams: [pathId("id", "Webhook endpoint id.")],
    responses: { "204": { description: "Deleted." }, "404": { description: "No such endpoint in this tenant." } },
  },
  {
    method: "post",
    path: "/api/v1/webhooks/{id}/test",
    summary: "Send a test event",
    description: "POSTs a signed `{\"type\": \"ping\"}` once, now, without retries, and answers what the endpoint answered.",
    permission: "data.exports.schedule",
    pathParams: [pathId("id", "Webhook endpoint id.")],
    responses: { "200": { description: "What the endpoint answered.", schema: "WebhookTestResult" }, "404": { description: "No such endpoint in this tenant." } },
  },
  {
    method: "get",
    path: "/api/v1/buckets",
    summary: "List delivery buckets",
    description: "The tenant's S3-compatible buckets that scheduled exports are delivered to. Their keys are never shown, only the access key id's last four characters.",
    permission: "data.exports.read",
    responses: { "200": { description: "The buckets, oldest first.", schema: "BucketList" } },
  },
  {
    method: "post",
    path: "/api/v1/buckets",
    summary: "Add a delivery bucket",
    description:
      "Each run of a schedule that delivers here puts its archive and `manifest.json` under `<prefix><schedule>/<slot>/`; the keys need `s3:PutObject` on that prefix. The keys are stored encrypted and never shown again. Leave `endpoint` out for AWS; deliveries connect to public addresses only unless the server allows private ones.",
    permission: "data.exports.schedule",
    body: {
      schema: "BucketInput",
      example: { name: "Data lake", endpoint: "https://s3.eu-central-1.amazonaws.com", region: "eu-central-1", bucket: "acme-lake", prefix: "exportal/", accessKeyId: "AKIAEXAMPLE", secretAccessKey: "…" },
    },
    responses: { "201": { description: "The bucket, without its keys.", schema: "Bucket" } },
    idempotent: true,
  },
  {
    method: "get",
    path: "/api/v1/buckets/{id}",
    summary: "Get a delivery bucket",
    permission: "data.exports.read",
    pathParams: [pathId("id", "Bucket id.")],
    responses: { "200": { description: "The bucket.", schema: "Bucket" }, "404": { description: "No such bucket in this tenant." } },
  },
  {
    method: "delete",
    path: "/api/v1/buckets/{id}",
    summary: "Delete a delivery bucket",
    description: "Schedules stop delivering to it; its delivery log goes with it. What was delivered stays in the bucket.",
    permission: "data.exports.schedule",
    pathParams: [pathId("id", "Bucket id.")],
    responses: { "204": { description: "Deleted." }, "404": { description: "No such bucket in this tenant." } },
  },
  {
    method: "post",
    path: "/api/v1/buckets/{id}/test",
    summary: "Test a delivery bucket",
    description: "Uploads a small text file, `<prefix>exportal-test.txt`, once, now, with the bucket's keys, and answers whether the server took it: the address, the bucket, the keys and their `s3:PutObject` right are checked as a run uses them.",
    permission: "data.exports.schedule",
    pathParams: [pathId("id", "Bucket id.")],
    responses: { "200": { description: "What the server answered.", schema: "BucketTestResult" }, "404": { description: "No such bucket in this tenant." } },
  },
];

const COMPONENTS: Record<string, [z.ZodType, "input" | "output"]> = {
  ExportRequest: [exportRequestSchema, "input"],
  CustomMetric: [customMetricBody, "input"],
  Export: [apiExport, "output"],
  ExportList: [exportList, "output"],
  DownloadLink: [downloadLink, "output"],
  ManifestKey: [manifestKey, "output"],
  MetricPoint: [metricPoint, "output"],
  MetricList: [metricList, "output"],
  Timeseries: [timeseries, "output"],
  DashboardList: [dashboardList, "output"],
  DashboardWithWidgets: [dashboardWithWidgets, "output"],
  DashboardFile: [dashboardFile, "input"],
  DashboardImportFile: [dashboardImportFile, "input"],
  DashboardImport: [z.union([importedDashboard, importedDashboards]), "output"],
  WebhookInput: [webhookInputSchema, "input"],
  WebhookChange: [webhookChangeSchema, "input"],
  Webhook: [apiWebhook, "output"],
  WebhookList: [webhookList, "output"],
  CreatedWebhook: [createdWebhook, "output"],
  WebhookTestResult: [webhookTestResult, "output"],
  BucketInput: [bucketInputSchema, "input"],
  Bucket: [apiBucket, "output"],
  BucketList: [bucketList, "output"],
  BucketTestResult: [bucketTestResult, "output"],
  ScheduleInput: [scheduleInputSchema, "input"],
  SchedulePatch: [schedulePatch, "input"],
  Schedule: [apiSchedule, "output"],
  ScheduleList: [scheduleList, "output"],
  ScheduleRun: [apiScheduleRun, "output"],
  ScheduleRunList: [scheduleRunList, "output"],
  Backfill: [backfillBody, "input"],
  BackfillStarted: [backfillStarted, "output"],
  Error: [apiError, "output"],
};

const RATE_HEADERS = {
  "X-Request-Id": { description: "This request's id; quote it to support.", schema: { type: "string" } },
  "X-RateLimit-Limit": { description: "Requests allowed per window.", schema: { type: "integer" } },
  "X-RateLimit-Remaining": { description: "Requests left in this window.", schema: { type: "integer" } },
  "X-RateLimit-Reset": { description: "Unix time (seconds) when the window resets.", schema: { type: "integer" } },
  RateLimit: { description: 'IETF RateLimit field, e.g. `"hourly";r=998;t=1800`.', schema: { type: "string" } },
  "RateLimit-Policy": { description: 'IETF RateLimit-Policy field, e.g. `"hourly";q=1000;w=3600`.', schema: { type: "string" } },
};

/** The OpenAPI 3.1 document, generated from the schemas that validate requests. */
export function openApiDocument(serverUrl: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const parameters = [...(op.pathParams ?? []), ...(op.query ? queryParameters(op.query, op.requiredQuery) : [])];
    if (op.idempotent) {
      parameters.push({ name: "Idempotency-Key", in: "header", required: false, description: "Replays the first response for 24 hours when the same key and body are sent again.", schema: { type: "string", maxLength: 255 } } as never);
    }
    // A public endpoint has no key to refuse and no tenant to count against.
    const isPublic = op.permission === null;
    const headers = isPublic ? { "X-Request-Id": RATE_HEADERS["X-Request-Id"] } : RATE_HEADERS;
    const responses: Record<string, unknown> = isPublic ? {} : { ...COMMON_ERRORS };
    for (const [status, r] of Object.entries(op.responses)) {
      responses[status] = r.schema ? { description: r.description, headers, content: jsonContent(ref(r.schema)) } : status.startsWith("2") || status === "302" ? { description: r.description, headers } : errorResponse(r.description);
    }
    (paths[op.path] ??= {})[op.method] = {
      operationId: `${op.method}${op.path.replace(/\/api\/v1|[{}]/g, "").replace(/[/-](\w)/g, (_, c: string) => c.toUpperCase())}`,
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      ...(isPublic ? { security: [] } : { "x-permission": op.permission }),
      ...(parameters.length ? { parameters } : {}),
      ...(op.body ? { requestBody: { required: true, content: { "application/json": { schema: ref(op.body.schema), example: op.body.example } } } } : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Exportal API",
      version: "1.0.0",
      description:
        "Tenant-scoped access to exports, export schedules, metrics and dashboards. Authenticate with `Authorization: Bearer <API key>`. Each tenant may make 1,000 requests per hour unless configured otherwise. Errors share one shape: `{\"error\": {\"code\", \"message\", \"details\", \"requestId\"}}`. Request bodies are limited to 1 MB.",
    },
    servers: [{ url: serverUrl }],
    security: [{ apiKey: [] }],
    paths,
    components: {
      securitySchemes: { apiKey: { type: "http", scheme: "bearer", description: "An API key created on the tenant's API keys page (`xpk_…`)." } },
      schemas: Object.fromEntries(Object.entries(COMPONENTS).map(([name, [schema, io]]) => [name, jsonSchema(schema, io)])),
    },
  };
}
