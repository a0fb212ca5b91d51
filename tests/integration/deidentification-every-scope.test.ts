import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import { createExport } from "../../app/exports/exports.server";
import { parseCsv } from "../setup/csv";
import { exportRow, openArchive, runQueuedJobs } from "../setup/exports";
import { requesterFor } from "../setup/routes";

// The profile, not the scope, decides what leaves: an editor's export of HSI
// and lab rows in any scope holds none of the identifiers that a full export
// of the same rows holds (device serials, lab accession numbers; de-identified
// also no participant id, record id or true time).
type Requester = Awaited<ReturnType<typeof requesterFor>>;
const db = () => getDb();

let admin: Requester;
let editor: Requester;
let owner: Requester;
const scopes: Record<string, Record<string, unknown>> = {};

const TIME = { hsi_records: "recorded_at", lab_results: "collected_at" } as const;
type Row = Record<string, any>;

function rowsOf(files: Map<string, Buffer>, name: string): Row[] {
  const text = files.get(name)!.toString();
  if (name.endsWith(".ndjson")) return text.split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const [header, ...rows] = parseCsv(text);
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, h === "payload" ? JSON.parse(r[i]) : r[i]])));
}

async function exportWith(requester: Requester, scope: Record<string, unknown>, deidentification?: string) {
  const exp = await createExport(db(), requester, { scope, dataTypes: ["hsi_records", "lab_results"], format: "both", ...(deidentification && { deidentification }) });
  await runQueuedJobs();
  const files = await openArchive(exp.id);
  return { exp: await exportRow(exp.id), files, manifest: JSON.parse(files.get("manifest.json")!.toString()) };
}

/** What identifies the rows of a full export: participant ids, serials, accessions, record ids and true times. */
function identifiersOf(files: Map<string, Buffer>) {
  const ids = { participants: new Set<string>(), serials: new Set<string>(), accessions: new Set<string>(), hsiIds: new Set<string>(), labIds: new Set<string>(), times: new Set<number>() };
  for (const type of ["hsi_records", "lab_results"] as const) {
    for (const format of ["ndjson", "csv"]) {
      for (const row of rowsOf(files, `${type}.${format}`)) {
        ids.participants.add(row.participant_id);
        (type === "hsi_records" ? ids.hsiIds : ids.labIds).add(String(row.id));
        ids.times.add(new Date(row[TIME[type]]).getTime());
        if (row.payload.device?.serial) ids.serials.add(row.payload.device.serial);
        if (row.payload.lab?.accession) ids.accessions.add(String(row.payload.lab.accession));
      }
    }
  }
  return ids;
}

beforeAll(async () => {
  admin = await requesterFor("production-admin@acme.test", "production");
  editor = await requesterFor("production-editor@acme.test", "production");
  owner = await requesterFor("owner@acme.test", "production");
  // Every wearable reading of every tenant carries its device's serial in its payload.
  await sql`update hsi_record set payload = jsonb_set(payload, '{device,serial}', to_jsonb('SN-' || upper(substr(md5(participant_id::text), 1, 12))))
    where payload ? 'device'`.execute(db());
  const project = await db().selectFrom("project").select("id").where("tenant_id", "=", admin.tenantId).where("name", "=", "Sleep Lab").executeTakeFirstOrThrow();
  const labApp = await db().selectFrom("lab_result").select("app_id").where("project_id", "=", project.id).executeTakeFirstOrThrow();
  const study = await db().selectFrom("study").select("id").where("project_id", "=", project.id).executeTakeFirstOrThrow();
  const cohort = await db().selectFrom("cohort").select("id").where("study_id", "=", study.id).where("name", "=", "Cohort A").executeTakeFirstOrThrow();
  scopes.tenant = { type: "tenant" };
  scopes.project = { type: "project", projectId: project.id };
  scopes.app = { type: "app", projectId: project.id, appIds: [labApp.app_id] };
  scopes.study = { type: "study", studyId: study.id, cohortId: cohort.id };
  scopes.organization = { type: "organization" };
});

describe.each(["tenant", "project", "app", "study", "organization"])("%s scope", (scopeName) => {
  it("de-identified and identifiers-removed archives hold none of the identifiers that a full export of the same rows holds, in both formats", async () => {
    const scope = scopes[scopeName];
    // Editors cannot export the whole organization: there an org owner asks for each profile.
    const allowedFull = scopeName === "organization" ? owner : admin;
    const requester = scopeName === "organization" ? owner : editor;
    const full = await exportWith(allowedFull, scope, "full");
    expect(full.manifest.deidentification.profile).toBe("full");
    const ids = identifiersOf(full.files);
    for (const set of Object.values(ids)) expect(set.size).toBeGreaterThan(0);

    for (const profile of [undefined, "identifiers_removed"] as const) {
      const { exp, files, manifest } = await exportWith(requester, scope, profile);
      const expected = profile ?? "deidentified"; // no profile asked: the most protective
      expect(exp.deidentification).toBe(expected);
      expect(manifest.deidentification.profile).toBe(expected);
      expect([...files.keys()]).toEqual([...full.files.keys()]);
      expect(manifest.files.map((f: { rows: number }) => f.rows)).toEqual(full.manifest.files.map((f: { rows: number }) => f.rows));
      const everything = [...files.values()].map((b) => b.toString()).join("\n");
      // Identifiers removed keeps participant ids as recorded (as every viewer sees them); de-identified replaces them.
      if (expected === "deidentified") {
        for (const id of ids.participants) expect(everything.includes(id), `${expected} holds participant id ${id}`).toBe(false);
      }
      for (const serial of ids.serials) expect(everything.includes(serial), `${expected} holds serial ${serial}`).toBe(false);
      for (const accession of ids.accessions) expect(everything.includes(accession), `${expected} holds accession ${accession}`).toBe(false);
      expect(everything.includes("SN-")).toBe(false);

      for (const type of ["hsi_records", "lab_results"] as const) {
        for (const format of ["ndjson", "csv"]) {
          const rows = rowsOf(files, `${type}.${format}`);
          expect(rows.length).toBeGreaterThan(0);
          if (expected === "identifiers_removed") {
            expect(new Set(rows.map((r) => r.participant_id))).toEqual(new Set(rowsOf(full.files, `${type}.${format}`).map((r) => r.participant_id)));
            continue;
          }
          // No raw record id, and no true time: every time is shifted.
          for (const row of rows) {
            expect(Object.keys(row)).not.toContain("id");
            expect(ids.times.has(new Date(row[TIME[type]]).getTime()), `${type}.${format} holds an unshifted time`).toBe(false);
          }
          const times = rows.map((r) => new Date(r[TIME[type]]).getTime());
          expect(times).toEqual([...times].sort((a, b) => a - b)); // ordered by shifted time
        }
      }
    }
  }, 120_000);
});

describe("who may export full data", () => {
  it("an editor asking for full data in tenant scope gets 403 naming the permission, and nothing is created", async () => {
    const count = async () => (await db().selectFrom("export").select((e) => e.fn.countAll<string>().as("n")).executeTakeFirstOrThrow()).n;
    const before = await count();
    await expect(createExport(db(), editor, { scope: { type: "tenant" }, deidentification: "full" })).rejects.toMatchObject({
      code: "FORBIDDEN",
      status: 403,
      details: { fieldErrors: { deidentification: expect.stringContaining("studies.export.full") } },
    });
    expect(await count()).toBe(before);
  });

  it("an admin's full export of the tenant holds every row as recorded: ids, participant ids, times, serials and accessions", async () => {
    const { files } = await exportWith(admin, { type: "tenant" }, "full");
    for (const [type, table] of [["hsi_records", "hsi_record"], ["lab_results", "lab_result"]] as const) {
      const { rows: source } = await sql<{ id: string; participant_id: string; at: Date; payload: any }>`
        select id::text, participant_id, ${sql.ref(TIME[type])} as at, payload from ${sql.table(table)} where tenant_id = ${admin.tenantId}`.execute(db());
      const key = (r: Row, at: Date) => JSON.stringify([String(r.id), r.participant_id, at.getTime(), r.payload]);
      const expected = source.map((r) => key(r, r.at)).sort();
      for (const format of ["ndjson", "csv"]) {
        expect(rowsOf(files, `${type}.${format}`).map((r) => key(r, new Date(r[TIME[type]]))).sort()).toEqual(expected);
      }
    }
  });

  it("exports without participant rows have no profile, and refuse one by name", async () => {
    const exp = await createExport(db(), editor, { scope: scopes.project, dataTypes: ["metrics", "integration_connections"] });
    await runQueuedJobs();
    const row = await exportRow(exp.id);
    expect(row.status).toBe("done");
    expect(row.deidentification).toBeNull();
    expect(row.manifest).not.toHaveProperty("deidentification");
    await expect(createExport(db(), editor, { scope: scopes.project, dataTypes: ["metrics"], deidentification: "deidentified" })).rejects.toMatchObject({
      code: "INVALID_REQUEST",
      details: { fieldErrors: { deidentification: expect.stringMatching(/HSI records or lab results/) } },
    });
  });
});

describe("payloads that are not objects", () => {
  // Placed last: the rows it adds have no device or lab fields for the tests above to read.
  it("leave as recorded with every profile, in both formats; an array's objects hold no field the profile names", async () => {
    const participant = await db().selectFrom("participant").select(["id", "project_id"]).where("tenant_id", "=", admin.tenantId).executeTakeFirstOrThrow();
    const app = await db().selectFrom("app").select("id").where("project_id", "=", participant.project_id).executeTakeFirstOrThrow();
    const payloads = [42, -7, "=1+1", [1, { device: { serial: "kept" } }], null, true];
    const { rows } = await sql<{ id: string; text: string }>`
      insert into hsi_record (tenant_id, project_id, app_id, participant_id, recorded_at, metric, value, unit, payload)
      select ${admin.tenantId}, ${participant.project_id}, ${app.id}, ${participant.id}, '2001-01-01'::timestamptz + make_interval(secs => n), 'odd_payload', n, 'count', p
      from jsonb_array_elements(${JSON.stringify(payloads)}::text::jsonb) with ordinality as t(p, n)
      returning id::text, payload::text as text`.execute(db());
    // In CSV, JSON text as PostgreSQL writes it; a negative number gets the quote that keeps a spreadsheet from reading a formula.
    const csvCells = rows.map((r) => (r.text.startsWith("-") ? `'${r.text}` : r.text));
    for (const deidentification of ["deidentified", "identifiers_removed", "full"]) {
      const exp = await createExport(db(), admin, {
        scope: { type: "tenant" },
        dataTypes: ["hsi_records"],
        format: "both",
        dateRange: { from: "2000-12-31", to: "2001-01-02" },
        deidentification,
      });
      await runQueuedJobs();
      const row = await exportRow(exp.id);
      expect([row.status, row.error], deidentification).toEqual(["done", null]);
      const files = await openArchive(exp.id);
      const ndjson = rowsOf(files, "hsi_records.ndjson");
      expect(ndjson.map((r) => r.payload), deidentification).toEqual(payloads);
      const [header, ...csv] = parseCsv(files.get("hsi_records.csv")!.toString());
      expect(csv.map((r) => r[header.indexOf("payload")]), deidentification).toEqual(csvCells);
      if (deidentification !== "deidentified") expect(ndjson.map((r) => String(r.id))).toEqual(rows.map((r) => r.id));
    }
  });
});
