import path from "node:path"; import os from "node:os"; import { mkdtempSync, rmSync, chmodSync } from "node:fs";
import { sql } from "kysely";
import { closeDb, getDb } from "./db/client";
import { startEmbeddedPostgres } from "./db/embedded";
import { migrateToLatest } from "./db/migrate";
import { seedDemo } from "./db/seed";
import { sealCredential } from "./app/analytics/credential-crypto.server";
const dir = mkdtempSync(path.join(os.tmpdir(), "exp-")); chmodSync(dir, 0o755);
process.env.EXPORTAL_DATA_DIR = dir;
const pg = await startEmbeddedPostgres(path.join(dir, "pg"), "exp");
process.env.DATABASE_URL = pg.url;
try {
  const db = getDb(); await migrateToLatest(db, pg.url);
  await seedDemo(db, { hsiRows: 1000, labRows: 100, seal: sealCredential });
  const { signIn, makeRequest } = await import("./tests/setup/routes");
  const { getSessionUser } = await import("./app/auth/auth.server");
  const { requireTenant, requesterOf, rememberTenant, listTenantChoices } = await import("./app/auth/access.server");
  const { listExports } = await import("./app/exports/export-queries.server");
  const { listProjects } = await import("./app/tenants/tenant-data.server");
  const idx = await import("./app/routes/o.$org.t.$tenant.exports._index");
  const layout = await import("./app/routes/o.$org.t.$tenant");
  const t = await db.selectFrom("tenant").select(["id","organization_id"]).where("slug","=","production").executeTakeFirstOrThrow();
  const editor = await db.selectFrom("user").select("id").where("email", "=", "production-editor@acme.test").executeTakeFirstOrThrow();
  await sql`insert into export (tenant_id, organization_id, requested_by_user_id, scope, filters, data_types, formats, status, rows_done, rows_expected, archive_bytes, started_at, finished_at, expires_at, created_at)
    select ${t.id}, ${t.organization_id}, ${editor.id}, '{"type":"tenant"}', '{}', array['hsi_records','lab_results'], array['ndjson','csv'], 'done', 1100, 1100, 52000,
      now() - make_interval(mins => i), now() - make_interval(mins => i), now() + interval '1 day', now() - make_interval(mins => i) from generate_series(1, 30) i`.execute(db);
  const cookie = await signIn("production-editor@acme.test");
  const params = { org: "acme-health", tenant: "production" };
  const req = () => makeRequest("/o/acme-health/t/production/exports", { cookie });
  const ctx = await requireTenant(req(), params);
  const requester = requesterOf(ctx);
  async function time(name: string, f: () => Promise<unknown>, n = 1000) {
    for (let i = 0; i < 100; i++) await f();
    const s = performance.now(); const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) await f();
    const ms = performance.now() - s; const cpu = process.cpuUsage(c0);
    console.log(name.padEnd(24), (ms / n * 1000).toFixed(0).padStart(6), "µs/op wall", ((cpu.user + cpu.system) / n).toFixed(0).padStart(6), "µs node cpu");
  }
  await time("getSessionUser", () => getSessionUser(req()));
  await time("requireTenant", () => requireTenant(req(), params));
  await time("rememberTenant", () => rememberTenant(editor.id, t.id), 300);
  await time("listTenantChoices", () => listTenantChoices(editor.id));
  await time("listExports", () => listExports(db, requester, 1));
  await time("listProjects", () => listProjects(db, requester));
  await time("index loader", () => idx.loader({ request: req(), params, context: {} } as any), 500);
  await time("layout loader", () => layout.loader({ request: req(), params, context: {} } as any), 300);
} finally { await closeDb(); await pg.stop(); rmSync(dir, { recursive: true, force: true }); }
