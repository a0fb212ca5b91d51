import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import { DEMO_PASSWORD } from "../../db/seed";
import { createApiKey } from "../../app/api/keys.server";
import { getExport } from "../../app/exports/export-queries.server";
import { cachedSettledExport } from "../../app/exports/settled-exports.server";
import { buildAbility, permissionsFor } from "../../app/auth/permissions";
import { startApp, type RunningApp } from "../setup/app-server";
import { apiClient, createKey, ownerIn, tenantBySlug, type ApiResponse } from "../setup/api";

// Two web processes on one database, as behind a load balancer: each caches API keys and leases
// blocks of the rate-limit window, and neither may let a key do more than the database allows.
let webA: RunningApp;
let webB: RunningApp;
let clients: ReturnType<typeof apiClient>[];

beforeAll(async () => {
  [webA, webB] = await Promise.all([startApp({}, ["--web"]), startApp({}, ["--web"])]);
  clients = [apiClient(webA.url), apiClient(webB.url)];
}, 90_000);
afterAll(() => Promise.all([webA?.stop(), webB?.stop()]));

/** Both processes' answers to one request, in order A, B. */
const both = (path: string, init: Parameters<ReturnType<typeof apiClient>>[1]) => Promise.all(clients.map((api) => api(path, init)));
const statuses = async (path: string, init: Parameters<ReturnType<typeof apiClient>>[1]) => (await both(path, init)).map((r) => r.status);
/** A notification reaches every process within milliseconds of the commit; a second is generous on a busy machine. */
const soon = { timeout: 1000, interval: 10 };

/** Warms both processes' caches: the first request of a process starts its listener, and keys are cached once it listens. */
async function warm(key: string) {
  for (let i = 0; i < 5; i++) {
    await both("/api/v1/exports", { key });
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("API keys cached in two web processes", () => {
  it("are served from each process's cache, and a revocation stops the key in both", async () => {
    const { id, key } = await createApiKey(getDb(), await ownerIn("production"), { name: "two processes", permissions: ["data.exports.read"] });
    await warm(key);
    // Revoked behind the triggers' back: both processes still accept the key, so it is their cache that answers.
    await getDb().transaction().execute(async (trx) => {
      await sql`set local session_replication_role = replica`.execute(trx);
      await trx.updateTable("api_key").set({ revoked_at: new Date() }).where("id", "=", id).execute();
    });
    expect(await statuses("/api/v1/exports", { key })).toEqual([200, 200]);
    // A revocation as the portal makes it notifies both.
    await getDb().updateTable("api_key").set({ revoked_at: new Date(Date.now() + 1) }).where("id", "=", id).execute();
    await expect.poll(() => statuses("/api/v1/exports", { key }), soon).toEqual([401, 401]);
  });

  it("follow the creator's demotion, removal and return, and the tenant's archiving, in both", async () => {
    const tenant = await tenantBySlug("staging");
    await getDb().updateTable("tenant").set({ api_export_burst: 1000 }).where("id", "=", tenant.id).execute();
    const admin = await getDb().selectFrom("user").select("id").where("email", "=", "staging-admin@acme.test").executeTakeFirstOrThrow();
    const creator = { tenantId: tenant.id, organizationId: tenant.organization_id, actor: { userId: admin.id, label: "Staging Admin" }, ability: buildAbility(permissionsFor("member", "admin")) };
    const { key } = await createApiKey(getDb(), creator, { name: "follows", permissions: ["data.exports.read", "data.exports.create"] });
    await warm(key);
    // An invalid export request gets past the permission check (400) only while the key may create exports.
    const create = { key, method: "POST", json: { format: "xml" } };
    expect(await statuses("/api/v1/exports", create)).toEqual([400, 400]);

    const membership = () => getDb().updateTable("tenant_member").where("tenant_id", "=", tenant.id).where("user_id", "=", admin.id);
    await membership().set({ role: "viewer" }).execute();
    await expect.poll(() => statuses("/api/v1/exports", create), soon).toEqual([403, 403]);

    await getDb().deleteFrom("tenant_member").where("tenant_id", "=", tenant.id).where("user_id", "=", admin.id).execute();
    await expect.poll(() => statuses("/api/v1/exports", { key }), soon).toEqual([401, 401]);

    await getDb().insertInto("tenant_member").values({ tenant_id: tenant.id, user_id: admin.id, role: "admin" }).execute();
    await expect.poll(() => statuses("/api/v1/exports", create), soon).toEqual([400, 400]);
    await warm(key);

    // Leaving the organization (better-auth's member row) takes the key's rights too.
    await getDb().deleteFrom("member").where("organizationId", "=", tenant.organization_id).where("userId", "=", admin.id).execute();
    await expect.poll(() => statuses("/api/v1/exports", { key }), soon).toEqual([401, 401]);
    await getDb().insertInto("member").values({ id: randomUUID(), organizationId: tenant.organization_id, userId: admin.id, role: "member", createdAt: new Date() }).execute();
    await expect.poll(() => statuses("/api/v1/exports", { key }), soon).toEqual([200, 200]);
    await warm(key);

    await getDb().updateTable("tenant").set({ archived_at: new Date() }).where("id", "=", tenant.id).execute();
    await expect.poll(() => statuses("/api/v1/exports", { key }), soon).toEqual([403, 403]);
    await getDb().updateTable("tenant").set({ archived_at: null }).where("id", "=", tenant.id).execute();
    await expect.poll(() => statuses("/api/v1/exports", { key }), soon).toEqual([200, 200]);
  });
});

describe("the hourly limit across two web processes", () => {
  it("with a limit of 100, 200 concurrent requests split between them give exactly 100 successes, each its own remaining count", async () => {
    const main = await tenantBySlug("main");
    await getDb().updateTable("tenant").set({ api_requests_per_hour: 100 }).where("id", "=", main.id).execute();
    await getDb().deleteFrom("api_rate_window").where("tenant_id", "=", main.id).execute();
    const key = await createKey("main", ["dashboards.read"]);
    // Each process gets as many requests as the limit, so neither is left holding numbers it leased.
    const answers: ApiResponse[] = await Promise.all(Array.from({ length: 200 }, (_, i) => clients[i % 2]("/api/v1/dashboards", { key })));
    expect(answers.filter((r) => r.status === 200)).toHaveLength(100);
    expect(answers.filter((r) => r.status === 429)).toHaveLength(100);
    const remaining = answers.filter((r) => r.status === 200).map((r) => Number(r.headers.get("x-ratelimit-remaining")));
    expect(remaining.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    // Both served some: the window's numbers were leased by both processes from the one row.
    for (const client of [0, 1]) expect(answers.filter((r, i) => i % 2 === client && r.status === 200).length).toBeGreaterThan(0);
    const [row] = await getDb().selectFrom("api_rate_window").select("requests").where("tenant_id", "=", main.id).execute();
    expect(row.requests).toBe(100);
  });

  it("with a limit of 100, 60 requests to one and then 60 to the other give exactly 100: the first hands back what it leased and did not use", async () => {
    const staging = await tenantBySlug("staging");
    await getDb().updateTable("tenant").set({ api_requests_per_hour: 100 }).where("id", "=", staging.id).execute();
    await getDb().deleteFrom("api_rate_window").where("tenant_id", "=", staging.id).execute();
    const key = await createKey("staging", ["dashboards.read"]);
    const oneByOne = async (api: (typeof clients)[number], count: number) => {
      const answers: ApiResponse[] = [];
      for (let i = 0; i < count; i++) answers.push(await api("/api/v1/dashboards", { key }));
      return answers;
    };
    const fromA = await oneByOne(clients[0], 60);
    const fromB = await oneByOne(clients[1], 60);
    expect(fromA.map((r) => r.status)).toEqual(Array(60).fill(200));
    expect(fromB.map((r) => r.status)).toEqual([...Array(40).fill(200), ...Array(20).fill(429)]);
    const remaining = [...fromA, ...fromB].filter((r) => r.status === 200).map((r) => Number(r.headers.get("x-ratelimit-remaining")));
    expect(remaining.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    // All 100 are granted: both processes refuse now.
    expect(await statuses("/api/v1/dashboards", { key })).toEqual([429, 429]);
    const [row] = await getDb().selectFrom("api_rate_window").selectAll().where("tenant_id", "=", staging.id).execute();
    expect(row.requests).toBe(100);
    expect(row.returned_taken).toBe(row.returned.length);
    expect(row.returned.length).toBeGreaterThan(0);
    // Later tests here call as staging: its default limit again.
    await getDb().updateTable("tenant").set({ api_requests_per_hour: null }).where("id", "=", staging.id).execute();
  });
});

/** A session cookie from signing in through `app`'s sign-in form, as a browser does. */
async function signInTo(app: RunningApp, email: string): Promise<string> {
  const res = await fetch(app.url + "/sign-in", {
    method: "POST",
    headers: { Origin: app.url },
    body: new URLSearchParams({ email, password: DEMO_PASSWORD }),
    redirect: "manual",
  });
  expect(res.status).toBe(302);
  return res.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
}

describe("sessions cached in two web processes", () => {
  const page = "/o/acme-health/t/production/exports";
  /** Both processes' answers to the exports page for a session cookie: the status, and the page's text. */
  const pages = (cookie: string) =>
    Promise.all([webA, webB].map(async (app) => {
      const res = await fetch(app.url + page, { headers: { Cookie: cookie }, redirect: "manual" });
      return { status: res.status, text: await res.text() };
    }));
  const statusesOf = async (cookie: string) => (await pages(cookie)).map((p) => p.status);
  /** Signs in through `app` and reads the page a few times in both: the first read of a process starts its listeners, and pages are cached once they listen. */
  async function signedInBoth(app: RunningApp, email: string) {
    const cookie = await signInTo(app, email);
    for (let i = 0; i < 5; i++) {
      expect(await statusesOf(cookie)).toEqual([200, 200]);
      await new Promise((r) => setTimeout(r, 50));
    }
    return cookie;
  }

  it("serve a signed-in page from each process's cache, and a sign-out in one ends the session in both", async () => {
    const cookie = await signedInBoth(webA, "production-editor@acme.test");
    const user = await getDb().selectFrom("user").select(["id", "name"]).where("email", "=", "production-editor@acme.test").executeTakeFirstOrThrow();

    // Renamed behind the triggers' back: both processes still show the old name, so it is their cache that answers.
    const rename = (name: string) => getDb().updateTable("user").set({ name }).where("id", "=", user.id).execute();
    await getDb().transaction().execute(async (trx) => {
      await sql`set local session_replication_role = replica`.execute(trx);
      await trx.updateTable("user").set({ name: "Quietly Renamed" }).where("id", "=", user.id).execute();
    });
    for (const p of await pages(cookie)) expect(p.text).toContain(user.name);
    // A rename as better-auth or an admin makes it reaches both.
    await rename("Openly Renamed");
    await expect.poll(async () => (await pages(cookie)).map((p) => p.text.includes("Openly Renamed")), soon).toEqual([true, true]);
    await rename(user.name);

    const signOut = await fetch(webA.url + "/sign-out", { method: "POST", headers: { Cookie: cookie, Origin: webA.url }, redirect: "manual" });
    expect(signOut.status).toBe(302);
    // A at once (it ended the session), B on the notification: both send the old cookie to sign in.
    await expect.poll(() => statusesOf(cookie), soon).toEqual([302, 302]);
    for (const p of await Promise.all([webA, webB].map((app) => fetch(app.url + page, { headers: { Cookie: cookie }, redirect: "manual" })))) {
      expect(p.headers.get("location")).toMatch(/^\/sign-in\?redirectTo=/);
    }
  });

  it("are heard once per process: the page cache and the pages it keeps see one session cache", async () => {
    await signedInBoth(webA, "production-admin@acme.test");
    // server.ts and the Remix build each bundle the caches' module; two session caches in one process heard a
    // rename at two moments, and a page rendered from the late one was kept under the early one's generation.
    const { rows } = await sql<{ query: string; count: number }>`
      select query, count(*)::int as count from pg_stat_activity
      where datname = current_database() and application_name = 'exportal-listen' and query in ('listen "auth_sessions"', 'listen "exports_page"')
      group by query order by query`.execute(getDb());
    expect(rows).toEqual([{ query: 'listen "auth_sessions"', count: 2 }, { query: 'listen "exports_page"', count: 2 }]);
  });

  it("keep no page that showed a cached user after the session cache hears of a rename later than the page cache", async () => {
    const cookie = await signedInBoth(webB, "production-viewer@acme.test");
    const user = await getDb().selectFrom("user").select(["id", "name"]).where("email", "=", "production-viewer@acme.test").executeTakeFirstOrThrow();
    await getDb().transaction().execute(async (trx) => {
      await sql`set local session_replication_role = replica`.execute(trx);
      await trx.updateTable("user").set({ name: "Late Renamed" }).where("id", "=", user.id).execute();
    });
    // Each cache listens on its own connection: the page cache hears first and the page is rendered again,
    // from the session cache that has not heard yet.
    await sql`select pg_notify('exports_page', 'user')`.execute(getDb());
    await new Promise((r) => setTimeout(r, 300));
    for (const p of await pages(cookie)) expect(p.text).toContain(user.name);
    await sql`select pg_notify('auth_sessions', 'user')`.execute(getDb());
    await expect.poll(async () => (await pages(cookie)).map((p) => p.text.includes("Late Renamed")), soon).toEqual([true, true]);
    await getDb().updateTable("user").set({ name: user.name }).where("id", "=", user.id).execute();
  });
});

describe("finished exports cached in two web processes", () => {
  /** A finished export in `tenantSlug`, as the worker leaves one. */
  async function finishedExport(tenantSlug: string, scope: "tenant" | "organization") {
    const tenant = await tenantBySlug(tenantSlug);
    const { rows } = await sql<{ id: string }>`
      insert into export (tenant_id, organization_id, scope, filters, data_types, formats, status, rows_done, rows_expected, archive_bytes, started_at, finished_at, expires_at)
      values (${tenant.id}, ${tenant.organization_id}, jsonb_build_object('type', ${scope}::text), '{}', array['hsi_records'], array['ndjson'], 'done', 10, 10, 500, now(), now(), now() + interval '1 day')
      returning id`.execute(getDb());
    return rows[0].id;
  }
  const answers = async (id: string, key: string) => (await both(`/api/v1/exports/${id}`, { key })).map((r) => [r.status, r.body?.status ?? r.body?.error?.code]);
  /** Reads `id` a few times in both processes: the first read of a process starts its listener, and exports are cached once it listens. */
  async function warmExport(id: string, key: string) {
    for (let i = 0; i < 5; i++) {
      expect(await answers(id, key)).toEqual([[200, "done"], [200, "done"]]);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it("answer a finished export from each process's cache, and follow its expiry in both", async () => {
    const id = await finishedExport("production", "tenant");
    const key = await createKey("production", ["data.exports.read"]);
    await warmExport(id, key);
    // Expired behind the triggers' back: both still answer done, so it is their cache that answers.
    await getDb().transaction().execute(async (trx) => {
      await sql`set local session_replication_role = replica`.execute(trx);
      await trx.updateTable("export").set({ status: "expired" }).where("id", "=", id).execute();
    });
    expect(await answers(id, key)).toEqual([[200, "done"], [200, "done"]]);
    // Expired as the worker expires it: both follow.
    await getDb().updateTable("export").set({ status: "expired", expires_at: new Date() }).where("id", "=", id).execute();
    await expect.poll(() => answers(id, key), soon).toEqual([[200, "expired"], [200, "expired"]]);
  });

  it("keep a cached export from other tenants' keys", async () => {
    const id = await finishedExport("production", "tenant");
    const production = await createKey("production", ["data.exports.read"]);
    const staging = await createKey("staging", ["data.exports.read"]);
    await warm(staging);
    await warmExport(id, production);
    for (let i = 0; i < 3; i++) expect(await answers(id, staging)).toEqual([[404, "NOT_FOUND"], [404, "NOT_FOUND"]]);
  });

  it("keep a cached organization export from readers who may not see organization exports", async () => {
    // No API key may see organization exports, so over HTTP none is ever cached; the check on a cached row is
    // seen here, in this process's cache, filled by an organization owner's read.
    const id = await finishedExport("production", "organization");
    const owner = await ownerIn("production");
    const editor = { ...owner, ability: buildAbility(permissionsFor("member", "editor")) };
    const read = (viewer: typeof owner) => getExport(getDb(), viewer, id, { fromCache: true });
    await expect.poll(async () => {
      await read(owner);
      return cachedSettledExport(id)?.id;
    }, soon).toBe(id);
    await getDb().transaction().execute(async (trx) => {
      await sql`set local session_replication_role = replica`.execute(trx);
      await trx.updateTable("export").set({ error: "cached, not read" }).where("id", "=", id).execute();
    });
    expect((await read(owner))?.error).toBeNull();
    expect(await read(editor)).toBeUndefined();
    expect(await read({ ...owner, tenantId: (await tenantBySlug("staging")).id })).toBeUndefined();
  });
});
