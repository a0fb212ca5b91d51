import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { sql } from "kysely";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import readExcelFile from "read-excel-file/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATE_INFINITY, TIMESTAMP_INFINITY } from "../../app/exports/engine/binary-copy.server";
import { createExport } from "../../app/exports/exports.server";
import { getDb } from "../../db/client";
import { parseCsv } from "../setup/csv";
import { exportRow, openArchive, runQueuedJobs } from "../setup/exports";
import { requesterFor } from "../setup/routes";

// Parquet and Excel files hold exactly what the NDJSON file of the same export holds, cell by cell, for
// every data type and de-identification profile. Each is read by a library that shares no code with its
// writer: hyparquet (JavaScript) reads what arrow-rs wrote; read-excel-file reads what exceljs wrote.
type Requester = Awaited<ReturnType<typeof requesterFor>>;
type Row = Record<string, unknown>;

let owner: Requester;
let studyScope: Record<string, unknown>;
const work = mkdtempSync(path.join(os.tmpdir(), "exportal-typed-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

beforeAll(async () => {
  owner = await requesterFor("owner@acme.test", "production");
  const study = await getDb().selectFrom("study").select(["id"]).where("tenant_id", "=", owner.tenantId).orderBy("name").executeTakeFirstOrThrow();
  const cohort = await getDb().selectFrom("cohort").select("id").where("study_id", "=", study.id).orderBy("name").executeTakeFirstOrThrow();
  studyScope = { type: "study", studyId: study.id, cohortId: cohort.id };
});

async function exportAll(request: Record<string, unknown>) {
  const exp = await createExport(getDb(), owner, { ...request, format: ["ndjson", "parquet", "xlsx"] });
  await runQueuedJobs();
  const files = await openArchive(exp.id);
  return { exp: await exportRow(exp.id), files, manifest: JSON.parse(files.get("manifest.json")!.toString()) };
}

const ndjsonRows = (bytes: Buffer): Row[] => bytes.toString().split("\n").filter(Boolean).map((line) => JSON.parse(line));

/** µs since the epoch of an ISO time as PostgreSQL writes it in JSON (`2026-01-02T03:04:05.123456+00:00`). */
function micros(text: string): bigint {
  if (text === "infinity" || text === "-infinity") return text === "infinity" ? TIMESTAMP_INFINITY : -TIMESTAMP_INFINITY;
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!match) throw new Error(`not a time: ${text}`);
  return BigInt(Date.parse(`${match[1]}${match[3]}`)) * 1000n + BigInt((match[2] ?? "").padEnd(6, "0"));
}
const days = (text: string) => (text === "infinity" ? DATE_INFINITY : text === "-infinity" ? -DATE_INFINITY : Date.parse(`${text}T00:00:00Z`) / 86_400_000);
const INFINITIES = new Set(["infinity", "-infinity"]);
const neutralized = (text: string) => (/^[=+\-@\t\r]/.test(text) ? `'${text}` : text);

/** The Parquet file's rows as NDJSON would hold them, from its typed values and schema. */
async function parquetRows(bytes: Buffer): Promise<Row[]> {
  const file = new Uint8Array(bytes).buffer;
  const schema = parquetMetadata(file).schema.slice(1);
  const objects = await parquetReadObjects({
    file,
    compressors,
    // Times as µs, dates as days and JSON as its text: the values as stored, not as hyparquet would convert them.
    parsers: { timestampFromMicroseconds: (v: bigint) => v, dateFromDays: (v: number) => v, jsonFromBytes: (v?: Uint8Array) => v && new TextDecoder().decode(v) },
  });
  // hyparquet reads a null as undefined.
  return objects.map((o) => Object.fromEntries(schema.map((column) => [column.name, o[column.name] ?? null])));
}

/** Compares one file's typed cells with the NDJSON's values, column by column, by the column's Parquet type. */
function expectParquetEqualsNdjson(name: string, bytes: Buffer, typed: Row[], ndjson: Row[]) {
  expect(typed.length, name).toBe(ndjson.length);
  const schema = Object.fromEntries(parquetMetadata(new Uint8Array(bytes).buffer).schema.slice(1).map((c) => [c.name, c]));
  expect(Object.keys(schema), `${name} columns`).toEqual(Object.keys(ndjson[0] ?? schema));
  ndjson.forEach((row, i) => {
    for (const [column, expected] of Object.entries(row)) {
      const actual = typed[i][column];
      const where = `${name} row ${i + 1} ${column}`;
      const { type, logical_type } = schema[column];
      if (expected === null) expect(actual, where).toBeNull();
      else if (logical_type?.type === "TIMESTAMP") expect(actual, where).toBe(micros(expected as string));
      else if (logical_type?.type === "DATE") expect(actual, where).toBe(days(expected as string));
      else if (type === "INT64") expect(actual, where).toBe(BigInt(expected as number));
      else if (typeof expected === "object") {
        expect(logical_type?.type, `${name} ${column}`).toBe("JSON");
        expect(JSON.parse(actual as string), where).toEqual(expected);
      } else expect(actual, where).toEqual(expected);
    }
  });
}

/** The same for a workbook: numbers as numbers, times as dates to the millisecond (Excel's precision), text neutralized as in CSV. */
async function expectXlsxEqualsNdjson(name: string, bytes: Buffer, ndjson: Row[], sheetsInManifest: { name: string; rows: number }[]) {
  const sheets = await readExcelFile(bytes, { trim: false });
  expect(sheets.map((s) => ({ name: s.sheet, rows: s.data.length - 1 })), name).toEqual(sheetsInManifest);
  const [header] = sheets[0].data;
  const cells = sheets.flatMap((s) => s.data.slice(1));
  expect(cells.length, name).toBe(ndjson.length);
  if (ndjson[0]) expect(header, `${name} header`).toEqual(Object.keys(ndjson[0]));
  ndjson.forEach((row, i) => {
    Object.entries(row).forEach(([column, expected], c) => {
      const actual = cells[i][c] ?? null;
      const where = `${name} row ${i + 1} ${column}`;
      if (expected === null) expect(actual, where).toBeNull();
      else if (typeof expected === "string" && /^\d{4}-\d\d-\d\dT/.test(expected)) expect((actual as unknown as Date).getTime(), where).toBe(Number(micros(expected) / 1000n));
      else if (typeof expected === "string" && /^\d{4}-\d\d-\d\d$/.test(expected)) expect((actual as unknown as Date).getTime(), where).toBe(days(expected) * 86_400_000);
      else if (typeof expected === "object") expect(JSON.parse(actual as string), where).toEqual(expected);
      // An infinite time or date is text in its cell, as NDJSON spells it (the only text here it could be).
      else if (typeof expected === "string" && INFINITIES.has(expected)) expect(actual, where).toBe(expected);
      else if (typeof expected === "string") expect(actual, where).toBe(neutralized(expected));
      else expect(actual, where).toEqual(expected);
    });
  });
}

const verify = async (archive: Buffer) => {
  const file = path.join(work, `archive-${Date.now()}.zip`);
  writeFileSync(file, archive);
  return promisify(execFile)(process.execPath, ["build/verify/exportal-verify.cjs", file], { encoding: "utf8" }).catch((error) => error);
};

describe.each(["full", "identifiers_removed", "deidentified"] as const)("the %s profile", (profile) => {
  it("writes every data type of a tenant as Parquet and Excel equal to its NDJSON, each file's rows and hash in the manifest", async () => {
    const { exp, files, manifest } = await exportAll({
      dataTypes: ["hsi_records", "lab_results", "metrics", "integration_connections", "dashboards", "audit_events"],
      deidentification: profile,
    });
    expect(exp.formats).toEqual(["ndjson", "parquet", "xlsx"]);
    expect(manifest).toMatchObject({ format: ["ndjson", "parquet", "xlsx"], formats: ["ndjson", "parquet", "xlsx"] });
    for (const type of exp.data_types) {
      const ndjson = ndjsonRows(files.get(`${type}.ndjson`)!);
      expect(ndjson.length, type).toBeGreaterThan(0);
      const parquet = files.get(`${type}.parquet`)!;
      expectParquetEqualsNdjson(`${type}.parquet`, parquet, await parquetRows(parquet), ndjson);
      const entry = manifest.files.find((f: { name: string }) => f.name === `${type}.xlsx`);
      expect(entry.sheets).toEqual([{ name: type, rows: ndjson.length }]);
      await expectXlsxEqualsNdjson(`${type}.xlsx`, files.get(`${type}.xlsx`)!, ndjson, entry.sheets);
      for (const format of ["parquet", "xlsx"]) expect(manifest.files.find((f: { name: string }) => f.name === `${type}.${format}`)).toMatchObject({ rows: ndjson.length, format });
    }
    // Each file's hash and size in the manifest are those of the bytes in the archive: exportal-verify counts the
    // Parquet rows from the footer and the workbook's sheet by sheet; without a key it says the signature went unchecked.
    const { stdout } = await verify(await archiveBytes(exp.archive_key!));
    for (const type of exp.data_types) {
      expect(stdout).toMatch(new RegExp(`ok +${type}\\.parquet +\\d+ rows`));
      expect(stdout).toMatch(new RegExp(`ok +${type}\\.xlsx +\\d+ rows`));
    }
    expect(stdout).not.toMatch(/^FAIL/m);
  });

  it("writes a study cohort's participants, HSI and lab rows as Parquet and Excel equal to their NDJSON", async () => {
    const { files, manifest } = await exportAll({ scope: studyScope, dataTypes: ["hsi_records", "lab_results"], deidentification: profile });
    const types = manifest.files.filter((f: { format: string }) => f.format === "ndjson").map((f: { dataType: string }) => f.dataType);
    expect(types).toContain("participants");
    for (const type of types) {
      const ndjson = ndjsonRows(files.get(`${type}.ndjson`)!);
      const parquet = files.get(`${type}.parquet`)!;
      expectParquetEqualsNdjson(`${type}.parquet`, parquet, await parquetRows(parquet), ndjson);
      const entry = manifest.files.find((f: { name: string }) => f.name === `${type}.xlsx`);
      await expectXlsxEqualsNdjson(`${type}.xlsx`, files.get(`${type}.xlsx`)!, ndjson, entry.sheets);
    }
  });
});

async function archiveBytes(key: string): Promise<Buffer> {
  const { getStorage } = await import("../../app/exports/engine/storage.server");
  const chunks: Buffer[] = [];
  for await (const chunk of await getStorage().read(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe("infinite times and dates", () => {
  it("are written as PostgreSQL spells them in NDJSON, CSV and Excel, and as DuckDB writes them in Parquet", async () => {
    const first = (table: "hsi_record" | "lab_result", time: "recorded_at" | "collected_at") =>
      getDb().selectFrom(table).select("id").where("tenant_id", "=", owner.tenantId).orderBy(time).orderBy("id").limit(1);
    await getDb().updateTable("hsi_record").set({ recorded_at: sql`'infinity'` }).where("id", "=", first("hsi_record", "recorded_at")).execute();
    await getDb().updateTable("lab_result").set({ collected_at: sql`'-infinity'` }).where("id", "=", first("lab_result", "collected_at")).execute();
    const member = getDb().selectFrom("cohort_member").select("participant_id").where("cohort_id", "=", studyScope.cohortId as string).orderBy("participant_id").limit(1);
    await getDb().updateTable("participant").set({ date_of_birth: sql`'-infinity'` }).where("id", "=", member).execute();

    const formats = { format: ["ndjson", "csv", "parquet", "xlsx"], deidentification: "full" };
    const tenant = await createExport(getDb(), owner, { dataTypes: ["hsi_records", "lab_results"], ...formats });
    await runQueuedJobs();
    const study = await createExport(getDb(), owner, { scope: studyScope, dataTypes: ["hsi_records"], ...formats });
    await runQueuedJobs();
    const checks = [
      { exp: tenant, type: "hsi_records", column: "recorded_at", value: "infinity" },
      { exp: tenant, type: "lab_results", column: "collected_at", value: "-infinity" },
      { exp: study, type: "participants", column: "date_of_birth", value: "-infinity" },
    ];
    for (const { exp, type, column, value } of checks) {
      expect((await exportRow(exp.id)).status).toBe("done");
      const files = await openArchive(exp.id);
      const ndjson = ndjsonRows(files.get(`${type}.ndjson`)!);
      expect(ndjson.filter((row) => row[column] === value), `${type}.ndjson`).toHaveLength(1);
      // In CSV too, not an empty field (PostgreSQL's to_char gives NULL for them).
      const [header, ...csv] = parseCsv(files.get(`${type}.csv`)!.toString());
      expect(csv, `${type}.csv`).toHaveLength(ndjson.length);
      expect(csv[ndjson.findIndex((row) => row[column] === value)][header.indexOf(column)], `${type}.csv`).toBe(value);
      const parquet = files.get(`${type}.parquet`)!;
      expectParquetEqualsNdjson(`${type}.parquet`, parquet, await parquetRows(parquet), ndjson);
      const manifest = JSON.parse(files.get("manifest.json")!.toString());
      const entry = manifest.files.find((f: { name: string }) => f.name === `${type}.xlsx`);
      await expectXlsxEqualsNdjson(`${type}.xlsx`, files.get(`${type}.xlsx`)!, ndjson, entry.sheets);
    }
  });
});

describe("a value Excel cannot hold", () => {
  it("fails an Excel export with a message naming the data type, column and row and the formats that can hold it; Parquet holds it", async () => {
    const long = "x".repeat(40_000);
    await getDb().updateTable("lab_result").set({ test_name: long }).where("id", "=", getDb().selectFrom("lab_result").select("id").where("tenant_id", "=", owner.tenantId).orderBy("collected_at").orderBy("id").limit(1)).execute();
    const excel = await createExport(getDb(), owner, { dataTypes: ["lab_results"], format: ["ndjson", "xlsx"], deidentification: "full" });
    await runQueuedJobs();
    const failed = await exportRow(excel.id);
    expect(failed.status).toBe("failed");
    expect(failed.error).toBe(
      'lab_results cannot be written as an Excel workbook: column "test_name" of row 1 holds 40,000 characters and an Excel cell holds at most 32,767. Export lab_results as CSV, NDJSON or Parquet instead.',
    );
    const parquet = await createExport(getDb(), owner, { dataTypes: ["lab_results"], format: "parquet", deidentification: "full" });
    await runQueuedJobs();
    const rows = await parquetRows((await openArchive(parquet.id)).get("lab_results.parquet")!);
    expect(rows[0].test_name).toBe(long);
  });
});
