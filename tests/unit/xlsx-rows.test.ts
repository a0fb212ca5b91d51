import { describe, expect, it } from "vitest";
import { xlsxWriter } from "../../app/exports/engine/xlsx-file.server";
import { xlsxSheetRows } from "../../app/lib/xlsx-rows";
import { unzip, writeToBuffer } from "./xlsx-helpers";

describe("xlsxSheetRows", () => {
  it("counts each sheet's data rows of a workbook the writer made", async () => {
    const rows = Array.from({ length: 12 }, (_, i) => [i, i % 3 === 0 ? null : `<row ${i}>`]);
    // A row of NULLs still counts: the writer keeps it in the sheet.
    rows.push([null, null]);
    const columns = [
      { name: "i", type: "int32" as const },
      { name: "s", type: "string" as const },
    ];
    const { bytes, result } = await writeToBuffer(xlsxWriter({ maxRowsPerSheet: 5 }), "a&b", columns, rows);
    expect(await xlsxSheetRows(bytes)).toEqual(result.sheets);
    expect(result.sheets).toEqual([
      { name: "a&b", rows: 5 },
      { name: "a&b (2)", rows: 5 },
      { name: "a&b (3)", rows: 3 },
    ]);
    // The name really was escaped in the XML the counter read.
    expect((await unzip(bytes)).get("xl/workbook.xml")).toContain('name="a&amp;b"');
  });

  it("counts no data rows in a sheet with only its header", async () => {
    const { bytes } = await writeToBuffer(xlsxWriter(), "empty", [{ name: "i", type: "int32" }], []);
    expect(await xlsxSheetRows(bytes)).toEqual([{ name: "empty", rows: 0 }]);
  });

  it("counts a large sheet streamed in many chunks", async () => {
    const rows = Array.from({ length: 30_000 }, (_, i) => [i, `text ${i}`]);
    const columns = [
      { name: "i", type: "int32" as const },
      { name: "s", type: "string" as const },
    ];
    const { bytes } = await writeToBuffer(xlsxWriter(), "big", columns, rows, 1000);
    expect(await xlsxSheetRows(bytes)).toEqual([{ name: "big", rows: 30_000 }]);
  });

  it("rejects bytes that are not a workbook", async () => {
    await expect(xlsxSheetRows(Buffer.from("not a zip"))).rejects.toThrow();
  });
});
