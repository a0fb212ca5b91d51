import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import { sealCredential } from "../../app/analytics/credential-crypto.server";
import { createExport } from "../../app/exports/exports.server";
import { exportRow, openArchive, runQueuedJobs } from "../setup/exports";
import { requesterFor } from "../setup/routes";

const CANARY = "CANARY-7f3e9a1c-never-export-me";

type Requester = Awaited<ReturnType<typeof requesterFor>>;
let owner: Requester;
let admin: Requester;
let editor: Requester;

// Signed in before the first test replaces every password hash with a canary.
beforeAll(async () => {
  owner = await requesterFor("owner@acme.test", "production");
  admin = await requesterFor("production-admin@acme.test", "production");
  editor = await requesterFor("production-editor@acme.test", "production");
});

describe("credentials never leave the database", () => {
  it("no archive of any data type or format holds a value planted in a secret column", async () => {
    const db = getDb();
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
      deidentification: "full",
    });
    await runQueuedJobs();
    const row = await exportRow(exp.id);
    const files = await openArchive(exp.id);
    expect([...files.keys()].sort()).toEqual([
      "dashboard_widgets.csv", "dashboard_widgets.ndjson", "dashboards.csv", "dashboards.json", "dashboards.ndjson",
      "hsi_records.csv", "hsi_records.ndjson", "integration_connections.csv", "integration_connections.ndjson",
      "lab_results.csv", "lab_results.ndjson", "manifest.json", "manifest.sig", "metrics.csv", "metrics.ndjson",
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

  it("no archive of any data type, format, scope or profile holds a value under a secret-looking key of an exported JSON column", async () => {
    const db = getDb();
    // Every exported JSON column gets secrets at the top, nested in objects and inside arrays, beside keys that stay.
    const secrets = (column: string) => sql`${sql.ref(column)} || jsonb_build_object(
      'token', ${CANARY + "-token"}::text, 'secret', ${CANARY + "-secret"}::text, 'password', ${CANARY + "-password"}::text,
      'apiKey', ${CANARY + "-apiKey"}::text, 'api_key', ${CANARY + "-api_key"}::text, 'Authorization', ${"Bearer " + CANARY}::text,
      'auth', jsonb_build_object('access_token', ${CANARY + "-access"}::text, 'refreshToken', ${CANARY + "-refresh"}::text, 'kept', 'visible-sibling'),
      'webhooks', jsonb_build_array(jsonb_build_object('url', 'https://hooks.example/acme', 'signing_secret', ${CANARY + "-signing"}::text)),
      'db', jsonb_build_object('user', 'reader', 'db_password', ${CANARY + "-db"}::text, 'privateKey', ${CANARY + "-pem"}::text))`;
    await sql`update hsi_record set payload = ${secrets("payload")}`.execute(db);
    await sql`update lab_result set payload = ${secrets("payload")}`.execute(db);
    // Points are immutable to the product; the test plants past its trigger, as a restore or a bug could.
    await db.transaction().execute(async (trx) => {
      await sql`set local session_replication_role = replica`.execute(trx);
      // One day a week of each series is plenty, and keeps the test quick.
      await sql`update metric_point set metadata = ${secrets("metadata")} where extract(isodow from recorded_at) = 1`.execute(trx);
    });
    await sql`update integration_connection set account_info = ${secrets("account_info")}, configuration = ${secrets("configuration")}`.execute(db);
    await sql`update dashboard_widget set config = ${secrets("config")}`.execute(db);

    const project = await db.selectFrom("project").select("id").where("tenant_id", "=", admin.tenantId).where("name", "=", "Sleep Lab").executeTakeFirstOrThrow();
    const app = await db.selectFrom("lab_result").select("app_id").where("project_id", "=", project.id).executeTakeFirstOrThrow();
    const study = await db.selectFrom("study").select("id").where("project_id", "=", project.id).executeTakeFirstOrThrow();
    const cohort = await db.selectFrom("cohort").select("id").where("study_id", "=", study.id).executeTakeFirstOrThrow();
    const everything = ["hsi_records", "lab_results", "metrics", "integration_connections", "dashboards"];
    const runs: [Requester, Record<string, unknown>][] = [
      [owner, { scope: { type: "organization" }, dataTypes: everything, deidentification: "full" }],
      [admin, { scope: { type: "tenant" }, dataTypes: everything, deidentification: "full" }],
      [editor, { scope: { type: "tenant" }, dataTypes: everything }],
      [admin, { scope: { type: "project", projectId: project.id }, dataTypes: ["hsi_records", "lab_results", "metrics", "integration_connections"], deidentification: "full" }],
      [editor, { scope: { type: "app", projectId: project.id, appIds: [app.app_id] }, deidentification: "identifiers_removed" }],
      [admin, { scope: { type: "study", studyId: study.id, cohortId: cohort.id }, deidentification: "full" }],
    ];
    const exportedTypes = new Set<string>();
    for (const [requester, request] of runs) {
      const exp = await createExport(db, requester, { ...request, format: "both" });
      await runQueuedJobs();
      const files = await openArchive(exp.id);
      for (const [name, content] of files) {
        exportedTypes.add(name.split(".")[0]);
        expect(content.includes("CANARY"), `${JSON.stringify(request.scope)}: ${name}`).toBe(false);
      }
      // The keys beside the secrets stay: the rule removes keys, not whole documents.
      const text = [...files.values()].join("\n");
      expect(text).toContain("visible-sibling");
      expect(text).toContain("hooks.example/acme");
    }
    expect([...exportedTypes].sort()).toEqual([
      "dashboard_widgets", "dashboards", "hsi_records", "integration_connections", "lab_results", "manifest", "metrics", "participants",
    ]);
  }, 180_000);
});
