import { execFile, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { parseArgs } from "node:util";
import { sql } from "kysely";
import { closeDb, getDb } from "../db/client";
import { freePort, startEmbeddedPostgres } from "../db/embedded";
import { migrateToLatest } from "../db/migrate";
import { DEMO_PASSWORD, seedDemo } from "../db/seed";
import { sealCredential } from "../app/analytics/credential-crypto.server";
import { createApiKey } from "../app/api/keys.server";
import { buildAbility, PERMISSIONS } from "../app/auth/permissions";

// `npm run bench:api -- --duration 5 --rounds 3 --connections 10,50`: three servers, each loaded
// by autocannon from a second process at each number of connections:
//   - a bare Node HTTP server answering the API's JSON bytes (the floor);
//   - the portal as `npm start` runs it, on a constant JSON resource route
//     (GET /api/v1/manifest-key: public, no database), which measures Express + Remix;
//   - the portal on GET /api/v1/exports/:id with a real key (key, limits, one query);
//   - the exports page as an editor keeps it open (25 rows): its data request as a
//     navigation asks it (every loader), as the page's 1.5 s poll asks it (the
//     page's own loader), and the whole page. Each is answered from the page's
//     cache after the first request (app/exports/exports-page-cache.server.ts);
//     the "rendered" lines ask a new address every time, so Remix renders each
//     answer, as after a change.
// Each server is loaded --rounds times for --duration seconds, the servers taking turns, so
// the machine's drift (this one's shared cores vary by a third within minutes) falls on all of
// them alike; each line is the round with the median requests/s, with every round's requests.
// Prints requests/s and latency for each, then the ratios at the most connections.
const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "5" },
    rounds: { type: "string", default: "3" },
    connections: { type: "string", default: "10,50" },
    profile: { type: "string" },
    only: { type: "string" },
  },
});
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error("--rounds takes a count like 3");
const connectionCounts = values.connections!.split(",").map(Number);
if (connectionCounts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error("--connections takes counts like 10,50");
const run = promisify(execFile);

const dir = mkdtempSync(path.join(os.tmpdir(), "exportal-bench-api-"));
chmodSync(dir, 0o755);
process.env.EXPORTAL_DATA_DIR = dir;
const pg = await startEmbeddedPostgres(path.join(dir, "postgres"), "bench");
process.env.DATABASE_URL = pg.url;
const children: ChildProcess[] = [];

function startProcess(args: string[], env: NodeJS.ProcessEnv, ready: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let log = "";
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      log += d;
      if (log.includes(ready)) resolve(child);
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${args.join(" ")} exited with ${code}:\n${log}`)));
  });
}

type Server = { name: string; url: string; headers: Record<string, string>; vary?: boolean };
type Load = { requests: number; rps: number; p50: number; p99: number; non2xx: number; errors: number };
async function load({ url, headers, vary }: Server, duration: number, connections: number) {
  const args = ["bench/load.mjs", url, JSON.stringify(headers), String(duration), String(connections), vary ? "vary" : ""];
  const { stdout } = await run(process.execPath, args, { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split("\n").pop()!) as Load;
}

try {
  const db = getDb();
  await migrateToLatest(db, pg.url);
  await seedDemo(db, { hsiRows: 1000, labRows: 100, seal: sealCredential });
  const tenant = await db.selectFrom("tenant").select(["id", "organization_id"]).where("slug", "=", "production").executeTakeFirstOrThrow();
  // The default 1,000 requests an hour would stop the load after a second.
  await db.updateTable("tenant").set({ api_requests_per_hour: 2_000_000_000 }).where("id", "=", tenant.id).execute();
  const user = await db.selectFrom("user").select("id").where("email", "=", "production-admin@acme.test").executeTakeFirstOrThrow();
  const admin = { tenantId: tenant.id, organizationId: tenant.organization_id, actor: { userId: user.id, label: "bench" }, ability: buildAbility([...PERMISSIONS]) };
  const { key } = await createApiKey(db, admin, { name: "bench", permissions: ["data.exports.read"] });
  const { rows } = await sql<{ id: string }>`
    insert into export (tenant_id, organization_id, scope, filters, data_types, formats, status, rows_done, rows_expected, archive_bytes, started_at, finished_at, expires_at)
    values (${tenant.id}, ${tenant.organization_id}, '{"type":"tenant"}', '{}', array['hsi_records','lab_results'], array['ndjson'], 'done', 1100, 1100, 52000, now(), now(), now() + interval '1 day')
    returning id`.execute(db);
  // A full first page of the editor's finished exports, as the exports page shows them.
  const editor = await db.selectFrom("user").select("id").where("email", "=", "production-editor@acme.test").executeTakeFirstOrThrow();
  await sql`
    insert into export (tenant_id, organization_id, requested_by_user_id, scope, filters, data_types, formats, status, rows_done, rows_expected, archive_bytes, started_at, finished_at, expires_at, created_at)
    select ${tenant.id}, ${tenant.organization_id}, ${editor.id}, '{"type":"tenant"}', '{}', array['hsi_records','lab_results'], array['ndjson','csv'], 'done', 1100, 1100, 52000,
      now() - make_interval(mins => i), now() - make_interval(mins => i), now() + interval '1 day', now() - make_interval(mins => i)
    from generate_series(1, 30) i`.execute(db);
  await closeDb();

  const apiPort = await freePort();
  // As `npm start` runs it: the compiled server, in production mode.
  // --profile DIR: the portal writes a V8 CPU profile there when it stops (open it in Chrome's DevTools).
  const profile = values.profile ? ["--cpu-prof", `--cpu-prof-dir=${path.resolve(values.profile)}`] : [];
  await startProcess([...profile, "build/server-start/server.js"], { ...process.env, NODE_ENV: "production", PORT: String(apiPort), HOST: "127.0.0.1", PUBLIC_URL: `http://127.0.0.1:${apiPort}`, WORKER_CONCURRENCY: "1" }, "Exportal is running at");
  const apiUrl = `http://127.0.0.1:${apiPort}/api/v1/exports/${rows[0].id}`;
  const sample = await fetch(apiUrl, { headers: { Authorization: `Bearer ${key}` } });
  if (sample.status !== 200) throw new Error(`the API answered ${sample.status}: ${await sample.text()}`);
  const bodyFile = path.join(dir, "body.json");
  const body = Buffer.from(await sample.arrayBuffer());
  writeFileSync(bodyFile, body);

  const basePort = await freePort();
  await startProcess(["bench/fixed-server.mjs", String(basePort), bodyFile], process.env, "listening");
  const baseUrl = `http://127.0.0.1:${basePort}/`;

  const constantUrl = `http://127.0.0.1:${apiPort}/api/v1/manifest-key`;
  const auth = { Authorization: `Bearer ${key}` };
  const origin = `http://127.0.0.1:${apiPort}`;
  const signIn = await fetch(`${origin}/sign-in`, {
    method: "POST",
    headers: { Origin: origin },
    body: new URLSearchParams({ email: "production-editor@acme.test", password: DEMO_PASSWORD }),
    redirect: "manual",
  });
  if (signIn.status !== 302) throw new Error(`signing in answered ${signIn.status}: ${await signIn.text()}`);
  const session = { Cookie: signIn.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ") };
  const page = `${origin}/o/acme-health/t/production/exports`;
  const pollUrl = `${page}.data?_routes=${encodeURIComponent("routes/o.$org.t.$tenant.exports._index")}`;
  // The poll again, with the browser's copy current: answered 304 (not modified) until something changes or the
  // answer's half minute is over, when one full answer comes back; the table says how many were 304.
  const unchanged: Server = { name: "exports.data, poll, unchanged", url: pollUrl, headers: { ...session } };
  const servers: Server[] = [
    { name: "bare Node, fixed JSON", url: baseUrl, headers: {} },
    { name: "portal, constant route", url: constantUrl, headers: {} },
    { name: "portal, API endpoint", url: apiUrl, headers: auth },
    { name: "exports.data, navigation", url: `${page}.data`, headers: session },
    { name: "exports.data, poll", url: pollUrl, headers: session },
    { name: "exports page, full", url: page, headers: session },
    unchanged,
    { name: "exports.data, navigation, rendered", url: `${page}.data`, headers: session, vary: true },
    { name: "exports.data, poll, rendered", url: pollUrl, headers: session, vary: true },
    { name: "exports page, full, rendered", url: page, headers: session, vary: true },
  ];
  /** The poll's current tag, taken just before each load (a tag lasts at most half a minute). */
  async function refreshTag() {
    const tag = (await fetch(pollUrl, { headers: session })).headers.get("etag");
    if (!tag) throw new Error("the exports page's poll answered without an ETag");
    unchanged.headers["If-None-Match"] = tag;
  }
  // --only TEXT: only the servers whose name holds TEXT (with --profile, to see one of them alone).
  if (values.only) servers.splice(0, servers.length, ...servers.filter((s) => s.name.includes(values.only!)));
  for (const s of servers.filter((s) => "Cookie" in s.headers && s !== unchanged && !s.vary)) {
    const res = await fetch(s.url, { headers: s.headers });
    if (res.status !== 200) throw new Error(`${s.name} answered ${res.status}`);
    console.log(`${s.name}: ${(await res.arrayBuffer()).byteLength} bytes`);
  }
  const duration = Number(values.duration);
  console.log(`Warming up, then ${rounds} × ${duration} s of load for each server at ${connectionCounts.join(" and ")} connections...`);
  for (const s of servers) {
    if (s === unchanged) await refreshTag();
    await load(s, 3, Math.max(...connectionCounts));
  }
  const results: Record<string, Load>[] = [];
  for (const connections of connectionCounts) {
    const runs: Record<string, Load[]> = {};
    for (let round = 0; round < rounds; round++) {
      for (const s of servers) {
        if (s === unchanged) await refreshTag();
        const r = await load(s, duration, connections);
        if (r.errors || (r.non2xx && s !== unchanged)) throw new Error(`${s.name} had ${r.non2xx} non-2xx answers and ${r.errors} errors`);
        (runs[s.name] ??= []).push(r);
      }
    }
    const byServer: Record<string, Load> = {};
    for (const [name, loads] of Object.entries(runs)) {
      const median = [...loads].sort((a, b) => a.rps - b.rps)[Math.floor(loads.length / 2)];
      const sum = (key: "requests" | "non2xx") => loads.reduce((n, r) => n + r[key], 0);
      byServer[name] = { ...median, requests: sum("requests"), non2xx: sum("non2xx") };
    }
    results.push(byServer);
  }

  console.log(`\nGET /api/v1/exports/:id: ${body.length} bytes of JSON; ${os.cpus().length} cores\n`);
  const line = (cols: string[]) => console.log(cols.map((c, i) => (i === 0 ? c.padEnd(38) : c.padStart(12))).join(""));
  line(["server", "connections", "requests/s", "p50 ms", "p99 ms", "requests", ""]);
  connectionCounts.forEach((connections, i) => {
    for (const s of servers) {
      const r = results[i][s.name];
      const notModified = s === unchanged ? `${((100 * r.non2xx) / r.requests).toFixed(0)}% 304` : "";
      line([s.name, String(connections), r.rps.toFixed(0), String(r.p50), String(r.p99), String(r.requests), notModified]);
    }
  });
  const last = results[results.length - 1];
  console.log(`\nrequests/s ratios at ${connectionCounts[connectionCounts.length - 1]} connections:`);
  const ratio = (label: string, name: string, to: string) => {
    if (last[name] && last[to]) console.log(`ratio ${label}: ${(last[name].rps / last[to].rps).toFixed(3)}`);
  };
  ratio("api/constant-route", "portal, API endpoint", "portal, constant route");
  ratio("api/bare", "portal, API endpoint", "bare Node, fixed JSON");
  ratio("exports-data/constant-route", "exports.data, navigation", "portal, constant route");
  ratio("exports-poll/constant-route", "exports.data, poll", "portal, constant route");
  ratio("exports-page/constant-route", "exports page, full", "portal, constant route");
  ratio("exports-poll-unchanged/constant-route", "exports.data, poll, unchanged", "portal, constant route");
  ratio("exports-data-rendered/constant-route", "exports.data, navigation, rendered", "portal, constant route");
  ratio("exports-poll-rendered/constant-route", "exports.data, poll, rendered", "portal, constant route");
  ratio("exports-page-rendered/constant-route", "exports page, full, rendered", "portal, constant route");
} finally {
  for (const child of children) child.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 1500));
  await closeDb().catch(() => {});
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
