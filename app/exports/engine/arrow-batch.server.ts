import { Bool, DateDay, Field, Float64, Int32, Int64, Schema, Table, TimestampMicrosecond, Utf8, makeData, makeVector, tableToIPC } from "apache-arrow";
import type { DataType } from "apache-arrow";
import type { ColumnType, RowBatch, RowColumn } from "./row-files.server";

/** The Arrow type of each column type; Parquet's types follow from these (timestamps in UTC microseconds). */
function arrowType(type: ColumnType): DataType {
  switch (type) {
    case "int64": return new Int64();
    case "int32": return new Int32();
    case "double": return new Float64();
    case "boolean": return new Bool();
    case "timestamp": return new TimestampMicrosecond("UTC");
    case "date": return new DateDay();
    case "string": case "json": return new Utf8();
  }
}

/**
 * The Arrow schema of a file. JSON columns carry Arrow's canonical `arrow.json` extension name: arrow-rs does
 * not turn it into Parquet's JSON logical type, but it keeps it in the file's embedded Arrow schema.
 */
export function arrowSchema(columns: RowColumn[]) {
  const json = new Map([["ARROW:extension:name", "arrow.json"], ["ARROW:extension:metadata", ""]]);
  return new Schema(columns.map((c) => new Field(c.name, arrowType(c.type), true, c.type === "json" ? json : undefined)));
}

/** One batch as an Arrow IPC stream (schema and one record batch); no rows gives the schema alone. */
export function batchToIPC(schema: Schema, columns: RowColumn[], batch: RowBatch) {
  const vectors = columns.map((c, i) => makeVector(columnData(schema.fields[i].type, c.type, batch, i)));
  return tableToIPC(new Table(schema, Object.fromEntries(columns.map((c, i) => [c.name, vectors[i]]))), "stream");
}

// Arrow buffers filled straight from the rows: typed arrays and a validity bitmap, no object per value.
// (`as never`: makeData's overloads go by Arrow type, which is known here only at run time.)
function columnData(arrow: DataType, type: ColumnType, batch: RowBatch, column: number) {
  const length = batch.length;
  const nullBitmap = new Uint8Array((length + 7) >> 3);
  let nullCount = 0;
  for (let r = 0; r < length; r++) {
    if (batch[r][column] === null) nullCount++;
    else nullBitmap[r >> 3] |= 1 << (r & 7);
  }
  const props = { type: arrow, length, nullCount, nullBitmap };
  if (type === "int64" || type === "timestamp") {
    const data = new BigInt64Array(length);
    for (let r = 0; r < length; r++) data[r] = (batch[r][column] as bigint | null) ?? 0n;
    return makeData({ ...props, data } as never);
  }
  if (type === "int32" || type === "date" || type === "double") {
    const data = type === "double" ? new Float64Array(length) : new Int32Array(length);
    for (let r = 0; r < length; r++) data[r] = (batch[r][column] as number | null) ?? 0;
    return makeData({ ...props, data } as never);
  }
  if (type === "boolean") {
    const data = new Uint8Array((length + 7) >> 3);
    for (let r = 0; r < length; r++) if (batch[r][column] === true) data[r >> 3] |= 1 << (r & 7);
    return makeData({ ...props, data } as never);
  }
  // Strings: measured first, so their UTF-8 goes into one buffer without growing it.
  let size = 0;
  for (let r = 0; r < length; r++) {
    const value = batch[r][column];
    if (value !== null) size += Buffer.byteLength(value as string);
  }
  const data = Buffer.allocUnsafe(size);
  const valueOffsets = new Int32Array(length + 1);
  let at = 0;
  for (let r = 0; r < length; r++) {
    const value = batch[r][column];
    if (value !== null) at += data.write(value as string, at);
    valueOffsets[r + 1] = at;
  }
  return makeData({ ...props, data, valueOffsets } as never);
}
