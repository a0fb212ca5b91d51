import type { Writable } from "node:stream";

/**
 * Typed rows for the binary file formats (Parquet, XLSX). The engine reads a
 * data type's rows with COPY in PostgreSQL's binary format, from the same
 * SELECT as the NDJSON file (same columns, same values, same order), and
 * hands them to a format's writer in batches.
 */

/** A column's type, from the PostgreSQL type of its value. */
export type ColumnType = "int64" | "int32" | "double" | "boolean" | "timestamp" | "date" | "string" | "json";

export interface RowColumn {
  name: string;
  type: ColumnType;
}

/**
 * One value, by its column's type: int64 a bigint; int32 and double a number;
 * boolean a boolean; timestamp a bigint of microseconds since the Unix epoch
 * (UTC); date a number of days since the Unix epoch; string a string; json
 * the value's JSON text (as PostgreSQL writes it, as in the NDJSON file); SQL NULL null.
 */
export type RowValue = bigint | number | boolean | string | null;

/** Rows in file order, each its values in column order. */
export type RowBatch = RowValue[][];

/** What a writer reports besides its bytes: for a workbook, the sheets its rows went to. */
export interface RowFileResult {
  rows: number;
  sheets?: { name: string; rows: number }[];
}

/**
 * Writes one file of `dataType` (the file's sheet or table name) from its
 * batches into `out`, waiting for `out` to drain when it asks, and ends
 * `out` when the last byte is written. Memory stays flat: at most about one
 * row group or a few batches are held at a time.
 */
export type RowFileWriter<Batch = RowBatch> = (dataType: string, columns: RowColumn[], batches: AsyncIterable<Batch>, out: Writable) => Promise<RowFileResult>;
