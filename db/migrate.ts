import { promises as fs } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { FileMigrationProvider, Migrator } from "kysely";
import { Logger, runMigrations as runWorkerMigrations } from "graphile-worker";
import type { DB } from "./client";

// db/migrations beside this file, or, in the compiled server (build/server-start/server.js), the migrations
// compiled beside it by `npm run build:server`: Node runs no TypeScript there.
const migrationFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), "migrations");

/** Applies our migrations and graphile-worker's schema (exports enqueue jobs in SQL). */
export async function migrateToLatest(db: DB, connectionString: string): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: new FileMigrationProvider({ fs, path, migrationFolder }),
  });
  const { error, results } = await migrator.migrateToLatest();
  for (const r of results ?? []) {
    if (r.status === "Error") console.error(`migration ${r.migrationName} failed`);
  }
  if (error) throw error;
  await runWorkerMigrations({ connectionString, logger: migrationLogger });
}

// graphile-worker's migrations log each step; keep only what went wrong.
const migrationLogger = new Logger(() => (level, message) => {
  if (String(level) === "error" || String(level) === "warning") console.error(`[migrate] ${message}`);
});
