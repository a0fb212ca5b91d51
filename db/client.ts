import { Kysely } from "kysely";
import { PostgresJSDialect } from "kysely-postgres-js";
import pg from "pg";
import postgres from "postgres";
import type { Database } from "./schema";

export type DB = Kysely<Database>;

let pool: { db: DB } | undefined;
let countersPool: DB | undefined;
let copyPool: pg.Pool | undefined;
/** How to end each listenTo connection, for closeDb. */
const listeners = new Set<() => Promise<void>>();

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

/**
 * LISTENs on `channel` on a connection of its own: `onNotify` for each
 * notification; `onState` says "listening" once it listens, "down" when the
 * connection drops (it reconnects every second; notifications sent meanwhile
 * are lost, which is why callers distrust what they knew) and "closed" once closeDb ended it.
 */
export function listenTo(channel: string, onNotify: (payload: string) => void, onState: (state: "listening" | "down" | "closed") => void): void {
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  let closed = false;
  function start() {
    retry = undefined;
    const current = new pg.Client({ connectionString: databaseUrl(), application_name: "exportal-listen", keepAlive: true });
    client = current;
    // Each failure reports once, for the connection in use: an error is often followed by an end.
    const down = () => {
      if (closed || client !== current) return;
      client = undefined;
      current.end().catch(() => {});
      onState("down");
      retry = setTimeout(start, 1000).unref();
    };
    current.on("notification", (message) => message.channel === channel && onNotify(message.payload ?? ""));
    current.on("error", down);
    current.on("end", down);
    current
      .connect()
      .then(() => current.query(`listen "${channel.replace(/"/g, '""')}"`))
      .then(() => !closed && client === current && onState("listening"), down);
  }
  listeners.add(async () => {
    closed = true;
    clearTimeout(retry);
    await client?.end().catch(() => {});
    onState("closed");
  });
  start();
}

export async function closeDb(): Promise<void> {
  const current = pool;
  const copy = copyPool;
  const counters = countersPool;
  pool = undefined;
  copyPool = undefined;
  countersPool = undefined;
  const listening = [...listeners];
  listeners.clear();
  await Promise.all([...listening.map((end) => end()), current?.db.destroy(), copy?.end(), counters?.destroy()]);
}
