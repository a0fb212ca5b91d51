import type { ColumnType, RowValue } from "./row-files.server";
import { DATE_INFINITY, TIMESTAMP_INFINITY } from "./binary-copy.server";

/**
 * Values as an Excel cell holds them, with no spreadsheet library: what the
 * workbook writer puts in each cell, and the format a date cell needs.
 */

/** The most characters Excel keeps in one cell; it refuses a workbook with a longer one. */
export const XLSX_MAX_CELL_CHARS = 32_767;

// Excel stores dates as days since 1899-12-30 (serial 25569 is 1970-01-01) and
// holds milliseconds at most, so timestamps lose their microseconds here.
const EPOCH_SERIAL = 25_569;
const MS_PER_DAY = 86_400_000;
// Serials Excel shows as the right date: below 61 its 1900 leap-year bug shifts
// dates by a day, and 2958466 is the year 10000. Outside them we write text.
const FIRST_SERIAL = 61;
const END_SERIAL = 2_958_466;

// 'infinity' and '-infinity' as the decoder hands them on (binary-copy.server.ts).
const TIMESTAMP_INFINITIES = new Map([
  [TIMESTAMP_INFINITY, "infinity"],
  [-TIMESTAMP_INFINITY, "-infinity"],
]);
const DATE_INFINITIES = new Map([
  [DATE_INFINITY, "infinity"],
  [-DATE_INFINITY, "-infinity"],
]);

/** A cell's value, and for a date serial the format that shows it as a date. */
export type CellContent = [value: number | boolean | string | null, format?: "datetime" | "date"];

/** A value as Excel should hold it (before `xmlSafe`). */
export function cellOf(type: ColumnType, value: RowValue): CellContent {
  if (value === null) return [null];
  switch (type) {
    case "int32":
      return [value as number];
    case "double":
      // Excel has no NaN or infinities; PostgreSQL's spelling as text is the honest fallback.
      if (Number.isFinite(value)) return [value as number];
      return [Number.isNaN(value) ? "NaN" : (value as number) > 0 ? "Infinity" : "-Infinity"];
    case "int64": {
      const n = BigInt(value as bigint);
      // Past 2^53 a number would silently change the value, so it stays exact as text.
      return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? [Number(n)] : [n.toString()];
    }
    case "boolean":
      return [value as boolean];
    case "timestamp":
      return timestampCell(BigInt(value as bigint));
    case "date":
      return dateCell(value as number);
    case "string":
    case "json":
      return [neutralized(String(value))];
    default:
      throw new Error(`unknown column type "${type as string}"`);
  }
}

// The serial is computed here rather than by handing exceljs a Date, so the
// cell holds the UTC wall time whatever time zone the process runs in.
function timestampCell(micros: bigint): CellContent {
  const infinity = TIMESTAMP_INFINITIES.get(micros);
  if (infinity) return [infinity];
  // Down to the millisecond (floor, so instants before 1970 keep theirs too):
  // a cell never shows a later time than the instant.
  const ms = Number(micros / 1000n - (micros % 1000n < 0n ? 1n : 0n));
  let serial = EPOCH_SERIAL + ms / MS_PER_DAY;
  if (serial >= FIRST_SERIAL && serial < END_SERIAL) {
    // The nearest double can fall a hair below the millisecond, and readers that
    // floor the time (read-excel-file does) then show the one before; a step of
    // one unit in the last place up cures that and rounding readers (Excel) still
    // land on the same millisecond. Before 1970 it can take a few dozen steps.
    while ((serial - EPOCH_SERIAL) * MS_PER_DAY < ms) serial = nextDouble(serial);
    return [serial, "datetime"];
  }
  const date = new Date(ms);
  return [Number.isNaN(date.getTime()) ? `${micros} microseconds after 1970-01-01 00:00 UTC` : date.toISOString()];
}

const float = new Float64Array(1);
const bits = new BigUint64Array(float.buffer);

/** The next double above a positive `x`. */
function nextDouble(x: number): number {
  float[0] = x;
  bits[0] += 1n;
  return float[0];
}

function dateCell(days: number): CellContent {
  const infinity = DATE_INFINITIES.get(days);
  if (infinity) return [infinity];
  const serial = EPOCH_SERIAL + days;
  if (serial >= FIRST_SERIAL && serial < END_SERIAL) return [serial, "date"];
  const date = new Date(days * MS_PER_DAY);
  return [Number.isNaN(date.getTime()) ? `${days} days after 1970-01-01` : date.toISOString().slice(0, -14)];
}

/** The CSV files' rule (SQL `exportal_csv_safe`): text that a spreadsheet would take for a formula gets a leading quote. */
export function neutralized(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

// XML 1.0 cannot hold C0 controls other than tab, LF and CR, nor U+FFFE and
// U+FFFF, and exceljs silently drops those and DEL. Rather than lose them or
// write U+FFFD, they are written as OOXML's `_xHHHH_` escapes, which Excel (and
// read-excel-file) turn back into the very character, so the cell holds the
// data unchanged. A literal `_xHHHH_` in the data therefore has its underscore
// escaped as `_x005F_`, or Excel would decode it. Lone surrogates cannot come
// from PostgreSQL's UTF-8; should one appear it becomes U+FFFD.
const XML_UNSAFE = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F\uFFFE\uFFFF]|_(?=x[0-9A-Fa-f]{4}_)|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text as it must be written in a cell for Excel to show `text`. */
export function xmlSafe(text: string): string {
  return text.replace(XML_UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    if (code >= 0xd800 && code <= 0xdfff) return "\uFFFD";
    return `_x${code.toString(16).toUpperCase().padStart(4, "0")}_`;
  });
}
