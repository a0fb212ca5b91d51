import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, statSync, writeFileSync, chmodSync, mkdtempSync, rmSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { freePort, startEmbeddedPostgres } from "../../db/embedded";
import { localStorage } from "../../app/exports/engine/storage.server";
import { createExport } from "../../app/exports/exports.server";
import { getDb } from "../../db/client";
import { exportRow, runQueuedJobs } from "../setup/exports";
import { SERVER_COMMAND, SERVER_ENV } from "../setup/app-server";
import { requesterFor } from "../setup/routes";

// Archives, secrets and the database password are readable by the portal's
// own user only.
const modeOf = (file: string) => statSync(file).mode & 0o777;
const asRoot = process.getuid?.() === 0;

/** Signs in to PostgreSQL as the portal's role; resolves to the error code when refused. */
async function signInCode(port: number, password: string): Promise<string> {
  const client = new pg.Client({ host: "127.0.0.1", port, user: "exportal", password, database: "postgres" });
  try {
    await client.connect();
    await client.end();
    return "ok";
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

describe("archives", () => {
  it("are written 0600 in 0700 folders, their temporary file too, and an older looser folder is tightened", async () => {
    const root = path.join(process.env.EXPORTAL_DATA_DIR!, "archives");
    mkdirSync(root, { mode: 0o755 });
    chmodSync(root, 0o755);
    const requester = await requesterFor("staging-editor@acme.test", "staging");
    const exp = await createExport(getDb(), requester, { dataTypes: ["lab_results"], format: "csv" });
    await runQueuedJobs();
    const row = await exportRow(exp.id);
    expect(row.status).toBe("done");
    const archive = path.join(root, row.archive_key!);
    expect(modeOf(archive).toString(8)).toBe("600");
    for (let dir = path.dirname(archive); dir.startsWith(root); dir = path.dirname(dir)) expect([dir, modeOf(dir).toString(8)]).toEqual([dir, "700"]);

    const storage = localStorage(root);
    let partialMode = "";
    await storage.put("exports/check/one.zip", async (out) => {
      await new Promise((written) => out.write("zip bytes", written)); // the file is open once a write went through
      const dir = path.join(root, "exports/check");
      const partial = (await readdir(dir)).find((n) => n.includes(".partial-"))!;
      partialMode = ((await stat(path.join(dir, partial))).mode & 0o777).toString(8);
      out.end();
    });
    expect(partialMode).toBe("600");
    expect(modeOf(path.join(root, "exports/check/one.zip")).toString(8)).toBe("600");
  });
});

describe("a start of the portal", () => {
  it("makes an existing 0644 secrets.json 0600, keeps its secrets, and generates the embedded database's password into it", { timeout: 120_000 }, async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "exportal-start-"));
    chmodSync(dataDir, 0o755);
    const secretsFile = path.join(dataDir, "secrets.json");
    const before = { auth: "a".repeat(43), signing: "s".repeat(43), encryption: "e".repeat(43), pseudonym: "p".repeat(43) };
    writeFileSync(secretsFile, JSON.stringify(before), { mode: 0o644 });
    chmodSync(secretsFile, 0o644);

    const env: NodeJS.ProcessEnv = { ...process.env, ...SERVER_ENV, EXPORTAL_DATA_DIR: dataDir, PORT: String(await freePort()), HOST: "127.0.0.1", SEED_HSI_ROWS: "200" };
    for (const name of ["DATABASE_URL", "BETTER_AUTH_SECRET", "EXPORTAL_ENCRYPTION_KEY", "BETTER_AUTH_URL", "PUBLIC_URL"]) delete env[name];
    const [command, ...args] = SERVER_COMMAND;
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    child.stdout!.on("data", (d) => (log += d));
    child.stderr!.on("data", (d) => (log += d));
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    try {
      const deadline = Date.now() + 100_000;
      while (!log.includes("Exportal is running at")) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the portal did not start:\n${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(modeOf(secretsFile).toString(8)).toBe("600");
      // As root the embedded PostgreSQL runs as the postgres user, which must pass through to its own data directory.
      expect(modeOf(dataDir).toString(8)).toBe(asRoot ? "711" : "700");
      const after = JSON.parse(readFileSync(secretsFile, "utf8"));
      expect(after).toMatchObject(before);
      expect(after.database).toMatch(/^[A-Za-z0-9_-]{40,}$/);
      expect(after.database).not.toBe("exportal");
      const port = Number(readFileSync(path.join(dataDir, "postgres", "postmaster.pid"), "utf8").split("\n")[3]);
      expect(await signInCode(port, after.database)).toBe("ok");
      expect(await signInCode(port, "exportal")).toBe("28P01");
    } finally {
      child.kill("SIGTERM");
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("an embedded database initialised with the old constant password", () => {
  it("takes the generated password on its first start after the upgrade, and keeps it", { timeout: 90_000 }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "exportal-upgrade-"));
    chmodSync(dir, 0o755);
    const dataDir = path.join(dir, "postgres");
    try {
      const old = await startEmbeddedPostgres(dataDir);
      expect(new URL(old.url).password).toBe("exportal");
      await old.stop();

      const password = "generated-password-generated-password-123";
      for (let start = 0; start < 2; start++) {
        const upgraded = await startEmbeddedPostgres(dataDir, "exportal", password);
        try {
          const port = Number(new URL(upgraded.url).port);
          expect(new URL(upgraded.url).password).toBe(password);
          expect(await signInCode(port, password)).toBe("ok");
          expect(await signInCode(port, "exportal")).toBe("28P01");
        } finally {
          await upgraded.stop();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
