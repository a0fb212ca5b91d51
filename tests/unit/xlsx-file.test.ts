import { Writable } from "node:stream";
import readExcelFile from "read-excel-file/node";
import { afterEach, describe, expect, it } from "vitest";
import type { RowBatch, RowColumn } from "../../app/exports/engine/row-files.server";
import { writeXlsx, xlsxWriter } from "../../app/exports/engine/xlsx-file.server";
import { unzip, writeToBuffer } from "./xlsx-helpers";

// The workbooks are read back with read-excel-file, not exceljs, so a mistake
// shared by writer and reader cannot hide (told not to trim, as it does by
// default); header style and panes from the XML.

const COLUMNS: RowColumn[] = [
  { name: "id", type: "int64" },
  { name: "n", type: "int32" },
  { name: "x", type: "double" },
  { name: "ok", type: "boolean" },
  { name: "at", type: "timestamp" },
  { name: "day", type: "date" },
  { name: "note", type: "string" },
  { name: "data", type: "json" },
];

const AT = Date.UTC(2026, 10, 30, 23, 59, 58, 123); // late in the UTC day, so a time zone shift would change the date
const micros = (ms: number, extra = 0) => BigInt(ms) * 1000n + BigInt(extra);

const ROWS: RowBatch = [
  [1n, 7, 1.5, true, micros(AT, 999), 20_787, "plain", '{"a":1}'],
  [-(2n ** 53n) + 1n, -2147483648, -0.25, false, micros(Date.UTC(1969, 11, 31, 23, 59, 59, 999), 500), -1, "=SUM(A1:A2)", "-1"],
  [2n ** 53n, 2147483647, Number.NaN, null, micros(Date.UTC(1900, 2, 1)), 0, "+1 @x", "[]"],
  [-(2n ** 63n) + 5n, 0, Number.POSITIVE_INFINITY, true, micros(Date.UTC(1800, 0, 1)), -80_000, "@handle", null],
  [null, null, null, null, null, null, null, null],
  [42n, 1, 1e300, false, 2n ** 63n - 1n, 2147483647, "\ttab\rcr", '"text"'],
  [3n, 2, -1e-300, true, -(2n ** 63n - 1n), -2147483647, "bell\u0007 del\u007f \uFFFE _x0041_ _x005f_ é 😀 <&>\"'", "{}"],
  [4n, 3, 0, false, micros(AT), 20_787, "-5", "null"],
  [5n, 4, 1, true, micros(AT), 20_787, "", " =x"],
];

afterEach(() => {
  delete process.env.TZ;
});

describe("writeXlsx", () => {
  it("writes each value with its type, in UTC, with formulas neutralized", async () => {
    // The cells must show UTC whatever the process's zone; Node applies a TZ change at once.
    process.env.TZ = "America/New_York";
    expect(new Date(AT).getHours()).toBe(18);
    const { bytes, result } = await writeToBuffer(writeXlsx, "events", COLUMNS, ROWS);
    expect(result).toEqual({ rows: 9, sheets: [{ name: "events", rows: 9 }] });

    const sheets = await readExcelFile(bytes, { trim: false });
    expect(sheets.map((s) => s.sheet)).toEqual(["events"]);
    const [header, ...data] = sheets[0].data;
    expect(header).toEqual(["id", "n", "x", "ok", "at", "day", "note", "data"]);
    expect(data).toHaveLength(9);
    expect(data[0]).toEqual([1, 7, 1.5, true, new Date(AT), new Date("2026-11-30T00:00:00Z"), "plain", '{"a":1}']);
    expect(data[1]).toEqual([
      -(2 ** 53) + 1,
      -2147483648,
      -0.25,
      false,
      new Date("1969-12-31T23:59:59.999Z"),
      new Date("1969-12-31T00:00:00Z"),
      "'=SUM(A1:A2)",
      "'-1",
    ]);
    // Past 2^53 an int64 stays exact as text; NaN has no Excel number; 1900-03-01 is Excel's first safe date.
    expect(data[2]).toEqual(["9007199254740992", 2147483647, "NaN", null, new Date("1900-03-01T00:00:00Z"), new Date("1970-01-01T00:00:00Z"), "'+1 @x", "[]"]);
    expect(data[3]).toEqual(["-9223372036854775803", 0, "Infinity", true, "1800-01-01T00:00:00.000Z", "1750-12-20", "'@handle", null]);
    expect(data[4]).toEqual([null, null, null, null, null, null, null, null]);
    expect(data[5]).toEqual([42, 1, 1e300, false, "infinity", "infinity", "'\ttab\rcr", '"text"']);
    // Characters XML cannot hold come back unchanged through OOXML's _xHHHH_ escapes, and so do literal escapes.
    expect(data[6]).toEqual([3, 2, -1e-300, true, "-infinity", "-infinity", "bell\u0007 del\u007f \uFFFE _x0041_ _x005f_ é 😀 <&>\"'", "{}"]);
    expect(data[7]).toEqual([4, 3, 0, false, new Date(AT), new Date("2026-11-30T00:00:00Z"), "'-5", "null"]);
    // An empty text reads back as an empty cell; a formula behind a space is not one in Excel.
    expect(data[8]).toEqual([5, 4, 1, true, new Date(AT), new Date("2026-11-30T00:00:00Z"), null, " =x"]);

    // The serial itself is the UTC instant to the millisecond: read-excel-file floors
    // serial × 86,400,000, which can fall a hair short, so the exact check is on the XML.
    const xml = (await unzip(bytes)).get("xl/worksheets/sheet1.xml")!;
    const serial = (cell: string) => Number(new RegExp(`<c r="${cell}"[^>]*><v>([^<]*)</v>`).exec(xml)![1]);
    expect(Math.round((serial("E2") - 25569) * 86_400_000)).toBe(AT);
    expect(Math.round((serial("E3") - 25569) * 86_400_000)).toBe(Date.UTC(1969, 11, 31, 23, 59, 59, 999));
    expect(serial("F2")).toBe(25569 + 20_787);
    // Text is never a formula.
    expect(xml).not.toContain("<f>");
  });

  it("writes a bold header row and freezes the pane below it", async () => {
    const { bytes } = await writeToBuffer(writeXlsx, "events", COLUMNS, ROWS.slice(0, 2));
    const files = await unzip(bytes);
    const sheet = files.get("xl/worksheets/sheet1.xml")!;
    expect(sheet).toMatch(/<pane [^>]*ySplit="1"[^>]*state="frozen"|<pane [^>]*state="frozen"[^>]*ySplit="1"/);
    expect(sheet).toMatch(/<pane [^>]*topLeftCell="A2"/);
    const styles = files.get("xl/styles.xml")!;
    // The header cells' style (cellXfs) must point at a bold font; the data cells' must not.
    const inside = (tag: string) => styles.split(`<${tag}`)[1].split(`</${tag}>`)[0];
    const xfs = [...inside("cellXfs").matchAll(/<xf [^>]*>/g)].map(([xf]) => xf);
    const fonts = [...inside("fonts").matchAll(/<font>[\s\S]*?<\/font>/g)].map(([font]) => font);
    const fontOf = (cell: string) => {
      const style = Number(new RegExp(`<c r="${cell}"[^>]* s="(\\d+)"`).exec(sheet)?.[1] ?? 0);
      return fonts[Number(/fontId="(\d+)"/.exec(xfs[style])?.[1] ?? 0)];
    };
    for (const cell of ["A1", "E1", "H1"]) expect(fontOf(cell)).toContain("<b/>");
    for (const cell of ["A2", "E2", "G2"]) expect(fontOf(cell)).not.toContain("<b/>");
  });

  it("continues past the row limit on numbered sheets, each with the header", async () => {
    const columns: RowColumn[] = [{ name: "i", type: "int32" }];
    const rows = Array.from({ length: 12 }, (_, i) => [i]);
    const { bytes, result } = await writeToBuffer(xlsxWriter({ maxRowsPerSheet: 5 }), "steps", columns, rows, 4);
    expect(result).toEqual({
      rows: 12,
      sheets: [
        { name: "steps", rows: 5 },
        { name: "steps (2)", rows: 5 },
        { name: "steps (3)", rows: 2 },
      ],
    });
    const sheets = await readExcelFile(bytes, { trim: false });
    expect(sheets.map((s) => s.sheet)).toEqual(["steps", "steps (2)", "steps (3)"]);
    expect(sheets.map((s) => s.data)).toEqual([
      [["i"], [0], [1], [2], [3], [4]],
      [["i"], [5], [6], [7], [8], [9]],
      [["i"], [10], [11]],
    ]);
  });

  it("fills a sheet exactly to the limit without starting an empty one", async () => {
    const rows = Array.from({ length: 5 }, (_, i) => [i]);
    const { result } = await writeToBuffer(xlsxWriter({ maxRowsPerSheet: 5 }), "steps", [{ name: "i", type: "int32" }], rows);
    expect(result.sheets).toEqual([{ name: "steps", rows: 5 }]);
  });

  it("writes only the header when there are no rows", async () => {
    const { bytes, result } = await writeToBuffer(writeXlsx, "empty_type", COLUMNS, []);
    expect(result).toEqual({ rows: 0, sheets: [{ name: "empty_type", rows: 0 }] });
    const sheets = await readExcelFile(bytes, { trim: false });
    expect(sheets).toEqual([{ sheet: "empty_type", data: [["id", "n", "x", "ok", "at", "day", "note", "data"]] }]);
  });

  it("refuses a text longer than an Excel cell holds, naming the data type, column and row, and the formats that can", async () => {
    const columns: RowColumn[] = [
      { name: "id", type: "int32" },
      { name: "body", type: "string" },
    ];
    const fits = "x".repeat(32_767);
    const rows = [
      [1, "short"],
      [2, fits],
      [3, "x".repeat(32_768)],
    ];
    const written = writeToBuffer(writeXlsx, "notes", columns, rows);
    await expect(written).rejects.toThrow(/notes .*column "body" of row 3 .*32,768 characters.*CSV, NDJSON or Parquet/);
    // The quote that neutralizes a formula counts too: the cell would hold 32,768 characters.
    await expect(writeToBuffer(writeXlsx, "notes", columns, [[1, `=${"x".repeat(32_766)}`]])).rejects.toThrow(/row 1/);
    const { bytes } = await writeToBuffer(writeXlsx, "notes", columns, rows.slice(0, 2));
    const [sheet] = await readExcelFile(bytes, { trim: false });
    expect((sheet.data[2][1] as string).length).toBe(32_767);
  });

  it("rejects rather than waits forever when its output closes early", async () => {
    let written = 0;
    const out = new Writable({
      write(chunk: Buffer, _e, cb) {
        written += chunk.length;
        // An upload that fails after the first bytes.
        if (written > 1000) this.destroy(new Error("upload failed"));
        else cb();
      },
    });
    out.on("error", () => {});
    async function* batches() {
      for (let i = 0; i < 200; i++) yield Array.from({ length: 500 }, (_, j) => [i * 500 + j, `row ${j}`.repeat(5)]);
    }
    const columns: RowColumn[] = [
      { name: "i", type: "int32" },
      { name: "s", type: "string" },
    ];
    await expect(writeXlsx("events", columns, batches(), out)).rejects.toThrow(/events workbook closed before it was written/);
  });
});
