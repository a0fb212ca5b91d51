import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import { keyCacheSettled } from "../../app/api/key-cache.server";
import { createApiKey } from "../../app/api/keys.server";
import { apiError, apiSchedule, scheduleList, scheduleRunList } from "../../app/api/schemas";
import { OPERATIONS, openApiDocument } from "../../app/api/openapi.server";
import type { Permission } from "../../app/auth/permissions";
import { requesterForUser } from "../../app/schedules/owner-rights.server";
import * as schedules from "../../app/routes/api.v1.schedules";
import * as schedule from "../../app/routes/api.v1.schedules.$id";
import * as pause from "../../app/routes/api.v1.schedules.$id.pause";
import * as resume from "../../app/routes/api.v1.schedules.$id.resume";
import * as runNow from "../../app/routes/api.v1.schedules.$id.run";
import * as runs from "../../app/routes/api.v1.schedules.$id.runs";
import * as run from "../../app/routes/api.v1.schedules.$id.runs.$runId";
import * as retry from "../../app/routes/api.v1.schedules.$id.runs.$runId.retry";
import * as backfill from "../../app/routes/api.v1.schedules.$id.backfill";
import { callRoute, makeRequest, signIn, type RouteResult } from "../setup/routes";
import { tenantBySlug } from "../setup/api";

// The schedules API, route by route, with real keys: what a program sends,
// what it gets back, and who may do what. Running a schedule (run now,
// retry, backfill) is the runner's: here only who may ask.

const ROUTES: [RegExp, { loader: (args: never) => Promise<Response> }][] = [
  [/^\/api\/v1\/schedules$/, schedules],
  [/^\/api\/v1\/schedules\/(?<id>[^/]+)$/, schedule],
  [/^\/api\/v1\/schedules\/(?<id>[^/]+)\/pause$/, pause],
  [/^\/api\/v1\/schedules\/(?<id>[^/]+)\/resume$/, resume],
  [/^\/api\/v1\/schedules\/(?<id>[^/]+)\/run$/, runNow],
  [/^\/api\/v1\/schedules\/(?<id>[^/]+)\/runs$/, runs],
  [/^\/api\/v1\/schedules\/(?<id>[^/]+)\/runs\/(?<runId>[^/]+)$/, run],
  [/^\/api\/v1\/schedules\/(?<id>[^/]+)\/runs\/(?<runId>[^/]+)\/retry$/, retry],
  [/^\/api\/v1\/schedules\/(?<id>[^/]+)\/backfill$/, backfill],
];

/** Calls the route file that answers `path`, as Remix would. */
function api(key: string | null, method: string, path: string, json?: unknown, raw?: string): Promise<RouteResult> {
  const pathname = path.split("?")[0];
  const [pattern, route] = ROUTES.find(([p]) => p.test(pathname))!;
  const params = { ...pattern.exec(pathname)!.groups } as Record<string, string>;
  const headers: Record<string, string> = {};
  if (key) headers.Authorization = `Bearer ${key}`;
  const body = raw ?? (json === undefined ? undefined : JSON.stringify(json));
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return callRoute(route.loader as never, new Request(`http://localhost:3000${path}`, { method, headers, body }), params);
}

const WEEKLY = {
  name: "Weekly labs",
  request: { scope: { type: "tenant" }, dataTypes: ["lab_results"], format: "csv" },
  cadence: { kind: "weekly", weekday: 1, time: "07:00" },
  timeZone: "Europe/Berlin",
};

let staging: { id: string; organization_id: string };
let adminId: string;
let editorId: string;
let key: string; // the staging admin's, with every schedule right
let readOnlyKey: string;
let productionKey: string;

async function userId(email: string) {
  return (await getDb().selectFrom("user").select("id").where("email", "=", email).executeTakeFirstOrThrow()).id;
}

async function keyOf(userIdOf: string, tenantId: string, permissions: Permission[], name = `key ${permissions.join(" ")}`) {
  const creator = (await requesterForUser(getDb(), userIdOf, tenantId))!;
  return (await createApiKey(getDb(), creator, { name, permissions })).key;
}

async function setStagingRole(user: string, role: "admin" | "editor" | "viewer") {
  await getDb().updateTable("tenant_member").set({ role }).where("tenant_id", "=", staging.id).where("user_id", "=", user).execute();
  await keyCacheSettled(); // the change's notification reached this process's key cache, as it reaches every web process within milliseconds
}

function expectError(res: RouteResult, status: number, code: string) {
  expect(res.status, JSON.stringify(res.data)).toBe(status);
  expect(apiError.parse(res.data).error.code).toBe(code);
}

/** A 400 that names `field` among the fields at fault. */
function expectField(res: RouteResult, field: string | RegExp) {
  expectError(res, 400, "INVALID_REQUEST");
  const fields = Object.keys(res.data.error.details.fields ?? {});
  if (typeof field === "string") expect(fields, res.data.error.message).toContain(field);
  else expect(fields.some((f) => field.test(f)), `${fields.join(", ")}: ${res.data.error.message}`).toBe(true);
}

beforeAll(async () => {
  staging = await tenantBySlug("staging");
  adminId = await userId("staging-admin@acme.test");
  editorId = await userId("staging-editor@acme.test");
  key = await keyOf(adminId, staging.id, ["data.exports.read", "data.exports.create", "data.exports.schedule"]);
  readOnlyKey = await keyOf(adminId, staging.id, ["data.exports.read"]);
  const production = await tenantBySlug("production");
  productionKey = await keyOf(await userId("production-admin@acme.test"), production.id, ["data.exports.read", "data.exports.create", "data.exports.schedule"]);
});

afterAll(async () => {
  await setStagingRole(adminId, "admin");
});

describe("a schedule's life over the API", () => {
  it("is created, read, listed, changed, paused, resumed and deleted", async () => {
    const created = await api(key, "POST", "/api/v1/schedules", WEEKLY);
    expect(created.status, JSON.stringify(created.data)).toBe(201);
    const s = apiSchedule.parse(created.data);
    expect(created.headers.get("location")).toBe(`http://localhost:3000/api/v1/schedules/${s.id}`);
    expect(s).toMatchObject({
      name: "Weekly labs",
      status: "active",
      pausedReason: null,
      cadence: { kind: "weekly", weekday: 1, time: "07:00" },
      cadenceText: "Every Monday at 07:00",
      timeZone: "Europe/Berlin",
      request: { scope: { type: "tenant" }, dataTypes: ["lab_results"], format: "csv", dateRange: { relative: "interval" } },
      delta: false,
      recipients: [],
      // A key's schedule is its creator's: each run is made with their rights.
      owner: { userId: adminId, name: "Staging Admin" },
      links: { self: created.headers.get("location"), runs: `${created.headers.get("location")}/runs` },
    });
    // The next Monday 07:00 in Berlin: 05:00 or 06:00 UTC, within a week.
    const next = new Date(s.nextRunAt!);
    expect(next.getUTCDay()).toBe(1);
    expect([5, 6]).toContain(next.getUTCHours());
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(7 * 86_400_000);

    const got = await api(key, "GET", `/api/v1/schedules/${s.id}`);
    expect(got.status).toBe(200);
    expect(got.data).toEqual(created.data);

    const listed = await api(readOnlyKey, "GET", "/api/v1/schedules");
    expect(listed.status).toBe(200);
    expect(scheduleList.parse(listed.data).data.map((x) => x.id)).toContain(s.id);

    // A PATCH changes what it names and keeps the rest; a new cadence moves the next run.
    const patched = await api(key, "PATCH", `/api/v1/schedules/${s.id}`, { cadence: { kind: "daily", time: "06:30" }, request: { format: "ndjson" }, recipients: [editorId] });
    expect(patched.status, JSON.stringify(patched.data)).toBe(200);
    expect(patched.data).toMatchObject({
      name: "Weekly labs",
      cadence: { kind: "daily", time: "06:30" },
      cadenceText: "Every day at 06:30",
      request: { scope: { type: "tenant" }, dataTypes: ["lab_results"], format: "ndjson" },
      recipients: [{ userId: editorId, email: "staging-editor@acme.test" }],
    });
    expect(patched.data.nextRunAt).not.toBe(s.nextRunAt);
    expect(new Date(patched.data.nextRunAt).getTime() - Date.now()).toBeLessThanOrEqual(86_400_000);
    // An empty PATCH saves the same settings.
    const same = await api(key, "PATCH", `/api/v1/schedules/${s.id}`, {});
    expect(same.status).toBe(200);
    expect(same.data.recipients).toHaveLength(1);

    const paused = await api(key, "POST", `/api/v1/schedules/${s.id}/pause`);
    expect(paused.status).toBe(200);
    expect(paused.data).toMatchObject({ status: "paused", nextRunAt: null });
    // Changing a paused schedule leaves it paused.
    const renamed = await api(key, "PATCH", `/api/v1/schedules/${s.id}`, { name: "Daily labs" });
    expect(renamed.data).toMatchObject({ name: "Daily labs", status: "paused", nextRunAt: null });

    const resumed = await api(key, "POST", `/api/v1/schedules/${s.id}/resume`);
    expect(resumed.status).toBe(200);
    expect(resumed.data.status).toBe("active");
    expect(new Date(resumed.data.nextRunAt).getTime()).toBeGreaterThan(Date.now());

    const noRuns = await api(key, "GET", `/api/v1/schedules/${s.id}/runs?limit=5`);
    expect(noRuns.status).toBe(200);
    expect(scheduleRunList.parse(noRuns.data)).toEqual({ data: [] });

    const audited = await getDb().selectFrom("audit_event").select(["action", "actor_api_key_id", "actor_user_id"]).where("subject_id", "=", s.id).orderBy("id").execute();
    expect(audited.map((e) => e.action)).toEqual(["schedule.created", "schedule.updated", "schedule.updated", "schedule.paused", "schedule.updated", "schedule.resumed"]);
    expect(audited.every((e) => e.actor_api_key_id && e.actor_user_id === null)).toBe(true);

    const deleted = await api(key, "DELETE", `/api/v1/schedules/${s.id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.data).toBe("");
    expectError(await api(key, "GET", `/api/v1/schedules/${s.id}`), 404, "NOT_FOUND");
    expectError(await api(key, "DELETE", `/api/v1/schedules/${s.id}`), 404, "NOT_FOUND");
  });

  it("lists a schedule's runs newest first with the exports each made", async () => {
    const s = (await api(key, "POST", "/api/v1/schedules", { ...WEEKLY, name: "With runs" })).data;
    const db = getDb();
    const [older, newer] = await db
      .insertInto("export_schedule_run")
      .values([
        { schedule_id: s.id, tenant_id: staging.id, kind: "scheduled", slot_at: new Date("2026-01-05T06:00:00Z"), interval_from: new Date("2025-12-29T06:00:00Z"), interval_to: new Date("2026-01-05T06:00:00Z"), status: "failed", error: "boom", created_at: new Date("2026-01-05T06:00:01Z") },
        { schedule_id: s.id, tenant_id: staging.id, kind: "manual", slot_at: new Date("2026-01-07T10:00:00Z"), interval_from: new Date("2026-01-05T06:00:00Z"), interval_to: new Date("2026-01-07T10:00:00Z"), status: "pending", created_at: new Date("2026-01-07T10:00:01Z") },
      ])
      .returning("id")
      .execute();
    // Exports are made with no worker here: the row is what the API reads.
    const exp = await db
      .insertInto("export")
      .values({
        tenant_id: staging.id,
        organization_id: staging.organization_id,
        requested_by_user_id: null,
        scope: { type: "tenant" },
        data_types: ["lab_results"],
        formats: ["csv"],
        rows_expected: null,
        archive_key: null,
        archive_bytes: null,
        manifest: null,
        error: null,
        started_at: null,
        finished_at: null,
        heartbeat_at: null,
        run_id: null,
        expires_at: null,
        deidentification: "deidentified",
        schedule_run_id: newer.id,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    const res = await api(key, "GET", `/api/v1/schedules/${s.id}/runs`);
    expect(res.status, JSON.stringify(res.data)).toBe(200);
    const list = scheduleRunList.parse(res.data).data;
    expect(list.map((r) => r.id)).toEqual([newer.id, older.id]);
    expect(list[1]).toMatchObject({ kind: "scheduled", slot: "2026-01-05T06:00:00.000Z", interval: { from: "2025-12-29T06:00:00.000Z", to: "2026-01-05T06:00:00.000Z" }, status: "failed", error: "boom", exports: [] });
    expect(list[0].exports).toEqual([{ id: exp.id, status: "pending", deidentification: "deidentified", links: { self: `http://localhost:3000/api/v1/exports/${exp.id}` } }]);
    const one = await api(key, "GET", `/api/v1/schedules/${s.id}/runs?limit=1`);
    expect(one.data.data.map((r: { id: string }) => r.id)).toEqual([newer.id]);
  });
});

describe("running a schedule over the API", () => {
  // What a run does is the runner's (tests/integration/schedule-runs.test.ts); here, what the API answers.
  it("runs now (202 with the run), shows the run, refuses to retry one that did not fail, and backfills", async () => {
    const s = (await api(key, "POST", "/api/v1/schedules", { ...WEEKLY, name: "Run me" })).data;
    const started = await api(key, "POST", `/api/v1/schedules/${s.id}/run`);
    expect(started.status, JSON.stringify(started.data)).toBe(202);
    expect(started.data).toMatchObject({ kind: "manual", status: "pending", exports: [], links: { schedule: s.links.self } });
    expect(started.headers.get("location")).toBe(`${s.links.self}/runs/${started.data.id}`);
    const one = await api(key, "GET", `/api/v1/schedules/${s.id}/runs/${started.data.id}`);
    expect(one.status).toBe(200);
    expect(one.data.id).toBe(started.data.id);
    expect((await api(key, "GET", `/api/v1/schedules/${s.id}/runs`)).data.data.map((r: { id: string }) => r.id)).toEqual([started.data.id]);
    expectError(await api(key, "POST", `/api/v1/schedules/${s.id}/runs/${started.data.id}/retry`), 409, "CONFLICT");
    // A run is found only under its own schedule.
    const other = (await api(key, "POST", "/api/v1/schedules", { ...WEEKLY, name: "Another" })).data;
    expectError(await api(key, "GET", `/api/v1/schedules/${other.id}/runs/${started.data.id}`), 404, "NOT_FOUND");
    const backfilled = await api(key, "POST", `/api/v1/schedules/${s.id}/backfill`, { from: "2026-01-01", to: "2026-01-29" });
    expect(backfilled.status, JSON.stringify(backfilled.data)).toBe(202);
    expect(backfilled.data).toMatchObject({ runs: 4, links: { runs: s.links.runs } });
  });
});

describe("what a client sends that is wrong is a 400 naming the field", () => {
  let id: string;
  beforeAll(async () => {
    id = (await api(key, "POST", "/api/v1/schedules", { ...WEEKLY, name: "Target of bad input" })).data.id;
  });

  const badCreates: [string, unknown, string | RegExp][] = [
    ["a time that is not HH:MM", { ...WEEKLY, cadence: { kind: "daily", time: "25:00" } }, "cadence.time"],
    ["a weekday out of range", { ...WEEKLY, cadence: { kind: "weekly", weekday: 9, time: "07:00" } }, "cadence.weekday"],
    ["an unknown cadence", { ...WEEKLY, cadence: { kind: "hourly" } }, /^cadence/],
    ["a cron expression that is not one", { ...WEEKLY, cadence: { kind: "cron", expression: "every day" } }, "cadence.expression"],
    ["an unknown data type", { ...WEEKLY, request: { ...WEEKLY.request, dataTypes: ["nope"] } }, /^request\.dataTypes/],
    ["no data types", { ...WEEKLY, request: { ...WEEKLY.request, dataTypes: [] } }, "request.dataTypes"],
    ["a date range of fixed dates", { ...WEEKLY, request: { ...WEEKLY.request, dateRange: { from: "2026-01-01" } } }, /^request\.dateRange/],
    ["a time zone that does not exist", { ...WEEKLY, timeZone: "Mars/Olympus" }, "timeZone"],
    ["no name", { ...WEEKLY, name: undefined }, "name"],
    ["a name of the wrong type", { ...WEEKLY, name: 42 }, "name"],
    ["delta as a string", { ...WEEKLY, delta: "yes" }, "delta"],
    ["a recipient who is not in the tenant", { ...WEEKLY, recipients: ["00000000-0000-4000-8000-000000000000"] }, "recipients"],
    ["a recipient that is not an id", { ...WEEKLY, recipients: ["not-a-uuid"] }, "recipients"],
    ["a misspelt field", { ...WEEKLY, timezone: "UTC" }, "timezone"],
    ["an unknown field of the request", { ...WEEKLY, request: { ...WEEKLY.request, colour: "red" } }, "request.colour"],
    ["a list for a body", [WEEKLY], "body"],
    ["a string for a body", "weekly", "body"],
  ];
  for (const [what, body, field] of badCreates) {
    it(`create with ${what}`, async () => {
      expectField(await api(key, "POST", "/api/v1/schedules", body), field);
    });
  }

  it("bad JSON, and a body that is not JSON, are 400s and 415s, not 500s", async () => {
    expectError(await api(key, "POST", "/api/v1/schedules", undefined, "{not json"), 400, "INVALID_REQUEST");
    expectError(await api(key, "PATCH", `/api/v1/schedules/${id}`, undefined, '{"name":'), 400, "INVALID_REQUEST");
    const empty = await api(key, "POST", "/api/v1/schedules");
    expectField(empty, "name");
  });

  const badPatches: [string, unknown, string | RegExp][] = [
    ["a bad time", { cadence: { kind: "daily", time: "7am" } }, "cadence.time"],
    ["a request that is not an object", { request: 5 }, "request"],
    ["a bad format", { request: { format: "xml" } }, "request.format"],
    ["a bad time zone", { timeZone: "Europe/Atlantis" }, "timeZone"],
    ["a null name", { name: null }, "name"],
    ["an unknown field", { status: "paused" }, "status"],
    ["a list", [], "body"],
  ];
  for (const [what, body, field] of badPatches) {
    it(`patch with ${what}`, async () => {
      expectField(await api(key, "PATCH", `/api/v1/schedules/${id}`, body), field);
    });
  }

  it("leaves the schedule as it was after a refused change", async () => {
    const s = await api(key, "GET", `/api/v1/schedules/${id}`);
    expect(s.data).toMatchObject({ name: "Target of bad input", cadence: WEEKLY.cadence, timeZone: "Europe/Berlin", request: { format: "csv" } });
  });

  it("ids that are not uuids or not schedules are 404s; a bad limit or backfill range is a 400", async () => {
    for (const bad of ["nope", "1", "00000000-0000-4000-8000-000000000000", "'; drop table export_schedule; --"]) {
      expectError(await api(key, "GET", `/api/v1/schedules/${encodeURIComponent(bad)}`), 404, "NOT_FOUND");
      expectError(await api(key, "PATCH", `/api/v1/schedules/${encodeURIComponent(bad)}`, { name: "x" }), 404, "NOT_FOUND");
      expectError(await api(key, "GET", `/api/v1/schedules/${encodeURIComponent(bad)}/runs`), 404, "NOT_FOUND");
    }
    expectError(await api(key, "GET", `/api/v1/schedules/${id}/runs/not-a-run`), 404, "NOT_FOUND");
    const limit = await api(key, "GET", `/api/v1/schedules/${id}/runs?limit=0`);
    expectError(limit, 400, "INVALID_REQUEST");
    expect(limit.data.error.details.parameter).toBe("limit");
    expectError(await api(key, "GET", `/api/v1/schedules/${id}/runs?page=2`), 400, "INVALID_REQUEST");
    expectField(await api(key, "POST", `/api/v1/schedules/${id}/backfill`, { from: "2026-03-01", to: "2026-01-01" }), "to");
    expectField(await api(key, "POST", `/api/v1/schedules/${id}/backfill`, { from: "last week", to: "2026-01-01" }), "from");
    expectField(await api(key, "POST", `/api/v1/schedules/${id}/backfill`, {}), "from");
  });

  it("answers PUT with 405 naming the methods", async () => {
    const res = await api(key, "PUT", `/api/v1/schedules/${id}`, WEEKLY);
    expectError(res, 405, "METHOD_NOT_ALLOWED");
    expect(res.headers.get("allow")).toBe("GET, PATCH, DELETE");
  });
});

describe("who may do what", () => {
  let id: string;
  beforeAll(async () => {
    id = (await api(key, "POST", "/api/v1/schedules", { ...WEEKLY, name: "Guarded" })).data.id;
  });

  // Run now, retry and backfill are the runner's (tests/integration/schedule-runs.test.ts, on its branch): here, only who may ask.
  const changes = (scheduleId: string): [string, string, unknown?][] => [
    ["POST", "/api/v1/schedules", WEEKLY],
    ["PATCH", `/api/v1/schedules/${scheduleId}`, { name: "Taken over" }],
    ["DELETE", `/api/v1/schedules/${scheduleId}`],
    ["POST", `/api/v1/schedules/${scheduleId}/pause`],
    ["POST", `/api/v1/schedules/${scheduleId}/resume`],
    ["POST", `/api/v1/schedules/${scheduleId}/run`],
    ["POST", `/api/v1/schedules/${scheduleId}/runs/00000000-0000-4000-8000-000000000000/retry`],
    ["POST", `/api/v1/schedules/${scheduleId}/backfill`, { from: "2026-01-01", to: "2026-02-01" }],
  ];
  const reads = (scheduleId: string): [string, string][] => [
    ["GET", "/api/v1/schedules"],
    ["GET", `/api/v1/schedules/${scheduleId}`],
    ["GET", `/api/v1/schedules/${scheduleId}/runs`],
  ];

  it("without a key, every endpoint is a 401", async () => {
    for (const [method, path, body] of [...changes(id), ...reads(id)]) expectError(await api(null, method, path, body), 401, "UNAUTHORIZED");
  });

  it("a key without data.exports.schedule reads schedules but changes and runs none (403 naming the permission)", async () => {
    for (const [method, path, body] of changes(id)) {
      const res = await api(readOnlyKey, method, path, body);
      expectError(res, 403, "FORBIDDEN");
      expect(res.data.error.details.permission, `${method} ${path}`).toBe("data.exports.schedule");
    }
    for (const [method, path] of reads(id)) expect((await api(readOnlyKey, method, path)).status, `${method} ${path}`).toBe(200);
    expect((await api(key, "GET", `/api/v1/schedules/${id}`)).data.name).toBe("Guarded");
  });

  it("another tenant's key finds no such schedule (404), for every endpoint with an id", async () => {
    for (const [method, path, body] of [...changes(id), ...reads(id)].filter(([, p]) => p.includes(id))) {
      expectError(await api(productionKey, method, path, body), 404, "NOT_FOUND");
    }
    expect((await api(productionKey, "GET", "/api/v1/schedules")).data.data.map((s: { id: string }) => s.id)).not.toContain(id);
    expect((await api(key, "GET", `/api/v1/schedules/${id}`)).data.name).toBe("Guarded");
  });

  it("a key follows its creator's rights: demoted to viewer, the creator's key may no longer change schedules", async () => {
    const creatorKey = await keyOf(adminId, staging.id, ["data.exports.read", "data.exports.create", "data.exports.schedule"], "demoted later");
    expect((await api(creatorKey, "PATCH", `/api/v1/schedules/${id}`, { name: "Before the demotion" })).status).toBe(200);
    await setStagingRole(adminId, "viewer");
    try {
      for (const [method, path, body] of changes(id)) {
        const res = await api(creatorKey, method, path, body);
        expectError(res, 403, "FORBIDDEN");
        expect(res.data.error.details.permission).toBe("data.exports.schedule");
      }
      expect((await api(creatorKey, "GET", `/api/v1/schedules/${id}`)).status).toBe(200);
    } finally {
      await setStagingRole(adminId, "admin");
    }
    expect((await api(creatorKey, "PATCH", `/api/v1/schedules/${id}`, { name: "After" })).status).toBe(200);
  });
});

describe("the OpenAPI document", () => {
  it("describes every schedule endpoint with its schemas", () => {
    const doc = openApiDocument("http://localhost:3000");
    const paths = doc.paths as Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown>; "x-permission": string }>>;
    const expected: [string, string, string][] = [
      ["/api/v1/schedules", "get", "data.exports.read"],
      ["/api/v1/schedules", "post", "data.exports.schedule"],
      ["/api/v1/schedules/{id}", "get", "data.exports.read"],
      ["/api/v1/schedules/{id}", "patch", "data.exports.schedule"],
      ["/api/v1/schedules/{id}", "delete", "data.exports.schedule"],
      ["/api/v1/schedules/{id}/pause", "post", "data.exports.schedule"],
      ["/api/v1/schedules/{id}/resume", "post", "data.exports.schedule"],
      ["/api/v1/schedules/{id}/run", "post", "data.exports.schedule"],
      ["/api/v1/schedules/{id}/runs", "get", "data.exports.read"],
      ["/api/v1/schedules/{id}/runs/{runId}", "get", "data.exports.read"],
      ["/api/v1/schedules/{id}/runs/{runId}/retry", "post", "data.exports.schedule"],
      ["/api/v1/schedules/{id}/backfill", "post", "data.exports.schedule"],
    ];
    for (const [path, method, permission] of expected) {
      expect(paths[path]?.[method], `${method} ${path}`).toBeDefined();
      expect(paths[path][method]["x-permission"]).toBe(permission);
    }
    expect(OPERATIONS.filter((o) => o.path.startsWith("/api/v1/schedules"))).toHaveLength(expected.length);
    expect(paths["/api/v1/schedules"].post.requestBody).toBeDefined();
    expect(paths["/api/v1/schedules/{id}"].patch.requestBody).toBeDefined();
    const schemas = doc.components.schemas as Record<string, { properties: Record<string, unknown> }>;
    expect(Object.keys(schemas.ScheduleInput.properties)).toEqual(expect.arrayContaining(["name", "request", "cadence", "timeZone", "delta", "recipients", "webhookIds", "bucketIds"]));
    expect(Object.keys(schemas.Schedule.properties)).toEqual(expect.arrayContaining(["id", "status", "pausedReason", "cadenceText", "nextRunAt", "owner", "links"]));
    expect(Object.keys(schemas.ScheduleRun.properties)).toEqual(expect.arrayContaining(["id", "kind", "slot", "interval", "status", "error", "exports"]));
  });
});

describe("the portal's API page", () => {
  it("shows curl commands to create a weekly schedule and to list its runs, with this tenant's ids", async () => {
    const page = await import("../../app/routes/o.$org.t.$tenant.api");
    const cookie = await signIn("staging-viewer@acme.test");
    const res = await callRoute(page.loader, makeRequest("/o/acme-health/t/staging/api", { cookie }), { org: "acme-health", tenant: "staging" });
    expect(res.status).toBe(200);
    const op = (method: string, path: string) => res.data.operations.find((o: { method: string; path: string }) => o.method === method && o.path === path);
    const create = op("POST", "/api/v1/schedules");
    expect(create.curl).toContain('curl -sS -X POST "http://localhost:3000/api/v1/schedules"');
    expect(create.curl).toContain('"cadence":{"kind":"weekly","weekday":1,"time":"07:00"}');
    expect(create.curl).toContain("Idempotency-Key");
    const newest = await getDb().selectFrom("export_schedule").select("id").where("tenant_id", "=", staging.id).orderBy("created_at", "desc").executeTakeFirstOrThrow();
    expect(op("GET", "/api/v1/schedules/{id}/runs").curl).toContain(`curl -sS "http://localhost:3000/api/v1/schedules/${newest.id}/runs?limit=10"`);
    const patch = op("PATCH", "/api/v1/schedules/{id}");
    expect(patch.curl).toContain(`-X PATCH "http://localhost:3000/api/v1/schedules/${newest.id}"`);
    expect(patch.curl).not.toContain("Idempotency-Key");
    expect(op("DELETE", "/api/v1/schedules/{id}").curl).toContain("-X DELETE");
  });
});
