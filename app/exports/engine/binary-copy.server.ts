import type { Readable } from "node:stream";
import type { ColumnType, RowBatch, RowColumn, RowValue } from "./row-files.server";

/**
 * Decodes the rows of `COPY … TO STDOUT (FORMAT binary)`: PostgreSQL's own
 * typed values, so a Parquet or Excel file gets numbers, times and dates as
 * they are stored, without printing and parsing them again as text.
 * https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4
 */

/** The PostgreSQL types an export's columns have (pg_type oids), and how each is read. */
const TYPES: Record<number, ColumnType> = {
  16: "boolean",
  20: "int64",
  21: "int32",
  23: "int32",
  25: "string",
  114: "json",
  700: "double",
  701: "double",
  1043: "string",
  1082: "date",
  1114: "timestamp",
  1184: "timestamp",
  2950: "string",
  3802: "json",
};
const UUID = 2950;
const JSONB = 3802;

/** The columns a SELECT returns, named and typed from PostgreSQL's own description of its result. */
export function columnsOf(fields: { name: string; dataTypeID: number }[]): { columns: RowColumn[]; oids: number[] } {
  const columns = fields.map(({ name, dataTypeID }) => {
    const type = TYPES[dataTypeID];
    if (!type) throw new Error(`column ${name}: no file type for PostgreSQL type ${dataTypeID}`);
    return { name, type };
  });
  return { columns, oids: fields.map((f) => f.dataTypeID) };
}

const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");
// Microseconds and days between the Unix epoch and PostgreSQL's (2000-01-01).
const EPOCH_MICROS = 946_684_800_000_000n;
const EPOCH_DAYS = 10_957;
const BATCH_ROWS = 8192;

function uuidAt(buf: Buffer, at: number): string {
  const hex = buf.toString("hex", at, at + 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function valueAt(buf: Buffer, at: number, length: number, oid: number): RowValue {
  switch (oid) {
    case 16: return buf[at] !== 0;
    case 20: return buf.readBigInt64BE(at);
    case 21: return buf.readInt16BE(at);
    case 23: return buf.readInt32BE(at);
    case 700: return buf.readFloatBE(at);
    case 701: return buf.readDoubleBE(at);
    case 1082: return buf.readInt32BE(at) + EPOCH_DAYS;
    case 1114:
    case 1184: return buf.readBigInt64BE(at) + EPOCH_MICROS;
    case UUID: return uuidAt(buf, at);
    // jsonb's binary form is a version byte (1) and the value's text.
    case JSONB: return buf.toString("utf8", at + 1, at + length);
    default: return buf.toString("utf8", at, at + length);
  }
}

/**
 * The rows of a binary COPY stream in batches of up to 8192, each row its
 * values in column order. Checks the header and the trailer, so a stream cut
 * short is an error rather than a short file.
 */
export async function* binaryRows(copy: Readable, oids: number[]): AsyncGenerator<RowBatch> {
  let pending: Buffer = Buffer.alloc(0);
  let headerRead = false;
  let ended = false;
  let batch: RowBatch = [];
  for await (const chunk of copy as AsyncIterable<Buffer>) {
    const buf = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let at = 0;
    if (!headerRead) {
      if (buf.length < 19) {
        pending = buf;
        continue;
      }
      if (!buf.subarray(0, 11).equals(SIGNATURE)) throw new Error("not a binary COPY stream");
      at = 19 + buf.readInt32BE(15);
      headerRead = true;
    }
    // One complete row at a time; a row cut by the chunk's end waits for the next chunk.
    while (!ended && at + 2 <= buf.length) {
      const count = buf.readInt16BE(at);
      if (count === -1) {
        ended = true;
        at += 2;
        break;
      }
      if (count !== oids.length) throw new Error(`a row of ${count} columns, expected ${oids.length}`);
      let p = at + 2;
      const row: RowValue[] = new Array(count);
      let complete = true;
      for (let i = 0; i < count; i++) {
        if (p + 4 > buf.length) {
          complete = false;
          break;
        }
        const length = buf.readInt32BE(p);
        p += 4;
        if (length === -1) {
          row[i] = null;
          continue;
        }
        if (p + length > buf.length) {
          complete = false;
          break;
        }
        row[i] = valueAt(buf, p, length, oids[i]);
        p += length;
      }
      if (!complete) break;
      batch.push(row);
      at = p;
    }
    pending = buf.subarray(at);
    if (batch.length >= BATCH_ROWS) {
      yield batch;
      batch = [];
    }
  }
  if (!ended || pending.length > 0) throw new Error("the binary COPY stream ended before its trailer");
  if (batch.length > 0) yield batch;
}
