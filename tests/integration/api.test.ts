import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import { apiError, apiExport, dashboardList, dashboardWithWidgets, exportList, metricList, metricPoint, timeseries } from "../../app/api/schemas";
import { startApp, type RunningApp } from "../setup/app-server";
import { OPERATIONS } from "../../app/api/openapi.server";
import { ALL_KEY_PERMISSIONS, apiClient, createKey, tenantBySlug } from "../setup/api";
import { readZip } from "../setup/zip";
import { holdTable } from "../setup/exports";
import { day, monthStart } from "../setup/dates";
import { exportJob } from "../../app/exports/engine/queue.server";

// The public API against the portal started as `npm start` starts it, with
// its in-process worker, over HTTP, with real keys.
let app: RunningApp;
let api: ReturnType<typeof apiClient>;
let prodKey: string;
let stagingKey: string;

beforeAll(async () => {
  process.env.WORKER_CONCURRENCY = "2"; // the cancel test fills both worker slots
  app = await startApp();
  api = apiClient(app.url);
  prodKey = await createKey("production", ALL_KEY_PERMISSIONS, { name: "production all" });
  // Polling exports to completion would spend production's default 1,000 requests; staging keeps the default.
  await getDb().updateTable("tenant").set({ api_requests_per_hour: 100_000 }).where("slug", "=", "production").execute();
  stagingKey = await createKey("staging");
}, 90_000);
afterAll(async () => {
  if (process.env.DEBUG_API) console.log(app?.output());
  await app?.stop();
});

async function projectId(tenant: string, name: string) {
  const t = await tenantBySlug(tenant);
  return (await getDb().selectFrom("project").select("id").where("tenant_id", "=", t.id).where("name", "=", name).executeTakeFirstOrThrow()).id;
}

async function waitForDone(id: string, key = prodKey) {
  for (let i = 0; i < 200; i++) {
    const res = await api(`/api/v1/exports/${id}`, { key });
    if (!["pending", "running"].includes(res.body.status)) return res;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`export ${id} did not finish`);
}

function expectError(res: { status: number; body: any; headers: Headers }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(apiError.parse(res.body).error.code).toBe(code);
  expect(res.body.error.requestId).toBe(res.headers.get("x-request-id"));
}

describe("API keys at the door", () => {
  it("missing, malformed, unknown, revoked and expired keys all get the same 401", async () => {
    const revoked = await createKey("production", ["data.exports.read"], { name: "to revoke" });
    await getDb().updateTable("api_key").set({ revoked_at: new Date() }).where("key_prefix", "=", revoked.slice(0, 8)).where("last4", "=", revoked.slice(-4)).execute();
    const expired = await createKey("production", ["data.exports.read"], { name: "to expire" });
    await sql`update api_key set expires_at = now() - interval '1 second' where name = 'to expire'`.execute(getDb());
    const unknown = prodKey.slice(0, 4) + "A".repeat(prodKey.length - 4);
    const answers = await Promise.all([
      api("/api/v1/exports"),
      api("/api/v1/exports", { headers: { Authorization: "Bearer not-a-key" } }),
      api("/api/v1/exports", { headers: { Authorization: `Basic ${prodKey}` } }),
      api("/api/v1/exports", { key: unknown }),
      api("/api/v1/exports", { key: revoked }),
      api("/api/v1/exports", { key: expired }),
    ]);
    for (const res of answers) {
      expectError(res, 401, "UNAUTHORIZED");
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect({ ...res.body.error, requestId: "" }).toEqual({ ...answers[0].body.error, requestId: "" });
    }
    expect(new Set(answers.map((r) => r.headers.get("x-request-id"))).size).toBe(answers.length);
  });

  it("a key without the permission gets 403 naming it, and nothing is created", async () => {
    const readOnly = await createKey("production", ["data.exports.read"]);
    const before = await getDb().selectFrom("export").select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow();
    const res = await api("/api/v1/exports", { key: readOnly, json: { dataTypes: ["lab_results"] } });
    expectError(res, 403, "FORBIDDEN");
    expect(res.body.error.message).toContain("data.exports.create");
    expect(res.body.error.details.permission).toBe("data.exports.create");
    const after = await getDb().selectFrom("export").select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
    for (const [path, permission] of [["/api/v1/metrics", "metrics.read"], ["/api/v1/dashboards", "dashboards.read"]]) {
      const denied = await api(path, { key: readOnly });
      expectError(denied, 403, "FORBIDDEN");
      expect(denied.body.error.details.permission).toBe(permission);
    }
    const noWrite = await api("/api/v1/metrics/custom", { key: readOnly, json: { metricId: "custom.x", value: 1 } });
    expect(noWrite.body.error.details.permission).toBe("metrics.write");
  });
});

describe("every endpoint", () => {
  it("asks for a key (401), names the permission it needs (403) and refuses other methods (405)", async () => {
    const anyId = "00000000-0000-4000-8000-000000000000";
    for (const op of OPERATIONS) {
      const path = op.path.replace("{id}", anyId).replace("{metricId}", "ga.sessions");
      const method = op.method.toUpperCase();
      const body = op.method === "post" ? "{}" : undefined;
      const headers = body ? { "Content-Type": "application/json" } : undefined;
      if (op.permission === null) {
        // Public by design (the manifest-signing public key): it answers without a key.
        expect((await api(path, { method })).status, `${method} ${op.path}`).toBe(200);
        continue;
      }
      expectError(await api(path, { method, body, headers }), 401, "UNAUTHORIZED");
      const without = await createKey("production", ALL_KEY_PERMISSIONS.filter((p) => p !== op.permission));
      const denied = await api(path, { key: without, method, body, headers });
      expectError(denied, 403, "FORBIDDEN");
      expect(denied.body.error.details.permission, `${method} ${op.path}`).toBe(op.permission);
      const other = OPERATIONS.some((o) => o.path === op.path && o.method !== op.method);
      if (!other) expectError(await api(path, { key: prodKey, method: op.method === "get" ? "PUT" : "GET" }), 405, "METHOD_NOT_ALLOWED");
    }
  });
});

describe("exports", () => {
  let exportId: string;

  it("creates an export (202), lists it, shows progress and then the manifest, and downloads it", async () => {
    const res = await api("/api/v1/exports", { key: prodKey, json: { scope: { type: "project", projectId: await projectId("production", "Sleep Lab") }, dataTypes: ["lab_results"], format: "csv" } });
    expect(res.status).toBe(202);
    const created = apiExport.parse(res.body);
    expect(created).toMatchObject({ dataTypes: ["lab_results"], format: "csv", manifest: null, requestedBy: "API key production all" });
    // The portal's own worker may have claimed it by the time the answer is read back: never finished, though.
    expect(["pending", "running"]).toContain(created.status);
    expect(res.headers.get("location")).toBe(created.links.self);
    exportId = created.id;

    const list = await api("/api/v1/exports?limit=5", { key: prodKey });
    expect(list.status).toBe(200);
    expect(exportList.parse(list.body).data[0].id).toBe(exportId);

    const done = apiExport.parse((await waitForDone(exportId)).body);
    expect(done.status).toBe("done");
    expect(done.progress.percent).toBe(100);
    expect(done.manifest!.files.map((f) => f.name)).toEqual(["lab_results.csv"]);
    expect(done.rows).toBe(done.manifest!.files[0].rows);
    expect(done.bytes).toBeGreaterThan(0);

    const redirect = await api(`/api/v1/exports/${exportId}/download`, { key: prodKey });
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get("location")!;
    expect(location).toMatch(new RegExp(`^${app.url}/downloads/${exportId}\\?`));
    const archive = await fetch(location);
    expect(archive.status).toBe(200);
    const files = await readZip(Buffer.from(await archive.arrayBuffer()));
    expect([...files.keys()].sort()).toEqual(["lab_results.csv", "manifest.json", "manifest.sig"]);

    const asJson = await api(`/api/v1/exports/${exportId}/download`, { key: prodKey, headers: { Accept: "application/json" } });
    expect(asJson.status).toBe(200);
    expect(asJson.body.url).toBe(location);
    expect(Date.parse(asJson.body.expiresAt)).toBe(Date.parse(done.expiresAt!));
  });

  it("names the field and the rule for a bad request, and keeps other tenants' ids unknown", async () => {
    const bad = await api("/api/v1/exports", { key: prodKey, json: { dataTypes: ["lab_results", "passwords"] } });
    expectError(bad, 400, "INVALID_REQUEST");
    expect(bad.body.error.details.fields).toHaveProperty("dataTypes.1");
    expect(bad.body.error.message).toContain("dataTypes.1");
    const badScope = await api("/api/v1/exports", { key: prodKey, json: { scope: { type: "project", projectId: await projectId("staging", "Sleep Lab") } } });
    expectError(badScope, 400, "INVALID_REQUEST");
    expect(badScope.body.error.details.fields).toHaveProperty("scope.projectId");

    const fromStaging = await api(`/api/v1/exports/${exportId}`, { key: stagingKey });
    const unknown = await api(`/api/v1/exports/00000000-0000-4000-8000-000000000000`, { key: stagingKey });
    const malformed = await api(`/api/v1/exports/not-an-id`, { key: stagingKey });
    for (const res of [fromStaging, unknown, malformed]) expectError(res, 404, "NOT_FOUND");
    expect(fromStaging.body.error.message).toBe(unknown.body.error.message);
    for (const path of [`/api/v1/exports/${exportId}/download`]) expectError(await api(path, { key: stagingKey }), 404, "NOT_FOUND");
    expectError(await api(`/api/v1/exports/${exportId}/cancel`, { key: stagingKey, method: "POST" }), 404, "NOT_FOUND");
  });

  it("cancels a pending export; cancelling again or downloading it is a conflict", async () => {
    // Park the queue: two metrics exports wait on a locked table and fill both worker slots, so the third stays pending.
    const release = await holdTable("metric_point");
    const blockers: string[] = [];
    try {
      for (const name of ["Sleep Lab", "Metabolic Health"]) {
        const res = await api("/api/v1/exports", { key: stagingKey, json: { scope: { type: "project", projectId: await projectId("staging", name) }, dataTypes: ["metrics"] } });
        expect(res.status).toBe(202);
        blockers.push(res.body.id);
      }
      await expect.poll(async () => Promise.all(blockers.map(async (id) => (await api(`/api/v1/exports/${id}`, { key: stagingKey })).body.status)), { timeout: 10_000 }).toEqual(["running", "running"]);

      const res = await api("/api/v1/exports", { key: stagingKey, json: { scope: { type: "project", projectId: await projectId("staging", "Cardio Study") }, dataTypes: ["lab_results"] } });
      expect(res.status).toBe(202);
      const id = res.body.id;
      await new Promise((r) => setTimeout(r, 1500)); // longer than the worker's poll interval
      expect((await api(`/api/v1/exports/${id}`, { key: stagingKey })).body.status).toBe("pending");
      const early = await api(`/api/v1/exports/${id}/download`, { key: stagingKey });
      expectError(early, 409, "CONFLICT");
      expect(early.body.error.message).toBe("This export is pending; it can be downloaded once it is done.");

      const cancel = await api(`/api/v1/exports/${id}/cancel`, { key: stagingKey, method: "POST" });
      expect(cancel.status).toBe(200);
      expect(apiExport.parse(cancel.body)).toMatchObject({ id, status: "cancelled", startedAt: null });
      expectError(await api(`/api/v1/exports/${id}/cancel`, { key: stagingKey, method: "POST" }), 409, "CONFLICT");
      expectError(await api(`/api/v1/exports/${id}/download`, { key: stagingKey }), 409, "CONFLICT");

      // Once the worker is free its job finds the export cancelled and leaves it be.
      await release();
      for (const blocker of blockers) expect((await waitForDone(blocker, stagingKey)).body.status).toBe("done");
      await expect.poll(() => exportJob(getDb(), id), { timeout: 10_000 }).toBeUndefined();
      expect((await api(`/api/v1/exports/${id}`, { key: stagingKey })).body).toMatchObject({ status: "cancelled", startedAt: null });
    } finally {
      await release();
    }
  });

  it("answers 410 for an expired export's download", async () => {
    await getDb().updateTable("export").set({ status: "expired" }).where("id", "=", exportId).execute();
    expectError(await api(`/api/v1/exports/${exportId}/download`, { key: prodKey }), 410, "GONE");
  });

  it("pages with a cursor: every export once, newest first, even with equal creation times", async () => {
    const t = await tenantBySlug("production");
    const org = t.organization_id;
    await sql`
      insert into export (tenant_id, organization_id, scope, filters, data_types, formats, status, created_at)
      select ${t.id}, ${org}, '{"type":"tenant"}'::jsonb, '{}'::jsonb, array['hsi_records'], array['ndjson'], 'failed', date_trunc('second', now() - interval '100 days') + interval '123456 microseconds'
      from generate_series(1, 23)`.execute(getDb());
    const all = await getDb().selectFrom("export").select("id").where("tenant_id", "=", t.id).orderBy("created_at", "desc").orderBy("id", "desc").execute();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await api(`/api/v1/exports?limit=7${cursor ? `&cursor=${cursor}` : ""}`, { key: prodKey });
      expect(res.status).toBe(200);
      seen.push(...res.body.data.map((e: { id: string }) => e.id));
      cursor = res.body.hasMore ? res.body.nextCursor : null;
    } while (cursor);
    expect(seen).toEqual(all.map((r) => r.id));
    const failed = await api("/api/v1/exports?status=failed&limit=100", { key: prodKey });
    expect(failed.body.data).toHaveLength(23);

    for (const [query, parameter] of [["limit=0", "limit"], ["limit=101", "limit"], ["limit=abc", "limit"], ["cursor=bogus", "cursor"], ["status=lost", "status"], ["colour=red", "colour"]]) {
      const res = await api(`/api/v1/exports?${query}`, { key: prodKey });
      expectError(res, 400, "INVALID_REQUEST");
      expect(res.body.error.details.parameter).toBe(parameter);
      expect(res.body.error.message).toContain(parameter);
    }
  });
});

describe("metrics", () => {
  it("lists points filtered by metric and dates, with total and hasMore", async () => {
    const res = await api(`/api/v1/metrics?metricIds=stripe.mrr,github.stars&startDate=${day(-3650)}&limit=50`, { key: prodKey });
    expect(res.status).toBe(200);
    const page = metricList.parse(res.body);
    expect(page.data).toHaveLength(50);
    expect(new Set(page.data.map((p) => p.metricId))).toEqual(new Set(["stripe.mrr", "github.stars"]));
    const t = await tenantBySlug("production");
    const count = await getDb().selectFrom("metric_point").where("tenant_id", "=", t.id).where("metric_id", "in", ["stripe.mrr", "github.stars"]).select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow();
    expect(page.total).toBe(Number(count.n));
    expect(page.hasMore).toBe(true);
    const times = page.data.map((p) => Date.parse(p.timestamp));
    expect(times).toEqual([...times].sort((a, b) => b - a));

    const last = await api(`/api/v1/metrics?metricIds=stripe.mrr&metricIds=github.stars&limit=1000&offset=${page.total - 3}`, { key: prodKey });
    expect(last.body).toMatchObject({ total: page.total, hasMore: false });
    expect(last.body.data).toHaveLength(3);

    // A week inside the seed's last year of daily points: startDate is included, endDate is not.
    const [start, end] = [`${day(-14)}T00:00:00Z`, day(-7)];
    const windowed = await api(`/api/v1/metrics?metricIds=ga.sessions&startDate=${start}&endDate=${end}`, { key: prodKey });
    const inWindow = await getDb().selectFrom("metric_point").select("id").where("tenant_id", "=", t.id).where("metric_id", "=", "ga.sessions")
      .where("recorded_at", ">=", new Date(start)).where("recorded_at", "<", new Date(`${end}T00:00:00Z`)).orderBy("recorded_at", "desc").orderBy("id", "desc").execute();
    expect(inWindow.length).toBeGreaterThan(0);
    expect(metricList.parse(windowed.body).total).toBe(inWindow.length);
    expect(windowed.body.data.map((p: { id: string }) => String(p.id)).sort()).toEqual(inWindow.map((p) => String(p.id)).sort());

    for (const [query, parameter] of [["limit=1001", "limit"], ["startDate=yesterday", "startDate"], [`startDate=${day(-30)}&endDate=${day(-60)}`, "endDate"], ["offset=-1", "offset"]]) {
      const bad = await api(`/api/v1/metrics?${query}`, { key: prodKey });
      expectError(bad, 400, "INVALID_REQUEST");
      expect(bad.body.error.details.parameter).toBe(parameter);
    }
  });

  it("aggregates a timeseries in SQL per interval", async () => {
    // The six whole months before this one, all inside the seed's year of daily points.
    const [start, end] = [monthStart(-6), monthStart(0)];
    const res = await api(`/api/v1/metrics/ga.sessions/timeseries?startDate=${start}&endDate=${end}&interval=month`, { key: prodKey });
    expect(res.status).toBe(200);
    const series = timeseries.parse(res.body);
    const t = await tenantBySlug("production");
    const points = await getDb().selectFrom("metric_point").select(["recorded_at", "value"]).where("tenant_id", "=", t.id).where("metric_id", "=", "ga.sessions")
      .where("recorded_at", ">=", new Date(`${start}T00:00:00Z`)).where("recorded_at", "<", new Date(`${end}T00:00:00Z`)).execute();
    // Per month, counted here from the rows rather than by the SQL under test.
    const months = new Map<string, { count: number; sum: number }>();
    for (const p of points) {
      const month = `${p.recorded_at.toISOString().slice(0, 7)}-01T00:00:00.000Z`;
      const m = months.get(month) ?? { count: 0, sum: 0 };
      months.set(month, { count: m.count + 1, sum: m.sum + p.value });
    }
    expect(months.size).toBe(6);
    expect(series.points.map((p) => p.bucket)).toEqual([...months.keys()].sort());
    for (const p of series.points) {
      expect(p.count).toBe(months.get(p.bucket)!.count);
      expect(p.sum).toBeCloseTo(months.get(p.bucket)!.sum, 3);
      expect(p.avg).toBeCloseTo(p.sum / p.count, 6);
    }

    expectError(await api(`/api/v1/metrics/ga.sessions/timeseries?endDate=${end}`, { key: prodKey }), 400, "INVALID_REQUEST");
    const interval = await api(`/api/v1/metrics/ga.sessions/timeseries?startDate=${start}&endDate=${end}&interval=fortnight`, { key: prodKey });
    expect(interval.body.error.details.parameter).toBe("interval");
    const tooFine = await api(`/api/v1/metrics/ga.sessions/timeseries?startDate=${day(-3650)}&endDate=${end}&interval=hour`, { key: prodKey });
    expect(tooFine.body.error.details.parameter).toBe("interval");
    expectError(await api(`/api/v1/metrics/no.such.metric/timeseries?startDate=${start}&endDate=${end}`, { key: prodKey }), 404, "NOT_FOUND");
  });

  it("stores a pushed custom point (201) that cannot change and that other tenants do not see", async () => {
    const timestamp = Date.parse(`${day(-10)}T10:00:00Z`);
    const res = await api("/api/v1/metrics/custom", { key: stagingKey, json: { metricId: "custom.builds", value: 42.5, timestamp, unit: "count", metadata: { branch: "main" } } });
    expect(res.status).toBe(201);
    expect(metricPoint.parse(res.body)).toMatchObject({ metricId: "custom.builds", value: 42.5, unit: "count", timestamp: new Date(timestamp).toISOString(), service: "custom", metadata: { branch: "main" } });
    await expect(sql`update metric_point set value = 1 where id = ${res.body.id}`.execute(getDb())).rejects.toThrow(/immutable/);
    const staging = await api("/api/v1/metrics?metricIds=custom.builds", { key: stagingKey });
    expect(staging.body.total).toBe(1);
    const production = await api("/api/v1/metrics?metricIds=custom.builds", { key: prodKey });
    expect(production.body.total).toBe(0);
    expectError(await api(`/api/v1/metrics/custom.builds/timeseries?startDate=${day(-30)}&endDate=${day(1)}`, { key: prodKey }), 404, "NOT_FOUND");

    const fed = await api("/api/v1/metrics/custom", { key: stagingKey, json: { metricId: "stripe.mrr", value: 1 } });
    expectError(fed, 409, "CONFLICT");
    for (const [body, field] of [[{ metricId: "custom.x", value: "1" }, "value"], [{ value: 1 }, "metricId"], [{ metricId: "bad id!", value: 1 }, "metricId"], [{ metricId: "custom.x", value: 1, timestamp: 1.5 }, "timestamp"], [{ metricId: "custom.x", value: 1, extra: true }, "extra"], [[1, 2], "body"]] as const) {
      const bad = await api("/api/v1/metrics/custom", { key: stagingKey, json: body });
      expectError(bad, 400, "INVALID_REQUEST");
      expect(Object.keys(bad.body.error.details.fields)).toContain(field);
    }
  });
});

describe("dashboards", () => {
  it("lists dashboards and shows one with its widgets; another tenant's id is unknown", async () => {
    const list = await api("/api/v1/dashboards", { key: prodKey });
    const dashboards = dashboardList.parse(list.body).data;
    expect(dashboards.map((d) => d.slug)).toEqual(["overview", "growth"]);
    const one = await api(`/api/v1/dashboards/${dashboards[0].id}`, { key: prodKey });
    const full = dashboardWithWidgets.parse(one.body);
    expect(full.widgets).toHaveLength(dashboards[0].widgetCount);
    expect(full.widgets[0]).toMatchObject({ type: "metric", title: "MRR", position: { x: 0, y: 0, w: 3, h: 2 }, config: { metricId: "stripe.mrr" } });
    expectError(await api(`/api/v1/dashboards/${dashboards[0].id}`, { key: stagingKey }), 404, "NOT_FOUND");
    expectError(await api(`/api/v1/dashboards/nope`, { key: stagingKey }), 404, "NOT_FOUND");
  });
});

describe("what every endpoint shares", () => {
  it("refuses bodies over 1 MB with 413, declared or streamed", async () => {
    const big = JSON.stringify({ metricId: "custom.big", value: 1, metadata: { blob: "x".repeat(1024 * 1024) } });
    expectError(await api("/api/v1/metrics/custom", { key: prodKey, body: big, headers: { "Content-Type": "application/json" } }), 413, "PAYLOAD_TOO_LARGE");
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 20; i++) controller.enqueue(new TextEncoder().encode("x".repeat(64 * 1024)));
        controller.close();
      },
    });
    const res = await fetch(`${app.url}/api/v1/metrics/custom`, { method: "POST", body: stream, duplex: "half", headers: { Authorization: `Bearer ${prodKey}`, "Content-Type": "application/json" } } as RequestInit);
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("answers unsupported media, broken JSON, wrong methods and unknown paths in the error shape", async () => {
    expectError(await api("/api/v1/metrics/custom", { key: prodKey, body: "metricId=x", headers: { "Content-Type": "application/x-www-form-urlencoded" } }), 415, "UNSUPPORTED_MEDIA_TYPE");
    expectError(await api("/api/v1/metrics/custom", { key: prodKey, body: "{", headers: { "Content-Type": "application/json" } }), 400, "INVALID_REQUEST");
    const wrong = await api("/api/v1/dashboards", { key: prodKey, method: "DELETE" });
    expectError(wrong, 405, "METHOD_NOT_ALLOWED");
    expect(wrong.headers.get("allow")).toBe("GET");
    const missing = await api("/api/v1/widgets", { key: prodKey });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("NOT_FOUND");
    expect(missing.headers.get("x-request-id")).toBeTruthy();
  });

  it("carries rate limit headers that agree with each other", async () => {
    const res = await api("/api/v1/dashboards", { key: stagingKey });
    const limit = Number(res.headers.get("x-ratelimit-limit"));
    const remaining = Number(res.headers.get("x-ratelimit-remaining"));
    const reset = Number(res.headers.get("x-ratelimit-reset"));
    expect(limit).toBe(1000);
    expect(remaining).toBeLessThan(limit);
    const t = Number(/t=(\d+)/.exec(res.headers.get("ratelimit")!)![1]);
    expect(res.headers.get("ratelimit")).toBe(`"hourly";r=${remaining};t=${t}`);
    expect(res.headers.get("ratelimit-policy")).toBe(`"hourly";q=1000;w=3600`);
    expect(Math.abs(reset - Math.floor(Date.now() / 1000) - t)).toBeLessThanOrEqual(2);
    expect(new Date(reset * 1000).getUTCMinutes()).toBe(0);
  });
});

describe("the portal's API page", () => {
  it("renders every endpoint with curl examples that use the reader's tenant", async () => {
    const { signIn, makeRequest, callRoute } = await import("../setup/routes");
    const page = await import("../../app/routes/o.$org.t.$tenant.api");
    const cookie = await signIn("staging-viewer@acme.test");
    const params = { org: "acme-health", tenant: "staging" };
    const res = await callRoute(page.loader, makeRequest("/o/acme-health/t/staging/api", { cookie }), params);
    expect(res.status).toBe(200);
    expect(res.data.apiKeysPath).toBeNull();
    const create = res.data.operations.find((o: { method: string; path: string }) => o.method === "POST" && o.path === "/api/v1/exports");
    expect(create.curl).toContain(`"projectId":"${await projectId("staging", "Cardio Study")}"`);
    expect(create.curl).toContain("Idempotency-Key");
    const list = res.data.operations.find((o: { method: string; path: string }) => o.method === "GET" && o.path === "/api/v1/exports");
    expect(list.parameters.map((p: { name: string }) => p.name)).toEqual(["limit", "cursor", "status"]);
    const dashboard = res.data.operations.find((o: { path: string }) => o.path === "/api/v1/dashboards/{id}");
    const stagingOverview = await getDb().selectFrom("dashboard").select("id").where("tenant_id", "=", (await tenantBySlug("staging")).id).where("slug", "=", "overview").executeTakeFirstOrThrow();
    expect(dashboard.curl).toContain(`/api/v1/dashboards/${stagingOverview.id}`);
    const file = res.data.operations.find((o: { method: string; path: string }) => o.method === "GET" && o.path === "/api/v1/dashboards/{id}/export");
    expect(file).toMatchObject({ permission: "dashboards.export", permissionLabel: "Download dashboard files" });
    expect(file.curl).toContain(`curl -sS -OJ "http://localhost:3000/api/v1/dashboards/${stagingOverview.id}/export"`);
    expect(res.data.limits).toEqual({ requests: 1000, exports: 300, burst: 10 });
  });
});
