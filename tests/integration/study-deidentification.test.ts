import { createHmac } from "node:crypto";
import { sql } from "kysely";
import pg from "pg";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { getDb } from "../../db/client";
import { createExport } from "../../app/exports/exports.server";
import { getSecret } from "../../app/lib/secrets.server";
import * as exportsPage from "../../app/routes/o.$org.t.$tenant.exports._index";
import { parseCsv } from "../setup/csv";
import { exportRow, openArchive, runQueuedJobs } from "../setup/exports";
import { callRoute, makeRequest, requesterFor, signIn } from "../setup/routes";
import { day } from "../setup/dates";

type Requester = Awaited<ReturnType<typeof requesterFor>>;
const db = () => getDb();
const DAY = 86_400_000;

let admin: Requester;
let editor: Requester;
let study: { id: string; projectId: string };
let cohortId: string;
let otherStudyId: string;
let otherCohortId: string;
/** A cohort member whose HSI payload carries a device serial (added below). */
let withSerial: string;

interface SourceParticipant {
  participant_id: string;
  external_id: string;
  cohort: string;
  enrolled_at: Date;
  name: string | null;
  email: string | null;
  date_of_birth: string | null;
  notes: string | null;
  device_serial: string | null;
}

// What the export should hold, straight from the database.
async function sourceParticipants(): Promise<SourceParticipant[]> {
  const { rows } = await sql<SourceParticipant>`
    select p.id as participant_id, p.external_id, c.name as cohort, m.enrolled_at, p.name, p.email,
      p.date_of_birth::text as date_of_birth, p.notes, p.device_serial
    from cohort_member m join participant p on p.id = m.participant_id join cohort c on c.id = m.cohort_id
    where m.cohort_id = ${cohortId} order by m.enrolled_at, p.id`.execute(db());
  return rows;
}
async function sourceRows(table: "hsi_record" | "lab_result") {
  const time = table === "hsi_record" ? sql.ref("recorded_at") : sql.ref("collected_at");
  const { rows } = await sql<{ id: string; participant_id: string; at: Date; payload: any; value: number | null }>`
    select id::text, participant_id, ${time} as at, payload, value from ${sql.table(table)}
    where participant_id in (select participant_id from cohort_member where cohort_id = ${cohortId}) order by ${time}, id`.execute(db());
  return rows;
}

const mac = (purpose: string, studyId: string, participantId: string) =>
  createHmac("sha256", getSecret("pseudonym")).update(`${purpose}:${studyId}:${participantId}`).digest();
const pseudonym = (studyId: string, participantId: string) => `p_${mac("pseudonym", studyId, participantId).toString("hex").slice(0, 24)}`;
// 1–365 days: an offset of none would leave a participant's dates as recorded.
const offsetDays = (studyId: string, participantId: string) => mac("date-offset", studyId, participantId).readUInt32BE(0) % 365 || 365;

const byNumber = (a: number, b: number) => a - b;
/** A numeric cell as a number: NDJSON numbers, CSV text, PostgreSQL numerics read as strings; empty is null. */
const number = (v: unknown) => (v === null || v === "" ? null : Number(v));
const ndjson = (b: Buffer | undefined) => b!.toString().trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
function csvObjects(b: Buffer | undefined): Record<string, string>[] {
  const [header, ...rows] = parseCsv(b!.toString());
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
}
/** A jsonb payload without one key path. */
function without(payload: any, path: string[]): any {
  const copy = structuredClone(payload);
  let node = copy;
  for (const key of path.slice(0, -1)) node = node?.[key];
  if (node && typeof node === "object") delete node[path.at(-1)!];
  return copy;
}

async function exportStudy(requester: Requester, request: Record<string, unknown>, scope: Record<string, unknown> = {}) {
  const exp = await createExport(db(), requester, { scope: { type: "study", studyId: study.id, cohortId, ...scope }, ...request });
  await runQueuedJobs();
  const files = await openArchive(exp.id);
  return { exp: await exportRow(exp.id), files, manifest: JSON.parse(files.get("manifest.json")!.toString()) };
}

beforeAll(async () => {
  admin = await requesterFor("production-admin@acme.test", "production");
  editor = await requesterFor("production-editor@acme.test", "production");
  const row = await db()
    .selectFrom("study as s").innerJoin("project as p", "p.id", "s.project_id")
    .where("p.tenant_id", "=", admin.tenantId).where("p.name", "=", "Sleep Lab")
    .select(["s.id", "s.project_id as projectId"]).executeTakeFirstOrThrow();
  study = row;
  cohortId = (await db().selectFrom("cohort").select("id").where("study_id", "=", study.id).where("name", "=", "Cohort A").executeTakeFirstOrThrow()).id;
  const members = await db().selectFrom("cohort_member").select("participant_id").where("cohort_id", "=", cohortId).orderBy("participant_id").execute();
  withSerial = members[0].participant_id;
  const app = await db().selectFrom("app").select("id").where("project_id", "=", study.projectId).executeTakeFirstOrThrow();
  await db().insertInto("hsi_record").values({
    tenant_id: admin.tenantId, project_id: study.projectId, app_id: app.id, participant_id: withSerial, recorded_at: `${day(-100)}T08:00:00Z`,
    metric: "sleep_stage", value: 42, unit: "min", payload: { stage: "deep", device: { firmware: "2.4.1", serial: "WR-SECRET-0001" } },
  }).execute();
  // A second study of the same project enrolling the same participants.
  otherStudyId = (await db().insertInto("study").values({ tenant_id: admin.tenantId, project_id: study.projectId, name: "Sleep-Followup" }).returning("id").executeTakeFirstOrThrow()).id;
  otherCohortId = (await db().insertInto("cohort").values({ tenant_id: admin.tenantId, study_id: otherStudyId, name: "Everyone" }).returning("id").executeTakeFirstOrThrow()).id;
  await sql`insert into cohort_member (tenant_id, cohort_id, participant_id, enrolled_at)
    select tenant_id, ${otherCohortId}, participant_id, enrolled_at from cohort_member where cohort_id = ${cohortId}`.execute(db());
});

describe("de-identification profiles, field by field", () => {
  it("full data: every field, identifiers included, as recorded", async () => {
    const { exp, files, manifest } = await exportStudy(admin, { deidentification: "full" });
    expect(exp.deidentification).toBe("full");
    expect(exp.data_types).toEqual(["hsi_records", "lab_results", "participants"]);
    const source = await sourceParticipants();
    expect(source.length).toBeGreaterThan(10);
    expect(source.every((p) => p.name && p.email?.endsWith("@example.test") && p.date_of_birth && p.device_serial)).toBe(true);
    const rows = ndjson(files.get("participants.ndjson"));
    expect(rows.map((r) => ({ ...r, enrolled_at: new Date(r.enrolled_at).getTime() }))).toEqual(
      source.map((p) => ({ ...p, enrolled_at: p.enrolled_at.getTime() })),
    );
    const hsi = ndjson(files.get("hsi_records.ndjson"));
    expect(hsi.find((r) => r.participant_id === withSerial && r.payload.device?.serial)?.payload.device.serial).toBe("WR-SECRET-0001");
    const labs = ndjson(files.get("lab_results.ndjson"));
    expect(labs.map((r) => r.payload)).toEqual((await sourceRows("lab_result")).map((r) => r.payload));
    expect(manifest.deidentification).toEqual({ profile: "full", removedFields: [], note: expect.stringMatching(/identifying fields are included/) });
    expect(manifest.files.map((f: { name: string }) => f.name)).toEqual(["hsi_records.ndjson", "lab_results.ndjson", "participants.ndjson"]);
  });

  it("identifiers removed: no name, email, birth date, notes or serials; ids and dates as recorded", async () => {
    const { exp, files, manifest } = await exportStudy(editor, { deidentification: "identifiers_removed", format: "both" });
    expect(exp.deidentification).toBe("identifiers_removed");
    const source = await sourceParticipants();
    const expected = source.map((p) => ({ participant_id: p.participant_id, external_id: p.external_id, cohort: p.cohort, enrolled_at: p.enrolled_at.getTime() }));
    expect(ndjson(files.get("participants.ndjson")).map((r) => ({ ...r, enrolled_at: new Date(r.enrolled_at).getTime() }))).toEqual(expected);
    const csv = csvObjects(files.get("participants.csv"));
    expect(Object.keys(csv[0])).toEqual(["participant_id", "external_id", "cohort", "enrolled_at"]);
    expect(csv.map((r) => ({ ...r, enrolled_at: new Date(r.enrolled_at).getTime() }))).toEqual(expected);

    const hsiSource = await sourceRows("hsi_record");
    const hsi = ndjson(files.get("hsi_records.ndjson"));
    expect(hsi.map((r) => [String(r.id), r.participant_id, new Date(r.recorded_at).getTime(), r.value, r.payload])).toEqual(
      hsiSource.map((r) => [r.id, r.participant_id, r.at.getTime(), r.value, without(r.payload, ["device", "serial"])]),
    );
    expect(hsi.some((r) => r.payload.device?.firmware === "2.4.1")).toBe(true); // the rest of the payload stays
    expect(files.get("hsi_records.csv")!.toString()).not.toContain("WR-SECRET-0001");
    const labs = ndjson(files.get("lab_results.ndjson"));
    expect(labs.map((r) => r.payload)).toEqual((await sourceRows("lab_result")).map((r) => without(r.payload, ["lab", "accession"])));
    expect(labs[0].payload.lab.name).toBe("Northside Clinical Lab");
    expect(manifest.deidentification.profile).toBe("identifiers_removed");
    expect(manifest.deidentification.removedFields).toEqual([
      "hsi_records.payload.device.serial", "lab_results.payload.lab.accession",
      "participants.name", "participants.email", "participants.date_of_birth", "participants.notes", "participants.device_serial",
    ]);
  });

  it("de-identified: keyed pseudonyms for ids, no external ids, every date of a participant shifted by one offset", async () => {
    const { exp, files, manifest } = await exportStudy(editor, { deidentification: "deidentified", format: "both" });
    expect(exp.deidentification).toBe("deidentified");
    const source = await sourceParticipants();
    const shifted = (participantId: string, at: Date) => at.getTime() - offsetDays(study.id, participantId) * DAY;
    const expected = source
      .map((p) => ({ participant_id: pseudonym(study.id, p.participant_id), cohort: p.cohort, enrolled_at: shifted(p.participant_id, p.enrolled_at) }))
      .sort((a, b) => a.enrolled_at - b.enrolled_at || 0);
    const rows = ndjson(files.get("participants.ndjson")).map((r) => ({ ...r, enrolled_at: new Date(r.enrolled_at).getTime() }));
    expect(rows.map((r) => Object.keys(r))).toEqual(expected.map(() => ["participant_id", "cohort", "enrolled_at"]));
    expect(new Set(rows.map((r) => JSON.stringify(r)))).toEqual(new Set(expected.map((r) => JSON.stringify(r))));
    expect(rows.map((r) => r.enrolled_at)).toEqual([...rows.map((r) => r.enrolled_at)].sort((a, b) => a - b)); // ordered by shifted date
    const csv = csvObjects(files.get("participants.csv"));
    expect(new Set(csv.map((r) => JSON.stringify({ ...r, enrolled_at: new Date(r.enrolled_at).getTime() })))).toEqual(
      new Set(expected.map((r) => JSON.stringify(r))),
    );

    // HSI and lab rows: same rows, pseudonymous ids, dates shifted by the participant's offset, identifiers and record ids gone.
    for (const [table, file, strip] of [
      ["hsi_record", "hsi_records", ["device", "serial"]],
      ["lab_result", "lab_results", ["lab", "accession"]],
    ] as const) {
      const time = table === "hsi_record" ? "recorded_at" : "collected_at";
      const expectedRows = (await sourceRows(table))
        .map((src) => JSON.stringify([pseudonym(study.id, src.participant_id), shifted(src.participant_id, src.at), number(src.value), without(src.payload, [...strip])]))
        .sort();
      for (const format of ["ndjson", "csv"] as const) {
        const out = format === "ndjson" ? ndjson(files.get(`${file}.ndjson`)) : csvObjects(files.get(`${file}.csv`));
        expect(out.every((row) => !("id" in row))).toBe(true);
        const rows = out.map((row) => {
          const payload = format === "ndjson" ? row.payload : JSON.parse(row.payload);
          return JSON.stringify([row.participant_id, new Date(row[time]).getTime(), number(row.value), payload]);
        });
        expect(rows.sort()).toEqual(expectedRows);
      }
    }
    const everything = [...files.values()].map((b) => b.toString()).join("\n");
    for (const p of source) {
      expect(everything).not.toContain(p.participant_id);
      expect(everything).not.toContain(`"${p.external_id}"`);
      expect(everything).not.toContain(p.email!);
    }
    expect(everything).not.toContain("WR-SECRET-0001");
    expect(manifest.deidentification).toMatchObject({ profile: "deidentified", note: expect.stringMatching(/pseudonyms/) });
    expect(manifest.deidentification.removedFields).toContain("participants.external_id");
  });
});

describe("pseudonyms and date offsets", () => {
  it("are stable across exports of one study and differ in another study", async () => {
    const first = ndjson((await exportStudy(editor, {})).files.get("participants.ndjson")); // the default is de-identified
    const second = ndjson((await exportStudy(editor, { deidentification: "deidentified" })).files.get("participants.ndjson"));
    expect(first.length).toBeGreaterThan(10);
    expect(second).toEqual(first);
    const pseudonyms = new Set(first.map((r) => r.participant_id));
    expect(pseudonyms.size).toBe(first.length);

    const other = await exportStudy(editor, {}, { studyId: otherStudyId, cohortId: otherCohortId });
    const otherIds = ndjson(other.files.get("participants.ndjson")).map((r) => r.participant_id);
    expect(otherIds.length).toBe(first.length);
    expect(otherIds.filter((id) => pseudonyms.has(id))).toEqual([]);
    expect(otherIds).toContain(pseudonym(otherStudyId, withSerial));
    expect(pseudonym(otherStudyId, withSerial)).not.toBe(pseudonym(study.id, withSerial));
  });

  it("shift all of one participant's dates by a single offset of 1–365 days, in every file", async () => {
    const { files } = await exportStudy(editor, { deidentification: "deidentified" }, { participantId: withSerial });
    const offset = offsetDays(study.id, withSerial);
    const [enrolment] = ndjson(files.get("participants.ndjson"));
    const [member] = await db().selectFrom("cohort_member").select("enrolled_at").where("cohort_id", "=", cohortId).where("participant_id", "=", withSerial).execute();
    // Every time in every file, moved forward by that one offset, is the time as recorded.
    const who = new Set<string>();
    for (const [table, file, time] of [["hsi_record", "hsi_records", "recorded_at"], ["lab_result", "lab_results", "collected_at"]] as const) {
      const recorded = (await sourceRows(table)).filter((r) => r.participant_id === withSerial).map((r) => r.at.getTime()).sort(byNumber);
      const out = ndjson(files.get(`${file}.ndjson`));
      expect(out.length).toBe(recorded.length);
      expect(out.map((r) => new Date(r[time]).getTime() + offset * DAY).sort(byNumber)).toEqual(recorded);
      for (const row of out) who.add(row.participant_id);
    }
    // The seed's lab results are random, so the participant may have none; the HSI record added above is theirs.
    expect(who).toEqual(new Set([enrolment.participant_id]));
    expect((member.enrolled_at.getTime() - new Date(enrolment.enrolled_at).getTime()) / DAY).toBe(offset);
    expect(Number.isInteger(offset) && offset >= 1 && offset <= 365).toBe(true);
  });
});

describe("who may use which profile", () => {
  it("an editor asking for full data gets 403 naming the permission, and nothing is created", async () => {
    const before = await db().selectFrom("export").select((e) => e.fn.countAll<string>().as("n")).executeTakeFirstOrThrow();
    await expect(createExport(db(), editor, { scope: { type: "study", studyId: study.id, cohortId }, deidentification: "full" })).rejects.toMatchObject({
      code: "FORBIDDEN",
      status: 403,
      message: expect.stringContaining("studies.export.full"),
    });
    // Through the portal's action the message sits beside the field and the values come back.
    const cookie = await signIn("production-editor@acme.test");
    const res = await callRoute(
      exportsPage.action,
      makeRequest("/o/acme-health/t/production/exports", {
        cookie,
        form: { scope: "study", studyId: study.id, cohortId, participantId: withSerial, deidentification: "full", format: "csv" },
      }),
      { org: "acme-health", tenant: "production" },
    );
    expect(res.status).toBe(403);
    expect(res.data.fieldErrors.deidentification).toMatch(/studies\.export\.full/);
    expect(res.data.values).toMatchObject({ deidentification: "full", participantId: withSerial, format: ["csv"] });
    const after = await db().selectFrom("export").select((e) => e.fn.countAll<string>().as("n")).executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
  });

  it("the pseudonym secret reaches PostgreSQL only as a bind value: in no SQL text, archive, export row, audit event or log", async () => {
    // What node-postgres puts on the wire while the worker (in this process) runs the export: SQL texts and bind values.
    const wire = pg.Connection.prototype;
    const spies = { query: vi.spyOn(wire, "query"), parse: vi.spyOn(wire, "parse"), bind: vi.spyOn(wire, "bind") };
    const errors: string[] = [];
    const originalError = console.error;
    console.error = (...args: unknown[]) => void errors.push(args.map(String).join(" "));
    try {
      const { exp, files } = await exportStudy(editor, { deidentification: "deidentified", format: "both" });
      const secret = getSecret("pseudonym");
      const hex = Buffer.from(secret).toString("hex");
      const texts = [...spies.query.mock.calls.map(([text]) => String(text)), ...spies.parse.mock.calls.map(([query]) => String(query.text))];
      const bound = spies.bind.mock.calls.flatMap(([config]) => (config?.values ?? []).map((v) => String(v)));
      // The spies saw the run: one COPY per file, and the key handed over as a value.
      expect(texts.filter((t) => t.startsWith("COPY (")).length).toBe(exp.data_types.length * 2);
      expect(bound).toContain(hex);
      for (const text of texts) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(hex);
      }
      const audit = await db().selectFrom("audit_event").select("details").where("subject_id", "=", exp.id).execute();
      const haystack = [...[...files.values()].map((b) => b.toString()), JSON.stringify(exp), JSON.stringify(audit), ...errors].join("\n");
      expect(haystack).not.toContain(secret);
      expect(haystack).not.toContain(hex);
    } finally {
      console.error = originalError;
      for (const spy of Object.values(spies)) spy.mockRestore();
    }
  });
});
