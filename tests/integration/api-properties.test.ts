import { readdirSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import { apiError } from "../../app/api/schemas";
import { OPERATIONS } from "../../app/api/openapi.server";
import { startApp, type RunningApp } from "../setup/app-server";
import { apiClient, createKey } from "../setup/api";
import { day } from "../setup/dates";

// Random query strings and bodies at every endpoint: whatever a program
// sends, the answer is never a 500, and every error has the one shape.
let app: RunningApp;
let api: ReturnType<typeof apiClient>;
let key: string;
let exportId: string;
let dashboardId: string;
let scheduleId: string;

beforeAll(async () => {
  app = await startApp();
  api = apiClient(app.url);
  key = await createKey("production");
  await getDb().updateTable("tenant").set({ api_requests_per_hour: 1_000_000, api_export_burst: 1_000_000, api_exports_per_hour: 1_000_000 }).where("slug", "=", "production").execute();
  const created = await api("/api/v1/exports", { key, json: { dataTypes: ["lab_results"] } });
  exportId = created.body.id;
  dashboardId = (await api("/api/v1/dashboards", { key })).body.data[0].id;
  const schedule = { name: "Property target", request: { dataTypes: ["lab_results"] }, cadence: { kind: "daily", time: "06:00" }, timeZone: "UTC" };
  scheduleId = (await api("/api/v1/schedules", { key, json: schedule })).body.id;
}, 90_000);
afterAll(() => app?.stop());

// Any code point, U+0000 and lone surrogates included: what a careless client can send,
// with the awkward ones often enough to reach the database in 40 runs.
const text = fc.oneof(fc.string({ unit: "binary", maxLength: 40 }), fc.constantFrom("\u0000", "a\u0000b", "\ud800", "' OR 1=1 --", "%00", "名前", ""));

const KNOWN_PARAMS = ["limit", "cursor", "status", "metricIds", "startDate", "endDate", "offset", "interval"];

const queryString = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom(...KNOWN_PARAMS), text), fc.oneof(text, fc.integer().map(String), fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.constantFrom("", "-1", "1e309", "NaN", "%", "day", "done"))), { maxLength: 5 })
  .map((pairs) => new URLSearchParams(pairs).toString());

const pathValue = fc.oneof(fc.constant("REAL"), fc.string({ unit: "binary", minLength: 1, maxLength: 40 }), fc.uuid(), fc.constantFrom("..", "%00", "ga.sessions", "a".repeat(300)));

// Bodies close enough to valid that they reach the database more often than not.
const mostly = <T>(likely: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: likely }, { weight: 1, arbitrary: fc.anything() });
const small = fc.oneof({ weight: 4, arbitrary: fc.nat(12) }, { weight: 1, arbitrary: fc.integer() });
const widgetInput = fc.record({
  type: fc.constantFrom("metric", "chart", "table", "pie"),
  title: text,
  position: mostly(fc.record({ x: small, y: small, w: small, h: small })),
  visible: fc.oneof(fc.boolean(), fc.anything()),
  config: mostly(fc.dictionary(text, fc.jsonValue())),
});
const dashboardFile = fc.record({
  format: mostly(fc.constant("exportal.dashboard")),
  formatVersion: mostly(fc.constantFrom(1, 2, 0)),
  dashboard: mostly(
    fc.record(
      { name: text, slug: fc.oneof(text, fc.constant("growth")), type: fc.constantFrom("custom", "category", "x"), isDefault: fc.boolean(), description: text, widgets: fc.array(widgetInput, { maxLength: 3 }) },
      { requiredKeys: ["name", "widgets"] },
    ),
  ),
});
const customMetric = fc.record(
  { metricId: mostly(fc.constantFrom("custom.property_test", "ga.sessions")), value: mostly(fc.double()), timestamp: fc.oneof(fc.integer(), fc.double(), fc.anything()), unit: text, metadata: mostly(fc.dictionary(text, fc.jsonValue())) },
  { requiredKeys: ["metricId", "value"] },
);

const scheduleInput = fc.record(
  {
    name: text,
    request: mostly(fc.record({ scope: mostly(fc.constant({ type: "tenant" })), dataTypes: mostly(fc.constantFrom(["lab_results"], ["nope"], [])), format: fc.constantFrom("csv", "ndjson", "x"), dateRange: fc.anything() }, { requiredKeys: [] })),
    cadence: mostly(fc.oneof(fc.record({ kind: fc.constantFrom("daily", "weekly", "monthly", "cron"), time: fc.oneof(text, fc.constant("07:00")), weekday: small, dayOfMonth: fc.oneof(small, fc.constant("last")), expression: fc.oneof(text, fc.constant("0 9 * * 1-5")) }, { requiredKeys: ["kind"] }))),
    timeZone: fc.oneof(text, fc.constantFrom("UTC", "Europe/Berlin", "Mars/Olympus")),
    delta: fc.oneof(fc.boolean(), fc.anything()),
    recipients: fc.oneof(fc.array(fc.oneof(text, fc.uuid()), { maxLength: 2 }), fc.anything()),
    from: fc.oneof(text, fc.date({ noInvalidDate: true }).map((d) => d.toISOString())),
    to: fc.oneof(text, fc.date({ noInvalidDate: true }).map((d) => d.toISOString())),
  },
  { requiredKeys: [] },
);

const body = fc.oneof(
  fc.json(),
  text,
  dashboardFile.map((v) => JSON.stringify(v)),
  fc.record({ scope: fc.anything(), dateRange: fc.anything(), dataTypes: fc.anything(), format: fc.anything() }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  customMetric.map((v) => JSON.stringify(v)),
  scheduleInput.map((v) => JSON.stringify(v)),
);

// A real schedule for reading and changing; deleting it would leave the other endpoints nothing to act on, and
// running it is the runner's (tests/integration/schedule-runs.test.ts), so those get an id that is no schedule.
const realSchedule = (path: string, method: string) => method !== "delete" && !/\/(run|retry|backfill)$/.test(path);

function fill(path: string, value: string, method = "get"): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (value !== "REAL") return encodeURIComponent(value);
    if (name === "metricId") return "ga.sessions";
    if (path.includes("dashboards")) return dashboardId;
    return name === "id" && path.includes("schedules") && realSchedule(path, method) ? scheduleId : exportId;
  });
}

async function expectNo500(res: { status: number; body: unknown; headers: Headers }, what: string) {
  if (res.status >= 500) throw new Error(`${what} answered ${res.status}: ${JSON.stringify(res.body)}`);
  expect(res.headers.get("x-request-id"), what).toBeTruthy();
  if (res.status >= 400) expect(apiError.safeParse(res.body).success, `${what}: ${JSON.stringify(res.body)}`).toBe(true);
}

describe("no input gets a 500", () => {
  for (const op of OPERATIONS) {
    it(`${op.method.toUpperCase()} ${op.path}`, async () => {
      await fc.assert(
        fc.asyncProperty(pathValue, queryString, body, async (value, query, text) => {
          const path = `${fill(op.path, value, op.method)}?${query}`;
          const sends = op.method === "post" || op.method === "patch";
          const res = await api(path, { key, method: op.method.toUpperCase(), ...(sends ? { body: text, headers: { "Content-Type": "application/json" } } : {}) });
          await expectNo500(res, `${op.method} ${path} ${sends ? text.slice(0, 200) : ""}`);
        }),
        { numRuns: 40 },
      );
    });
  }
});

const HTTP_METHODS = ["get", "post", "put", "patch", "delete"];
// Route files under /api/v1 that are not endpoints: the catch-all for unknown paths, and the document itself.
const NOT_ENDPOINTS = ["api.v1.$.ts", "api.v1.openapi[.]json.ts"];

/** A flat route file's URL path (Remix's convention): dots separate segments, `$name` is a parameter, `[.]` a literal dot. */
function routePath(file: string): string {
  const segments = file.replace(/\.tsx?$/, "").split(/\.(?![^[]*\])/);
  return "/" + segments.map((s) => (s.startsWith("$") ? `{${s.slice(1)}}` : s.replace(/\[(.)\]/g, "$1"))).join("/");
}

/**
 * Every method and path the route files answer: each file's path from its name, its methods from the
 * handlers it exports (an API route names them in the Allow header of its 405), and Remix needs a
 * `loader` for GET and an `action` for POST.
 */
async function routedEndpoints(key: string): Promise<string[]> {
  const dir = path.resolve("app/routes");
  const files = readdirSync(dir).filter((f) => f.startsWith("api.v1.") && !NOT_ENDPOINTS.includes(f));
  const endpoints: string[] = [];
  for (const file of files) {
    const route = await import(/* @vite-ignore */ pathToFileURL(path.join(dir, file)).href);
    const request = new Request(`http://localhost${routePath(file)}`, { method: "OPTIONS", headers: { Authorization: `Bearer ${key}` } });
    const res: Response = await route.loader({ request, params: {}, context: {} });
    expect(res.status, file).toBe(405);
    const methods = res.headers.get("allow")!.split(/,\s*/);
    for (const method of methods) {
      expect(typeof route[method === "GET" ? "loader" : "action"], `${file} ${method}`).toBe("function");
      endpoints.push(`${method} ${routePath(file)}`);
    }
  }
  return endpoints;
}

describe("the OpenAPI document", () => {
  it("describes every endpoint the route files answer, and no other, and the limits it states are the ones enforced", async () => {
    const res = await fetch(`${app.url}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    const doc = await res.json();
    expect(doc.openapi).toBe("3.1.0");
    // The endpoints that exist, read from the route files rather than from the list the document is made from.
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
      Object.keys(item).filter((m) => HTTP_METHODS.includes(m)).map((m) => `${m.toUpperCase()} ${path}`),
    );
    const routed = await routedEndpoints(key);
    expect(routed.length).toBeGreaterThanOrEqual(11);
    expect(documented.sort()).toEqual(routed.sort());
    // One format, `both`, or any list of them.
    expect(doc.components.schemas.ExportRequest.properties.format.anyOf).toEqual([
      { type: "string", enum: ["ndjson", "csv", "parquet", "xlsx", "both"] },
      { minItems: 1, type: "array", items: { type: "string", enum: ["ndjson", "csv", "parquet", "xlsx"] } },
    ]);

    let checked = 0;
    for (const op of OPERATIONS.filter((o) => o.method === "get")) {
      for (const param of doc.paths[op.path].get.parameters ?? []) {
        if (param.in !== "query" || param.schema.type !== "integer" || param.schema.maximum === undefined) continue;
        const base = op.path.includes("timeseries") ? `startDate=${day(-60)}&endDate=${day(-30)}&` : "";
        const path = fill(op.path, "REAL");
        const atMax = await api(`${path}?${base}${param.name}=${param.schema.maximum}`, { key });
        expect(atMax.status, `${path} ${param.name}=${param.schema.maximum}`).toBe(200);
        const over = await api(`${path}?${base}${param.name}=${param.schema.maximum + 1}`, { key });
        expect(over.status).toBe(400);
        expect(over.body.error.details.parameter).toBe(param.name);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(3);
  });
});
