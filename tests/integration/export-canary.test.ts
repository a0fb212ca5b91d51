import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import { sealCredential } from "../../app/analytics/credential-crypto.server";
import { createExport } from "../../app/exports/exports.server";
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
    await sql`update api_key set key_hash = ${CANARY + "-key-hash"}`.execute(db);
    // Integration credentials: sealed as the product seals them, and the sealed bytes must not leak either.
    const sealed = sealCredential(CANARY + "-integration-token");
    const credentials = await db.updateTable("integration_credential").set(sealed).returning("id").execute();
    expect(credentials.length).toBeGreaterThan(0);
    const sealedForms = [sealed.ciphertext.toString("hex"), sealed.ciphertext.toString("base64"), sealed.auth_tag.toString("hex"), sealed.auth_tag.toString("base64")];

    const exp = await createExport(db, owner, {
      scope: { type: "organization" },
      dataTypes: ["hsi_records", "lab_results", "metrics", "integration_connections", "dashboards"],
      format: "both",
    });
    await runQueuedJobs();
    const row = await exportRow(exp.id);
    const files = await openArchive(exp.id);
    expect([...files.keys()].sort()).toEqual([
      "dashboard_widgets.csv", "dashboard_widgets.ndjson", "dashboards.csv", "dashboards.json", "dashboards.ndjson",
      "hsi_records.csv", "hsi_records.ndjson", "integration_connections.csv", "integration_connections.ndjson",
      "lab_results.csv", "lab_results.ndjson", "manifest.json", "metrics.csv", "metrics.ndjson",
    ]);
    for (const [name, content] of files) {
      expect(content.includes(CANARY), name).toBe(false);
      expect(content.includes("CANARY"), name).toBe(false);
      for (const form of sealedForms) expect(content.includes(form), `${name} holds sealed credential bytes`).toBe(false);
    }
    // The connections are there, without their credentials.
    expect(files.get("integration_connections.ndjson")!.toString().split("\n").filter(Boolean).length).toBeGreaterThan(0);
    // The manifest is stored on the export row too.
    expect(JSON.stringify(row.manifest).includes("CANARY")).toBe(false);
  });
});
