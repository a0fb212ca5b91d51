import { spawn } from "node:child_process";
import { pipeline } from "node:stream/promises";
import { Writable } from "node:stream";
import pg from "pg";
import { to as copyTo } from "pg-copy-streams";

// One measured run in its own process, so its peak RSS is its own:
//   child.ts baseline '<COPY statement>'   COPY piped into `gzip -6`
//   child.ts export                        the real worker task on the queued export
//   child.ts worker                        an idle worker (npm run worker's runner), until SIGTERM
// Each times its work only: the COPY once connected, the export's task as a running worker runs
// it. Starting Node, loading the worker's modules and graphile-worker's own start (0.7–1 s here)
// are paid once by a real worker, not per export; creation to running is measured on its own.
const [mode, statement] = process.argv.slice(2);
let started = performance.now();
let ms = 0;
let bytes = 0;

if (mode === "baseline") {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  started = performance.now();
  const gzip = spawn("gzip", ["-6"], { stdio: ["pipe", "pipe", "inherit"] });
  const counted = pipeline(gzip.stdout, new Writable({ write(chunk, _e, cb) { bytes += chunk.length; cb(); } }));
  await pipeline(client.query(copyTo(statement)), gzip.stdin);
  await counted;
  ms = performance.now() - started;
  await client.end();
} else if (mode === "worker") {
  const { databaseUrl } = await import("../db/client");
  const { startWorker } = await import("../worker/index");
  const worker = await startWorker(databaseUrl());
  process.once("SIGTERM", () => void worker.stop().then(() => process.exit(0)));
  console.log("ready");
  await new Promise(() => {});
} else {
  // Imported here so the baseline process carries none of the worker's modules.
  const { runOnce } = await import("graphile-worker");
  const { closeDb, databaseUrl } = await import("../db/client");
  const { taskList } = await import("../worker/index");
  const timed: typeof taskList = {
    ...taskList,
    async export_run(payload, helpers) {
      started = performance.now();
      await taskList.export_run(payload, helpers);
      ms = performance.now() - started;
    },
  };
  await runOnce({ connectionString: databaseUrl(), taskList: timed });
  await closeDb();
}

console.log(JSON.stringify({ ms, bytes, maxRssKb: process.resourceUsage().maxRSS }));
