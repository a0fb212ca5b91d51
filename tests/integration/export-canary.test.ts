import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import { createExport } from "../../app/lib/exports.server";
import { exportRow, openArchive, runQueuedJobs } from "../setup/exports";
import { requesterFor } from "../setup/routes";

const CANARY = "CANARY-7f3e9a1c-never-export-me";

describe("credentials never leave the database", () => {
  it("no archive of any data type or format holds a value planted in a secret column", async () => {
    const db = getDb();
    const owner = await requesterFor("owner@acme.test", "production"); // before its password hash is replaced
    // Every column that holds a credential gets the canary.
    await sql`update account set password = ${CANARY + "-password"}, "accessToken" = ${CANARY + "-access"},
      "refreshToken" = ${CANARY + "-refresh"}, "idToken" = ${CANARY + "-id"}`.execute(db);
    await sql`update session set token = ${CANARY} || '-' || id`.execute(db);
    await sql`insert into verification (id, identifier, value, "expiresAt") values ('canary', ${CANARY}, ${CANARY + "-verification"}, now() + interval '1 day')`.execute(db);

    const exp = await createExport(db, owner, { scope: { type: "organization" }, dataTypes: ["hsi_records", "lab_results"], format: "both" });
    await runQueuedJobs();
    const row = await exportRow(exp.id);
    const files = await openArchive(exp.id);
    expect([...files.keys()].sort()).toEqual(["hsi_records.csv", "hsi_records.ndjson", "lab_results.csv", "lab_results.ndjson", "manifest.json"]);
    for (const [name, content] of files) {
      expect(content.includes(CANARY), name).toBe(false);
      expect(content.includes("CANARY"), name).toBe(false);
    }
    // The manifest is stored on the export row too.
    expect(JSON.stringify(row.manifest).includes("CANARY")).toBe(false);
  });
});
