import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { getDb } from "../../db/client";
import { takeRequest } from "../../app/api/rate-limit.server";
import { runQueuedJobs } from "../setup/exports";
import { startApp, type RunningApp } from "../setup/app-server";
import { apiClient, createKey, tenantBySlug, type ApiResponse } from "../setup/api";

// Rate limits and idempotency under concurrency, against the real portal.
let app: RunningApp;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  app = await startApp();
  api = apiClient(app.url);
}, 90_000);
afterAll(() => app?.stop());

async function exportsOf(tenantSlug: string) {
  const t = await tenantBySlug(tenantSlug);
  return getDb().selectFrom("export").select(["id", "status"]).where("tenant_id", "=", t.id).execute();
}

const count = (answers: ApiResponse[], status: number) => answers.filter((r) => r.status === status).length;

describe("Idempotency-Key", () => {
  it("50 parallel requests with one key create exactly one export; the rest replay it or wait their turn", async () => {
    const key = await createKey("production");
    const request = { scope: { type: "tenant" }, dataTypes: ["lab_results"], format: "csv" };
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => api("/api/v1/exports", { key, json: request, headers: { "Idempotency-Key": "nightly-2026-11-22" } })),
    );
    const created = answers.filter((r) => r.status === 202);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((r) => r.body.id)).size).toBe(1);
    expect(count(answers, 202) + count(answers, 409)).toBe(50);
    for (const r of answers.filter((a) => a.status === 409)) expect(r.body.error.message).toMatch(/still in progress/);
    expect(await exportsOf("production")).toHaveLength(1);

    // Later, the same key and body replay the first response: same export, same status code.
    const replay = await api("/api/v1/exports", { key, json: request, headers: { "Idempotency-Key": "nightly-2026-11-22" } });
    expect(replay.status).toBe(202);
    expect(replay.body.id).toBe(created[0].body.id);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");

    const changed = await api("/api/v1/exports", { key, json: { ...request, format: "ndjson" }, headers: { "Idempotency-Key": "nightly-2026-11-22" } });
    expect(changed.status).toBe(422);
    expect(changed.body.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    expect(await exportsOf("production")).toHaveLength(1);
  });

  it("after 24 hours a key is free again, and the retention task forgets it", async () => {
    const key = await createKey("main");
    const first = await api("/api/v1/metrics/custom", { key, json: { metricId: "custom.daily", value: 1 }, headers: { "Idempotency-Key": "daily" } });
    expect(first.status).toBe(201);
    await sql`update api_idempotency_key set created_at = now() - interval '25 hours' where key = 'daily'`.execute(getDb());
    const next = await api("/api/v1/metrics/custom", { key, json: { metricId: "custom.daily", value: 2 }, headers: { "Idempotency-Key": "daily" } });
    expect(next.status).toBe(201);
    expect(next.body.id).not.toBe(first.body.id);
    await sql`update api_idempotency_key set created_at = now() - interval '25 hours' where key = 'daily'`.execute(getDb());
    await sql`select graphile_worker.add_job('export_retention', '{}'::json)`.execute(getDb());
    await runQueuedJobs();
    expect(await getDb().selectFrom("api_idempotency_key").select("key").where("key", "=", "daily").execute()).toEqual([]);
  });

  it("keys are per tenant: another tenant's request with the same key is its own", async () => {
    const staging = await createKey("staging");
    const res = await api("/api/v1/exports", { key: staging, json: { scope: { type: "tenant" }, dataTypes: ["lab_results"], format: "csv" }, headers: { "Idempotency-Key": "nightly-2026-11-22" } });
    expect(res.status).toBe(202);
    expect(res.headers.get("idempotent-replayed")).toBeNull();
    expect((await exportsOf("staging")).map((e) => e.id)).toEqual([res.body.id]);
  });

  it("a failed request frees its key, and a bad key header is a 400", async () => {
    const key = await createKey("main");
    const bad = await api("/api/v1/metrics/custom", { key, json: { metricId: "custom.x" }, headers: { "Idempotency-Key": "push-1" } });
    expect(bad.status).toBe(400);
    const good = await api("/api/v1/metrics/custom", { key, json: { metricId: "custom.x", value: 2 }, headers: { "Idempotency-Key": "push-1" } });
    expect(good.status).toBe(201);
    const again = await api("/api/v1/metrics/custom", { key, json: { metricId: "custom.x", value: 2 }, headers: { "Idempotency-Key": "push-1" } });
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(good.body.id);
    const header = await api("/api/v1/metrics/custom", { key, json: { metricId: "custom.x", value: 2 }, headers: { "Idempotency-Key": "has spaces" } });
    expect(header.status).toBe(400);
    expect(header.body.error.details.header).toBe("Idempotency-Key");
  });
});

describe("rate limits", () => {
  it("with a limit of 100 an hour, 200 concurrent requests give exactly 100 successes, and the 429s agree on when to retry", async () => {
    const staging = await tenantBySlug("staging");
    await getDb().updateTable("tenant").set({ api_requests_per_hour: 100 }).where("id", "=", staging.id).execute();
    await getDb().deleteFrom("api_rate_window").where("tenant_id", "=", staging.id).execute(); // earlier tests' requests
    const key = await createKey("staging", ["dashboards.read"]);
    const answers = await Promise.all(Array.from({ length: 200 }, () => api("/api/v1/dashboards", { key })));
    expect(count(answers, 200)).toBe(100);
    expect(count(answers, 429)).toBe(100);
    const remaining = answers.filter((r) => r.status === 200).map((r) => Number(r.headers.get("x-ratelimit-remaining")));
    expect(remaining.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    for (const r of answers.filter((a) => a.status === 429)) {
      const retryAfter = Number(r.headers.get("retry-after"));
      expect(r.body.error.code).toBe("RATE_LIMITED");
      expect(r.body.error.details.retryAfter).toBe(retryAfter);
      expect(r.headers.get("ratelimit")).toBe(`"hourly";r=0;t=${retryAfter}`);
      const date = Math.floor(Date.parse(r.headers.get("date")!) / 1000);
      expect(Math.abs(Number(r.headers.get("x-ratelimit-reset")) - date - retryAfter)).toBeLessThanOrEqual(1);
      expect(r.headers.get("x-ratelimit-limit")).toBe("100");
      expect(r.headers.get("x-ratelimit-remaining")).toBe("0");
    }
  });

  it("export creation comes in bursts: with a burst of 3, the fourth quick request waits", async () => {
    await getDb().updateTable("tenant").set({ api_export_burst: 3, api_exports_per_hour: 30 }).where("slug", "=", "main").execute();
    const key = await createKey("main");
    // Invalid requests are refused after their token is spent, so these create nothing.
    const answers = await Promise.all(Array.from({ length: 6 }, () => api("/api/v1/exports", { key, json: { format: "xml" } })));
    expect(count(answers, 400)).toBe(3);
    expect(count(answers, 429)).toBe(3);
    const limited = answers.find((r) => r.status === 429)!;
    expect(limited.headers.get("ratelimit-policy")).toBe(`"exports";q=3;w=360`);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(limited.headers.get("retry-after"))).toBeLessThanOrEqual(120);
    // Reading is not export creation: the bucket does not apply.
    expect((await api("/api/v1/exports", { key })).status).toBe(200);
  });

  it("a token taken by a transaction that began later never drains the bucket below empty", async () => {
    const tenant = await tenantBySlug("main");
    await getDb().updateTable("tenant").set({ api_export_burst: 3, api_exports_per_hour: 30 }).where("id", "=", tenant.id).execute();
    // As a concurrent request that began after this one, but took its token first, leaves the bucket.
    await sql`update api_token_bucket set tokens = 0, refilled_at = now() + interval '5 seconds'
              where tenant_id = ${tenant.id} and bucket = 'exports'`.execute(getDb());
    const key = await createKey("main");
    const limited = await api("/api/v1/exports", { key, json: { format: "xml" } });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBe(120);
    const bucket = await sql<{ tokens: number }>`select tokens from api_token_bucket where tenant_id = ${tenant.id} and bucket = 'exports'`.execute(getDb());
    expect(bucket.rows[0].tokens).toBe(0);
  });

  it("a busy tenant's next block of requests is leased while half the current one remains, and each number is granted once", async () => {
    const tenant = await tenantBySlug("main");
    const window = () => getDb().selectFrom("api_rate_window").select("requests").where("tenant_id", "=", tenant.id).execute();
    await getDb().deleteFrom("api_rate_window").where("tenant_id", "=", tenant.id).execute();
    const limits = { api_requests_per_hour: 100_000, api_exports_per_hour: null, api_export_burst: null };
    const remaining: number[] = [];
    const take = async (n: number) => {
      for (let i = 0; i < n; i++) remaining.push((await takeRequest(tenant.id, limits)).remaining);
    };
    await take(49);
    expect(await window()).toEqual([{ requests: 100 }]);
    await take(1); // the 50th: half the block is used, and the next is leased in the background
    await expect.poll(window).toEqual([{ requests: 200 }]);
    await take(100); // the rest of the first block and half of the second, which leases the third
    await expect.poll(window).toEqual([{ requests: 300 }]);
    await take(150);
    expect(remaining).toEqual(Array.from({ length: 300 }, (_, i) => 100_000 - 1 - i));
    await expect.poll(window).toEqual([{ requests: 400 }]);
  });
});

describe("setting a tenant's limits", () => {
  it("organization owners and admins set them on the Settings page; the API applies them at once", async () => {
    const { callRoute, makeRequest, signIn } = await import("../setup/routes");
    const settings = await import("../../app/routes/o.$org.t.$tenant.settings");
    const params = { org: "acme-health", tenant: "production" };
    const url = "/o/acme-health/t/production/settings";
    const admin = await signIn("production-admin@acme.test");
    const denied = await callRoute(settings.action, makeRequest(url, { cookie: admin, form: { api_requests_per_hour: "5000" } }), params);
    expect(denied.status).toBe(403);

    const owner = await signIn("owner@acme.test");
    const bad = await callRoute(settings.action, makeRequest(url, { cookie: owner, form: { api_requests_per_hour: "lots", api_exports_per_hour: "", api_export_burst: "0" } }), params);
    expect(bad.status).toBe(400);
    expect(bad.data.fieldErrors).toEqual({ api_requests_per_hour: "Enter a whole number.", api_export_burst: "Enter at least 1." });
    expect(bad.data.values.api_requests_per_hour).toBe("lots");

    const saved = await callRoute(settings.action, makeRequest(url, { cookie: owner, form: { api_requests_per_hour: "5000", api_exports_per_hour: "", api_export_burst: "20" } }), params);
    expect(saved.data).toEqual({ saved: true });
    const page = await callRoute(settings.loader, makeRequest(url, { cookie: owner }), params);
    expect(page.data.apiLimits).toEqual({ api_requests_per_hour: 5000, api_exports_per_hour: null, api_export_burst: 20 });

    const key = await createKey("production", ["dashboards.read"]);
    const res = await api("/api/v1/dashboards", { key });
    expect(res.headers.get("x-ratelimit-limit")).toBe("5000");
    expect(res.headers.get("ratelimit-policy")).toBe(`"hourly";q=5000;w=3600`);
  });
});
