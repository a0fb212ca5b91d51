import { execFile, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { mkdtempSync, rmSync, chmodSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs, promisify } from "node:util";
import { sql } from "kysely";
import { closeDb, getDb } from "../db/client";
import { startEmbeddedPostgres } from "../db/embedded";
import { migrateToLatest } from "../db/migrate";
import { addHsiRecords, bulkInsert, seedDemo } from "../db/seed";
import { sealCredential } from "../app/analytics/credential-crypto.server";
import { copyStatement } from "../app/exports/engine/statements.server";
import { createExport } from "../app/exports/exports.server";
import { ACTIVE_EXPORT_STATUSES } from "../db/schema";
import { requesterOf, requireTenant } from "../app/auth/access.server";
import { getAuth } from "../app/auth/auth.server";
import S3rver from "s3rver";

// `npm run bench:export -- --rows 1000000 --runs 3`: a tenant-scope export of
// N HSI rows against raw baselines (COPY piped into gzip -6), each run in
// its own process, alternating baseline and export so drift cancels out, and
// timed over its work (bench/child.ts says what that excludes). `--profile DIR`
// writes each export's CPU profile there.
// Two baselines per format: the exporter's own COPY statement (what the Node
// side adds) and the raw table (`SELECT *`, `row_to_json` for NDJSON: what
// the exporter's SQL adds too). Then the time from an export's creation to
// its start, over 50 small exports on an idle worker (`--starts 0` skips it).
// `--storage s3` also runs each export into a local S3-protocol server (s3rver),
// next to the local-disk run. `--format both` runs one format only (default all).
// Parquet is measured against the CSV export of the same rows; Excel likewise,
// on a second tenant of at most 100,000 rows (a workbook is for people, and slow to write).
const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "1000000" },
    runs: { type: "string", default: "3" },
    storage: { type: "string", default: "local" },
    format: { type: "string", default: "all" },
    starts: { type: "string", default: "50" },
    profile: { type: "string" },
  },
});
const rows = Number(values.rows);
const runs = Number(values.runs);
const starts = Number(values.starts);
if (!["local", "s3"].includes(values.storage!)) throw new Error("--storage is local or s3");
const withS3 = values.storage === "s3";
const FORMATS = ["csv", "ndjson", "both", "parquet", "xlsx"] as const;
if (values.format !== "all" && !(FORMATS as readonly string[]).includes(values.format!)) throw new Error(`--format is ${FORMATS.join(", ")} or all`);
const XLSX_ROWS = Math.min(rows, 100_000);
const formats = FORMATS.filter((f) => values.format === "all" || f === values.format);

const dir = mkdtempSync(path.join(os.tmpdir(), "exportal-bench-"));
chmodSync(dir, 0o755);
process.env.EXPORTAL_DATA_DIR = dir;
const pg = await startEmbeddedPostgres(path.join(dir, "postgres"), "bench");
process.env.DATABASE_URL = pg.url;
process.env.BETTER_AUTH_URL = "http://localhost";

interface Measure { ms: number; bytes: number; maxRssKb: number }
// The measured processes run compiled JavaScript, as `npm run worker` does, not through tsx.
// Under node_modules, so its imports resolve, and outside build/, which `npm run build` empties.
// One directory per run: two benches at once (or in worktrees sharing node_modules by hardlinks) never run each other's.
// Split as the worker is built, so what an export loads only when it needs it (Parquet, Excel) stays out until then.
const childDir = path.resolve(`node_modules/.cache/exportal-bench/${process.pid}`);
const childScript = path.join(childDir, "child.js");
execFileSync("npx", ["esbuild", "bench/child.ts", "--bundle", "--splitting", "--platform=node", "--format=esm", "--packages=external", "--log-level=warning", `--outdir=${childDir}`]);
// --profile: V8 CPU profiles of the export runs only (open one in Chrome's DevTools).
const profile = values.profile ? ["--cpu-prof", `--cpu-prof-dir=${path.resolve(values.profile)}`] : [];
// Not execFileSync: with --storage s3 this process serves S3 (s3rver) to the child, so its event loop must stay free.
async function child(args: string[], env: Record<string, string> = {}): Promise<Measure> {
  const flags = args[0] === "export" ? profile : [];
  const { stdout: out } = await promisify(execFile)(process.execPath, [...flags, childScript, ...args], { env: { ...process.env, ...env }, encoding: "utf8" });
  return JSON.parse(out.trim().split("\n").pop()!);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const s3 = withS3 ? new S3rver({ port: 0, address: "127.0.0.1", directory: path.join(dir, "s3"), silent: true, configureBuckets: [{ name: "bench", configs: [] }] }) : null;
const s3Env: Record<string, string> = s3
  ? {
      EXPORTAL_S3_BUCKET: "bench",
      EXPORTAL_S3_ENDPOINT: `http://127.0.0.1:${(await s3.run()).port}`,
      EXPORTAL_S3_FORCE_PATH_STYLE: "true",
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
    }
  : {};

try {
  const db = getDb();
  await migrateToLatest(db, pg.url);
  console.log(`Filling the database with ${rows.toLocaleString()} HSI rows...`);
  await seedDemo(db, { hsiRows: 0, labRows: 0, seal: sealCredential });
  const tenantId = async (slug: string) => (await db.selectFrom("tenant").select("id").where("slug", "=", slug).executeTakeFirstOrThrow()).id;
  const tenant = { id: await tenantId("production") };
  await bulkInsert(db, (trx) => addHsiRecords(trx, tenant.id, rows));
  if (formats.includes("xlsx")) await bulkInsert(db, async (trx) => addHsiRecords(trx, await tenantId("staging"), XLSX_ROWS));
  // As a database that has held these rows a while: autovacuum would otherwise vacuum and analyze them during the
  // first runs and the creation-to-running measure, which would then count its work too.
  await sql`vacuum analyze`.execute(db);

  const signIn = await getAuth().api.signInEmail({ body: { email: "owner@acme.test", password: "exportal-demo" }, asResponse: true });
  const cookie = signIn.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const requesterIn = async (slug: string) =>
    requesterOf(await requireTenant(new Request("http://localhost/", { headers: { Cookie: cookie } }), { org: "acme-health", tenant: slug }));
  const requester = await requesterIn("production");
  const staging = formats.includes("xlsx") ? await requesterIn("staging") : requester;
  const target = { tenantId: tenant.id, organizationId: requester.organizationId, scope: { type: "tenant" as const }, filters: {} };
  const baselines = { csv: copyStatement("hsi_records", "csv", target), ndjson: copyStatement("hsi_records", "ndjson", target) };
  // The table as stored, in the export's order: the cost of reading and rendering rows, without the exporter's expressions.
  const rawSelect = `SELECT * FROM hsi_record WHERE tenant_id = '${tenant.id}' ORDER BY recorded_at, id`;
  const rawTable = {
    csv: `COPY (${rawSelect}) TO STDOUT WITH (FORMAT csv, HEADER)`,
    ndjson: `COPY (SELECT row_to_json(r)::text FROM (${rawSelect}) AS r) TO STDOUT WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')`,
  };

  /** Runs the queued export in its own process and checks it ended done. */
  async function measureExport(format: (typeof FORMATS)[number], env: Record<string, string> = {}, by = requester): Promise<Measure> {
    // Full data, as the baseline's statement: the profile's transforms are measured by their own SQL, not here.
    await createExport(db, by, { dataTypes: ["hsi_records"], format, deidentification: "full" });
    const measure = await child(["export"], env);
    const last = await db.selectFrom("export").select(["status", "archive_bytes", "error"]).orderBy("created_at", "desc").executeTakeFirstOrThrow();
    if (last.status !== "done") throw new Error(`export ${format} ended ${last.status}: ${last.error}`);
    return { ...measure, bytes: Number(last.archive_bytes) };
  }

  /**
   * Creation to start (created_at, the creating transaction's time, to
   * started_at, the task's) of small exports (a date range without rows),
   * one at a time, each queued when the worker, in its own process, is idle.
   */
  async function measureStarts() {
    const worker = spawn(process.execPath, [childScript, "worker"], { stdio: ["ignore", "pipe", "inherit"] });
    const exited = once(worker, "exit");
    await Promise.race([once(worker.stdout, "data"), exited.then(() => Promise.reject(new Error("the worker exited")))]);
    const delays: number[] = [];
    // From the creating transaction's commit (as its caller saw it return) to the start: the queue's own part.
    const pickups: number[] = [];
    try {
      for (let i = 0; i < starts; i++) {
        await sleep(50);
        const { id } = await createExport(db, requester, { dataTypes: ["hsi_records"], format: "csv", deidentification: "full", dateRange: { from: "2000-01-01", to: "2000-01-02" } });
        const committed = Date.now();
        const row = () => db.selectFrom("export").select(["status", "error", "created_at", "started_at"]).where("id", "=", id).executeTakeFirstOrThrow();
        let last = await row();
        while ((ACTIVE_EXPORT_STATUSES as readonly string[]).includes(last.status)) {
          await sleep(10);
          last = await row();
        }
        if (last.status !== "done") throw new Error(`small export ended ${last.status}: ${last.error}`);
        delays.push(last.started_at!.getTime() - last.created_at.getTime());
        pickups.push(last.started_at!.getTime() - committed);
      }
    } finally {
      worker.kill("SIGTERM");
      await exited;
    }
    const p = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * q)];
    console.log(`creation to running, ${starts} small exports on an idle worker: p50 ${p(delays, 0.5)} ms, p90 ${p(delays, 0.9)} ms`);
    console.log(`  from the creating transaction's commit to running: p50 ${p(pickups, 0.5)} ms, p90 ${p(pickups, 0.9)} ms`);
  }

  const results: { name: string; export: Measure[]; s3: Measure[]; baseline: Measure[][]; raw: Measure[][] }[] = [];
  // Parquet and Excel against the CSV export of the same rows, run alternately with them.
  const typed: { name: string; rows: number; export: Measure[]; csv: Measure[] }[] = [];
  for (const format of formats) {
    if (format === "parquet" || format === "xlsx") {
      const by = format === "xlsx" ? staging : requester;
      const result = { name: format, rows: format === "xlsx" ? XLSX_ROWS : rows, export: [] as Measure[], csv: [] as Measure[] };
      for (let i = 0; i < runs; i++) {
        result.csv.push(await measureExport("csv", {}, by));
        result.export.push(await measureExport(format, {}, by));
      }
      typed.push(result);
      continue;
    }
    const result = { name: format, export: [] as Measure[], s3: [] as Measure[], baseline: [] as Measure[][], raw: [] as Measure[][] };
    for (let i = 0; i < runs; i++) {
      const parts = format === "both" ? (["ndjson", "csv"] as const) : [format];
      const baseline: Measure[] = [];
      const raw: Measure[] = [];
      for (const part of parts) baseline.push(await child(["baseline", baselines[part]]));
      for (const part of parts) raw.push(await child(["baseline", rawTable[part]]));
      result.baseline.push(baseline);
      result.raw.push(raw);
      result.export.push(await measureExport(format));
      if (s3) result.s3.push(await measureExport(format, s3Env));
    }
    results.push(result);
  }

  console.log(`\n${rows.toLocaleString()} HSI rows, tenant scope, median of ${runs} alternating runs, ${os.cpus().length} cores\n`);
  const line = (cols: string[]) => console.log(cols.map((c, i) => (i === 0 ? c.padEnd(16) : c.padStart(13))).join(""));
  line(["run", "wall s", "rows/s", "bytes", "peak RSS MB", "ratio"]);
  const ratios: string[] = [];
  for (const r of results) {
    const total = (b: Measure[]) => b.reduce((s, m) => s + m.ms, 0);
    const baseMs = median(r.baseline.map(total));
    const rawMs = median(r.raw.map(total));
    const expMs = median(r.export.map((m) => m.ms));
    for (const [name, measures, ms] of [[`raw table ${r.name}`, r.raw, rawMs], [`baseline ${r.name}`, r.baseline, baseMs]] as const) {
      const bytes = median(measures.map((b) => b.reduce((s, m) => s + m.bytes, 0)));
      const rss = median(measures.map((b) => Math.max(...b.map((m) => m.maxRssKb))));
      line([name, (ms / 1000).toFixed(2), Math.round(rows / (ms / 1000)).toLocaleString(), bytes.toLocaleString(), (rss / 1024).toFixed(0), ""]);
    }
    ratios.push(`ratio export-${r.name}/raw-table: ${(expMs / rawMs).toFixed(2)}`);
    line([
      `export ${r.name}`,
      (expMs / 1000).toFixed(2),
      Math.round(rows / (expMs / 1000)).toLocaleString(),
      median(r.export.map((m) => m.bytes)).toLocaleString(),
      (median(r.export.map((m) => m.maxRssKb)) / 1024).toFixed(0),
      (expMs / baseMs).toFixed(2),
    ]);
    if (!r.s3.length) continue;
    // Its ratio is to the local-disk export of the same runs, not to the baseline.
    const s3Ms = median(r.s3.map((m) => m.ms));
    line([
      `export ${r.name} s3`,
      (s3Ms / 1000).toFixed(2),
      Math.round(rows / (s3Ms / 1000)).toLocaleString(),
      median(r.s3.map((m) => m.bytes)).toLocaleString(),
      (median(r.s3.map((m) => m.maxRssKb)) / 1024).toFixed(0),
      `${(s3Ms / expMs).toFixed(2)} × disk`,
    ]);
  }
  for (const ratio of ratios) console.log(ratio);
  for (const r of typed) {
    const csvMs = median(r.csv.map((m) => m.ms));
    const expMs = median(r.export.map((m) => m.ms));
    for (const [name, ms, measures] of [[`csv (${r.name})`, csvMs, r.csv], [`export ${r.name}`, expMs, r.export]] as const) {
      line([
        name,
        (ms / 1000).toFixed(2),
        Math.round(r.rows / (ms / 1000)).toLocaleString(),
        median(measures.map((m) => m.bytes)).toLocaleString(),
        (median(measures.map((m) => m.maxRssKb)) / 1024).toFixed(0),
        name.startsWith("csv") ? "" : `${(ms / csvMs).toFixed(2)} × csv`,
      ]);
    }
    if (r.rows !== rows) console.log(`  (${r.name}: ${r.rows.toLocaleString()} rows of a second tenant)`);
    console.log(`ratio export-${r.name}/export-csv: ${(expMs / csvMs).toFixed(2)}`);
  }
  if (starts > 0) {
    // The runs above wrote gigabytes: written out now, so the starts are timed on an idle database, not during that.
    await sql`checkpoint`.execute(db);
    await measureStarts();
  }
} finally {
  if (s3) await new Promise((resolve) => s3.httpServer?.close(resolve));
  await closeDb();
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(childDir, { recursive: true, force: true });
}
