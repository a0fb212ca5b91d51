import { mkdtempSync, rmSync, chmodSync } from "node:fs";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { FileMigrationProvider, Migrator, sql } from "kysely";
import { closeDb, getDb } from "../db/client";
import { startEmbeddedPostgres } from "../db/embedded";
import { addHsiRecords, bulkInsert, seedDemo } from "../db/seed";
import { sealCredential } from "../app/analytics/credential-crypto.server";
import { copyStatement } from "../app/exports/engine/statements.server";

// `npx tsx bench/delta-plans.ts --rows 400000`: the plans and run times of a
// tenant-scope HSI export's query (what its COPY runs) before the delta
// migration, after it (rows written before it have no ingest_xid), and once
// every row has one; and of a delta of a few percent of the rows.
const { values } = parseArgs({ options: { rows: { type: "string", default: "400000" }, delta: { type: "string", default: "20000" } } });
const rows = Number(values.rows);
const deltaRows = Number(values.delta);

const dir = mkdtempSync(path.join(os.tmpdir(), "exportal-delta-plans-"));
chmodSync(dir, 0o755);
process.env.EXPORTAL_DATA_DIR = dir;
const pg = await startEmbeddedPostgres(path.join(dir, "postgres"), "bench");
process.env.DATABASE_URL = pg.url;
process.env.BETTER_AUTH_URL = "http://localhost";

const migrator = new Migrator({
  db: getDb(),
  provider: new FileMigrationProvider({ fs, path, migrationFolder: path.resolve("db/migrations") }),
});
const must = async (step: Promise<{ error?: unknown }>) => {
  const { error } = await step;
  if (error) throw error;
};

/** The query inside the COPY: EXPLAIN cannot take COPY itself. */
const queryOf = (copy: string) => /^COPY \(([\s\S]*)\)\s+TO STDOUT/.exec(copy)![1];

async function explain(label: string, query: string) {
  const db = getDb();
  const { rows: plan } = await sql.raw<{ "QUERY PLAN": string }>(`EXPLAIN ${query}`).execute(db);
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const { rows: analyzed } = await sql.raw<{ "QUERY PLAN": string }>(`EXPLAIN (ANALYZE, TIMING OFF) ${query}`).execute(db);
    times.push(Number(/Execution Time: ([\d.]+)/.exec(analyzed.at(-1)!["QUERY PLAN"])![1]));
  }
  console.log(`\n== ${label}: median ${times.sort((a, b) => a - b)[1].toFixed(0)} ms (${times.map((t) => t.toFixed(0)).join(", ")})`);
  for (const line of plan) console.log(`   ${line["QUERY PLAN"]}`);
}

async function timed(label: string, work: () => Promise<unknown>) {
  const started = performance.now();
  await work();
  console.log(`\n${label}: ${(performance.now() - started).toFixed(0)} ms`);
}

try {
  const db = getDb();
  await must(migrator.migrateTo("20261203_1000_export_schedules"));
  await seedDemo(db, { hsiRows: 0, labRows: 0, seal: sealCredential });
  const tenant = await db.selectFrom("tenant").select(["id", "organization_id"]).where("slug", "=", "production").executeTakeFirstOrThrow();
  await timed(`inserting ${rows} HSI rows before the migration`, () => bulkInsert(db, (trx) => addHsiRecords(trx, tenant.id, rows)));
  const target = { tenantId: tenant.id, organizationId: tenant.organization_id, scope: { type: "tenant" as const }, filters: {}, deidentification: "full" as const };
  const full = queryOf(copyStatement("hsi_records", "ndjson", target));

  await explain(`full, ${rows} rows, before the migration`, full);
  const started = performance.now();
  await must(migrator.migrateToLatest());
  console.log(`\nthe delta migration took ${(performance.now() - started).toFixed(0)} ms on ${rows} HSI rows`);
  await sql`analyze hsi_record`.execute(db);
  await explain("full, after the migration (old rows' ingest_xid NULL)", full);

  const { rows: [{ snapshot }] } = await sql<{ snapshot: string }>`select pg_current_snapshot()::text as snapshot`.execute(db);
  await bulkInsert(db, (trx) => addHsiRecords(trx, tenant.id, deltaRows));
  const delta = queryOf(copyStatement("hsi_records", "ndjson", { ...target, sinceSnapshot: snapshot }));
  await explain(`delta of ${deltaRows} new rows since ${snapshot}`, delta);

  await timed(`inserting ${rows} HSI rows after it (ingest_xid default, partial index)`, () => bulkInsert(db, (trx) => addHsiRecords(trx, tenant.id, rows)));
  await explain(`full, ${2 * rows + deltaRows} rows, half of them with ingest_xid`, full);
  await explain(`delta since ${snapshot}, now ${rows + deltaRows} rows`, delta);
} finally {
  await closeDb();
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
