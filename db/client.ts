import { Kysely } from "kysely";
import { PostgresJSDialect } from "kysely-postgres-js";
import pg from "pg";
import postgres from "postgres";
import type { Database } from "./schema";

export type DB = Kysely<Database>;

let pool: { db: DB } | undefined;
let countersPool: DB | undefined;
let copyPool: pg.Pool | undefined;

/** The connection string in force; set by the server bootstrap before anything connects. */
export function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: start through server.ts or set it yourself.");
  return url;
}

/** A postgres.js client with our session settings: UTC, so JSON timestamps come out in UTC. */
function connect(url: string, settings: Record<string, string> = {}, max = 10): postgres.Sql {
  return postgres(url, {
    max,
    onnotice: () => {},
    connection: { TimeZone: "UTC", application_name: "exportal", ...settings },
  });
}

function open() {
  if (!pool) {
    pool = { db: new Kysely<Database>({ dialect: new PostgresJSDialect({ postgres: connect(databaseUrl()) }) }) };
  }
  return pool;
}

/** The process-wide Kysely instance, opened on first use. */
export function getDb(): DB {
  return open().db;
}

/**
 * A Kysely instance whose commits do not wait for the disk, for counters that
 * every API request bumps (rate-limit windows): waiting for an fsync on each
 * would cap the API near the disk's flush rate, and a crash loses at most the
 * last fraction of a second of counts.
 */
export function getCountersDb(): DB {
  countersPool ??= new Kysely<Database>({ dialect: new PostgresJSDialect({ postgres: connect(databaseUrl(), { synchronous_commit: "off" }, 5) }) });
  return countersPool;
}

/**
 * A node-postgres pool for the export's reads (its counts and COPY … TO
 * STDOUT streams): postgres.js's COPY readable can stall under back-pressure
 * (porsager/postgres#499), while pg-copy-streams handles it. With
 * DATABASE_READ_URL (a read replica) they go there, each export still in one
 * snapshot of its own; everything else stays on DATABASE_URL.
 */
export function getCopyPool(): pg.Pool {
  if (copyPool) return copyPool;
  copyPool = new pg.Pool({
    connectionString: process.env.DATABASE_READ_URL || databaseUrl(),
    max: 4,
    options: "-c TimeZone=UTC -c application_name=exportal-export",
  });
  // An idle connection the server closed (restart, Ctrl-C) is dropped by the pool; without a
  // listener, node-postgres would turn that into an uncaught exception. Once per pool, not per call.
  copyPool.on("error", (error) => console.error(`[db] idle export connection closed: ${error.message}`));
  return copyPool;
}

export async function closeDb(): Promise<void> {
  const current = pool;
  const copy = copyPool;
  const counters = countersPool;
  pool = undefined;
  copyPool = undefined;
  countersPool = undefined;
  await Promise.all([current?.db.destroy(), copy?.end(), counters?.destroy()]);
}
