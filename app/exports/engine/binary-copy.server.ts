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
// 'infinity' and '-infinity' are the ends of PostgreSQL's int64 (int32 for dates). They are handed on as
// DuckDB writes them in Parquet, ±(2^63 − 1) µs and ±(2^31 − 1) days, not moved to the Unix epoch, which
// would wrap them round to ordinary times.
export const TIMESTAMP_INFINITY = 2n ** 63n - 1n;
export const DATE_INFINITY = 2 ** 31 - 1;
const unixMicros = (pg: bigint) => (pg === TIMESTAMP_INFINITY ? pg : pg === -TIMESTAMP_INFINITY - 1n ? -TIMESTAMP_INFINITY : pg + EPOCH_MICROS);
const unixDays = (pg: number) => (pg === DATE_INFINITY ? pg : pg === -DATE_INFINITY - 1 ? -DATE_INFINITY : pg + EPOCH_DAYS);
const BATCH_ROWS = 8192;

/**
 * The complete rows of one chunk of the stream: where each value starts in
 * `buf` and its length (-1: NULL), row after row, `columns` values a row.
 */
interface RowSpans {
  buf: Buffer;
  rows: number;
  starts: Int32Array;
  lengths: Int32Array;
}

/**
 * Walks a binary COPY stream chunk by chunk, yielding the spans of the rows
 * each chunk completes (a row cut by a chunk's end waits for the next).
 * Checks the header and the trailer, so a stream cut short is an error
 * rather than a short file.
 */
async function* rowSpans(copy: Readable, columns: number): AsyncGenerator<RowSpans> {
  let pending: Buffer = Buffer.alloc(0);
  let headerRead = false;
  let ended = false;
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
    // A row takes at least 2 + 4 bytes a value; sized for the most rows the chunk can hold.
    const capacity = Math.floor((buf.length - at) / (2 + 4 * columns)) + 1;
    const starts = new Int32Array(capacity * columns);
    const lengths = new Int32Array(capacity * columns);
    let rows = 0;
    while (!ended && at + 2 <= buf.length) {
      const count = buf.readInt16BE(at);
      if (count === -1) {
        ended = true;
        at += 2;
        break;
      }
      if (count !== columns) throw new Error(`a row of ${count} columns, expected ${columns}`);
      let p = at + 2;
      let complete = true;
      for (let i = 0, slot = rows * columns; i < count; i++, slot++) {
        if (p + 4 > buf.length) {
          complete = false;
          break;
        }
        const length = buf.readInt32BE(p);
        p += 4;
        if (length > 0 && p + length > buf.length) {
          complete = false;
          break;
        }
        starts[slot] = p;
        lengths[slot] = length;
        if (length > 0) p += length;
      }
      if (!complete) break;
      rows++;
      at = p;
    }
    pending = buf.subarray(at);
    if (rows > 0) yield { buf, rows, starts, lengths };
  }
  if (!ended || pending.length > 0) throw new Error("the binary COPY stream ended before its trailer");
}

const HEX_DIGITS = Buffer.from("0123456789abcdef", "latin1");

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
    case 1082: return unixDays(buf.readInt32BE(at));
    case 1114:
    case 1184: return unixMicros(buf.readBigInt64BE(at));
    case UUID: return uuidAt(buf, at);
    // jsonb's binary form is a version byte (1) and the value's text.
    case JSONB: return buf.toString("utf8", at + 1, at + length);
    default: return buf.toString("utf8", at, at + length);
  }
}

/** The rows of a binary COPY stream in batches of up to 8192, each row its values in column order. */
export async function* binaryRows(copy: Readable, oids: number[]): AsyncGenerator<RowBatch> {
  let batch: RowBatch = [];
  for await (const { buf, rows, starts, lengths } of rowSpans(copy, oids.length)) {
    for (let r = 0, slot = 0; r < rows; r++) {
      const row: RowValue[] = new Array(oids.length);
      for (let i = 0; i < oids.length; i++, slot++) row[i] = lengths[slot] === -1 ? null : valueAt(buf, starts[slot], lengths[slot], oids[i]);
      batch.push(row);
    }
    if (batch.length >= BATCH_ROWS) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * One column of a batch in Arrow's layout: a validity bitmap and either
 * fixed-width values (little-endian, as Arrow keeps them) or UTF-8 bytes with
 * their offsets. `values` of booleans is a bitmap too.
 */
export interface ColumnBuffers {
  validity: Uint8Array;
  nulls: number;
  values: Uint8Array;
  offsets?: Int32Array;
}

/** A batch of rows as column buffers, ready for Arrow without a JavaScript value per cell. */
export interface ColumnBatch {
  rows: number;
  columns: ColumnBuffers[];
}

/** How many rows a batch holds, in either form. */
export const batchRows = (batch: RowBatch | ColumnBatch) => (Array.isArray(batch) ? batch.length : batch.rows);

const WIDTH: Partial<Record<ColumnType, number>> = { int64: 8, timestamp: 8, double: 8, int32: 4, date: 4 };
// The Unix-epoch shift of a timestamp, as the two 32-bit halves added to PostgreSQL's int64.
const EPOCH_LOW = Number(EPOCH_MICROS & 0xffffffffn);
const EPOCH_HIGH = Number(EPOCH_MICROS >> 32n);

/** Builds one column of a batch straight from the COPY bytes. */
class ColumnBuilder {
  private validity = new Uint8Array(BATCH_ROWS >> 3);
  private nulls = 0;
  private fixed: Uint8Array;
  private view: DataView;
  private bytes = Buffer.allocUnsafe(64 * 1024);
  private used = 0;
  private offsets: Int32Array | undefined;

  constructor(
    private type: ColumnType,
    private oid: number,
  ) {
    this.fixed = new Uint8Array(type === "boolean" ? BATCH_ROWS >> 3 : (WIDTH[type] ?? 0) * BATCH_ROWS);
    this.view = new DataView(this.fixed.buffer);
    if (!WIDTH[type] && type !== "boolean") this.offsets = new Int32Array(BATCH_ROWS + 1);
  }

  add(row: number, buf: Buffer, at: number, length: number): void {
    if (length === -1) {
      this.nulls++;
      if (this.offsets) this.offsets[row + 1] = this.used;
      return;
    }
    this.validity[row >> 3] |= 1 << (row & 7);
    switch (this.oid) {
      case 16:
        if (buf[at] !== 0) this.fixed[row >> 3] |= 1 << (row & 7);
        return;
      case 20:
        this.view.setInt32(row * 8, buf.readInt32BE(at + 4), true);
        this.view.setInt32(row * 8 + 4, buf.readInt32BE(at), true);
        return;
      case 1114:
      case 1184: {
        const high = buf.readInt32BE(at);
        const low = buf.readUInt32BE(at + 4);
        if ((high === 0x7fffffff && low === 0xffffffff) || (high === -0x80000000 && low === 0)) {
          // ±infinity: ±(2^63 − 1), as unixMicros hands them on.
          this.view.setUint32(row * 8, high < 0 ? 1 : low, true);
          this.view.setInt32(row * 8 + 4, high, true);
          return;
        }
        // PostgreSQL's µs since 2000 plus the epoch shift, added in 32-bit halves with the carry: no BigInt per cell.
        const shifted = low + EPOCH_LOW;
        this.view.setUint32(row * 8, shifted >>> 0, true);
        this.view.setInt32(row * 8 + 4, (high + EPOCH_HIGH + (shifted > 0xffffffff ? 1 : 0)) | 0, true);
        return;
      }
      case 21: this.view.setInt32(row * 4, buf.readInt16BE(at), true); return;
      case 23: this.view.setInt32(row * 4, buf.readInt32BE(at), true); return;
      case 1082: this.view.setInt32(row * 4, unixDays(buf.readInt32BE(at)), true); return;
      case 700: this.view.setFloat64(row * 8, buf.readFloatBE(at), true); return;
      case 701: this.view.setFloat64(row * 8, buf.readDoubleBE(at), true); return;
      case UUID: this.uuid(row, buf, at); return;
      case JSONB: this.text(row, buf, at + 1, length - 1); return;
      default: this.text(row, buf, at, length);
    }
  }

  private room(length: number): void {
    if (this.used + length <= this.bytes.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.used + length));
    this.bytes.copy(grown, 0, 0, this.used);
    this.bytes = grown;
  }

  private text(row: number, from: Buffer, at: number, length: number): void {
    this.room(length);
    from.copy(this.bytes, this.used, at, at + length);
    this.used += length;
    this.offsets![row + 1] = this.used;
  }

  /** A uuid's 16 bytes as its 36 characters of text, written in place. */
  private uuid(row: number, from: Buffer, at: number): void {
    this.room(36);
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) this.bytes[this.used++] = 0x2d;
      this.bytes[this.used++] = HEX_DIGITS[from[at + i] >> 4];
      this.bytes[this.used++] = HEX_DIGITS[from[at + i] & 15];
    }
    this.offsets![row + 1] = this.used;
  }

  /** The column's buffers for `rows` rows, handed over; the builder starts afresh. */
  take(rows: number): ColumnBuffers {
    const width = WIDTH[this.type];
    const taken: ColumnBuffers = {
      validity: this.validity.slice(0, (rows + 7) >> 3),
      nulls: this.nulls,
      values: width ? this.fixed.slice(0, rows * width) : this.offsets ? new Uint8Array(this.bytes.subarray(0, this.used)) : this.fixed.slice(0, (rows + 7) >> 3),
      offsets: this.offsets?.slice(0, rows + 1),
    };
    this.validity.fill(0);
    this.fixed.fill(0);
    this.nulls = 0;
    this.used = 0;
    this.offsets?.fill(0);
    return taken;
  }
}

/**
 * The rows of a binary COPY stream in batches of up to 8192 as column
 * buffers: the bytes PostgreSQL sent are copied into Arrow's layout, so a
 * Parquet file costs no object per cell (which at a million rows is what
 * the process's memory would otherwise be made of).
 */
export async function* columnBatches(copy: Readable, columns: RowColumn[], oids: number[]): AsyncGenerator<ColumnBatch> {
  const builders = columns.map((c, i) => new ColumnBuilder(c.type, oids[i]));
  let filled = 0;
  for await (const { buf, rows, starts, lengths } of rowSpans(copy, oids.length)) {
    for (let r = 0, slot = 0; r < rows; r++) {
      for (let i = 0; i < builders.length; i++, slot++) builders[i].add(filled, buf, starts[slot], lengths[slot]);
      if (++filled === BATCH_ROWS) {
        yield { rows: filled, columns: builders.map((b) => b.take(filled)) };
        filled = 0;
      }
    }
  }
  if (filled > 0) yield { rows: filled, columns: builders.map((b) => b.take(filled)) };
}
