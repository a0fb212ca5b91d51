import { type EventEmitter, once } from "node:events";
import ExcelJS from "exceljs";
import type { Writable } from "node:stream";
import { ExportFailure } from "./export-failure.server";
import type { ColumnType, RowBatch, RowColumn, RowFileResult, RowFileWriter } from "./row-files.server";
import { cellOf, XLSX_MAX_CELL_CHARS, xmlSafe } from "./xlsx-cells.server";

/** Excel's 1,048,576 rows a sheet, less the header row. */
export const XLSX_MAX_ROWS_PER_SHEET = 1_048_575;

// Shared style objects: exceljs remembers the style id of a style object, so
// cells sharing one skip working it out again (a tenth of the time otherwise).
// Numbers get their own, as exceljs gives a number without a format "General".
const FORMAT_STYLE = {
  datetime: { numFmt: "yyyy-mm-dd hh:mm:ss.000" },
  date: { numFmt: "yyyy-mm-dd" },
} satisfies Record<string, Partial<ExcelJS.Style>>;
const NUMBER_STYLE: Partial<ExcelJS.Style> = {};
const PLAIN_STYLE: Partial<ExcelJS.Style> = {};

const WIDTH_OF: Record<ColumnType, number> = { int64: 12, int32: 10, double: 12, boolean: 8, timestamp: 24, date: 12, string: 20, json: 30 };

/**
 * The workbook writer, with a lower sheet limit for tests; `writeXlsx` is the
 * real one. When it fails (a cell too long, the batches or `out` failing) it
 * rejects and leaves `out` unended: the caller discards the file.
 */
export function xlsxWriter({ maxRowsPerSheet = XLSX_MAX_ROWS_PER_SHEET } = {}): RowFileWriter {
  return async (dataType, columns, batches, out) => {
    // Should `out` close early (a failed upload), nothing reads the zip any
    // more and a wait for it would never end: every wait races this instead.
    let onClose = () => {};
    const closed = new Promise<never>((_, reject) => {
      // Closing after the last byte is the normal end, not a failure.
      onClose = () => out.writableFinished || reject(new Error(`the output of the ${dataType} workbook closed before it was written`));
      out.once("close", onClose);
    });
    closed.catch(() => {});
    try {
      return await write(dataType, columns, batches, out, maxRowsPerSheet, closed);
    } finally {
      out.off("close", onClose);
    }
  };
}

async function write(
  dataType: string,
  columns: RowColumn[],
  batches: AsyncIterable<RowBatch>,
  out: Writable,
  maxRowsPerSheet: number,
  closed: Promise<never>,
): Promise<RowFileResult> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
  const sheets: { name: string; rows: number }[] = [];
  let sheet = addSheet(workbook, sheetName(dataType, 1), columns);
  sheets.push({ name: sheet.name, rows: 0 });
  let rows = 0;
  for await (const batch of batches) {
    for (const values of batch) {
      if (sheets[sheets.length - 1].rows === maxRowsPerSheet) {
        sheet.commit();
        sheet = addSheet(workbook, sheetName(dataType, sheets.length + 1), columns);
        sheets.push({ name: sheet.name, rows: 0 });
      }
      rows++;
      const row = sheet.addRow([]);
      for (let i = 0; i < columns.length; i++) {
        const cell = row.getCell(i + 1);
        const [value, format] = cellOf(columns[i].type, values[i]);
        if (value === null) continue;
        if (typeof value === "string" && value.length > XLSX_MAX_CELL_CHARS) throw tooLong(dataType, columns[i].name, rows, value.length);
        cell.value = typeof value === "string" ? xmlSafe(value) : value;
        cell.style = format ? FORMAT_STYLE[format] : typeof value === "number" ? NUMBER_STYLE : PLAIN_STYLE;
      }
      // exceljs leaves out a row without values; a row of NULLs must still be
      // there (the verifier counts rows), so it gets the default height to be written.
      if (!row.hasValues) row.height = 15;
      row.commit();
      sheets[sheets.length - 1].rows++;
    }
    await Promise.race([zipCaughtUp(sheet), closed]);
  }
  // The zip is piped into `out` and ends it; commit resolves once `out` has finished.
  await Promise.race([workbook.commit(), closed]);
  return { rows, sheets };
}

/** Writes one workbook of `dataType`, one sheet (or more past Excel's row limit) with a header row. */
export const writeXlsx: RowFileWriter = xlsxWriter();

/**
 * exceljs pushes a sheet's XML towards the zip without heeding backpressure,
 * so whatever the zip has not compressed yet, or `out` not taken, would pile up
 * in memory (hundreds of MB for a million rows). The sheet's stream writes into
 * a PassThrough that archiver reads at the zip's pace: waiting for it to drain
 * after each batch keeps memory to about one batch. This reaches into exceljs
 * 4.4.0's internals (the version is pinned); the benchmark bench/xlsx-sheets.ts
 * shows whether memory stays flat.
 */
async function zipCaughtUp(sheet: ExcelJS.Worksheet): Promise<void> {
  const pipes = (sheet as unknown as { stream?: { pipes?: ReadableStreamV2[] } }).stream?.pipes ?? [];
  for (const pipe of pipes) if (pipe._writableState?.needDrain) await once(pipe, "drain");
}

/** archiver's PassThrough comes from readable-stream 2, which has no `writableNeedDrain` yet. */
type ReadableStreamV2 = EventEmitter & { _writableState?: { needDrain: boolean } };

function tooLong(dataType: string, column: string, row: number, length: number): Error {
  return new ExportFailure(
    `${dataType} cannot be written as an Excel workbook: column "${column}" of row ${row} holds ${length.toLocaleString("en-US")} characters` +
      ` and an Excel cell holds at most 32,767. Export ${dataType} as CSV, NDJSON or Parquet instead.`,
  );
}

function sheetName(dataType: string, n: number): string {
  const name = n === 1 ? dataType : `${dataType} (${n})`;
  // Excel refuses these names; data types are short identifiers, so this is a bug if it happens.
  if (name.length > 31 || /[[\]:*?/\\]/.test(name)) throw new Error(`"${name}" cannot be an Excel sheet name`);
  return name;
}

function addSheet(workbook: ExcelJS.stream.xlsx.WorkbookWriter, name: string, columns: RowColumn[]) {
  const sheet = workbook.addWorksheet(name, { views: [{ state: "frozen", ySplit: 1 }] });
  // Widths must be known before the first row: the streamed sheet writes them ahead of its rows.
  sheet.columns = columns.map((c) => ({ width: Math.min(50, Math.max(WIDTH_OF[c.type], c.name.length + 2)) }));
  const header = sheet.addRow(columns.map((c) => xmlSafe(c.name)));
  header.font = { bold: true };
  header.commit();
  return sheet;
}
