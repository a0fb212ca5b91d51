import path from "node:path";
import { runningEmbeddedPostgres, startEmbeddedPostgres } from "./embedded";

export interface DatabaseHandle {
  url: string;
  embedded: boolean;
  /** The embedded database's data directory (null with DATABASE_URL). */
  dataDir: string | null;
  stop(): Promise<void>;
}

/**
 * The database to use: `DATABASE_URL` when set, else an embedded PostgreSQL
 * with its files under `dataDir`, whose password `password` gives (asked
 * only then). Sets `DATABASE_URL` for the rest of the process either way.
 */
export async function openDatabase(dataDir: string, password: () => string): Promise<DatabaseHandle> {
  if (process.env.DATABASE_URL) {
    return { url: process.env.DATABASE_URL, embedded: false, dataDir: null, stop: async () => {} };
  }
  const pg = await startEmbeddedPostgres(path.join(dataDir, "postgres"), "exportal", password());
  process.env.DATABASE_URL = pg.url;
  return { url: pg.url, embedded: true, dataDir: pg.dataDir, stop: pg.stop };
}

/**
 * As openDatabase, for command-line tools that may run beside `npm start`: when
 * the embedded PostgreSQL is already running on `dataDir`, it joins it (and
 * leaves it running when done) instead of starting its own.
 */
export async function joinDatabase(dataDir: string, password: () => string): Promise<DatabaseHandle> {
  if (!process.env.DATABASE_URL) {
    const url = await runningEmbeddedPostgres(path.join(dataDir, "postgres"), "exportal", password());
    if (url) {
      process.env.DATABASE_URL = url;
      return { url, embedded: true, dataDir: path.join(dataDir, "postgres"), stop: async () => {} };
    }
  }
  return openDatabase(dataDir, password);
}
