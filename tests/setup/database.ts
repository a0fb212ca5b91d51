import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, inject } from "vitest";

// Each test file gets its own copy of the template database and its own data
// directory, so files run in parallel without sharing rows or archives.
const serverUrl = inject("serverUrl");
const name = `test_${randomBytes(6).toString("hex")}`;
const admin = postgres(`${serverUrl}/postgres`, { max: 1, onnotice: () => {} });
await admin.unsafe(`CREATE DATABASE ${name} TEMPLATE ${inject("templateDb")}`);

process.env.DATABASE_URL = `${serverUrl}/${name}`;
const dataDir = mkdtempSync(path.join(os.tmpdir(), "exportal-data-"));
process.env.EXPORTAL_DATA_DIR = dataDir;
process.env.BETTER_AUTH_SECRET = "test-secret-test-secret-test-secret-42";
process.env.EXPORTAL_ENCRYPTION_KEY = "test-encryption-key";
process.env.BETTER_AUTH_URL = "http://localhost:3000";
// Receivers, mail and S3 servers in tests listen on 127.0.0.1; deliveries refuse private addresses otherwise.
process.env.EXPORTAL_WEBHOOK_ALLOW_PRIVATE = "true";
// Processes the tests start with tsx (the portal, a worker) would otherwise leave its compile cache in the temp folder.
process.env.TSX_DISABLE_CACHE = "1";

// Runs whether the file's tests passed or failed; the data directory goes even when the database cleanup fails.
afterAll(async () => {
  try {
    const { closeDb } = await import("../../db/client");
    await closeDb();
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
