import { Bool, DateDay, Field, Float64, Int32, Int64, Schema, Table, TimestampMicrosecond, Utf8, makeData, makeVector, tableToIPC } from "apache-arrow";
import type { DataType } from "apache-arrow";
import type { ColumnBatch, ColumnBuffers } from "./binary-copy.server";
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
 * not turn it into Parquet's JSON logical type (parquet-json.server.ts adds that), but keeps it in the file's Arrow schema.
 */
export function arrowSchema(columns: RowColumn[]) {
  const json = new Map([["ARROW:extension:name", "arrow.json"], ["ARROW:extension:metadata", ""]]);
  return new Schema(columns.map((c) => new Field(c.name, arrowType(c.type), true, c.type === "json" ? json : undefined)));
}

/** One batch as an Arrow IPC stream (schema and one record batch); no rows gives the schema alone. */
export function batchToIPC(schema: Schema, columns: RowColumn[], batch: RowBatch | ColumnBatch) {
  const buffers = Array.isArray(batch) ? columnBatchOfRows(columns, batch) : batch;
  const vectors = columns.map((c, i) => makeVector(columnData(schema.fields[i].type, c.type, buffers.rows, buffers.columns[i])));
  return tableToIPC(new Table(schema, Object.fromEntries(columns.map((c, i) => [c.name, vectors[i]]))), "stream");
}

// (`as never`: makeData's overloads go by Arrow type, which is known here only at run time.)
function columnData(arrow: DataType, type: ColumnType, length: number, column: ColumnBuffers) {
  const props = { type: arrow, length, nullCount: column.nulls, nullBitmap: column.validity };
  const { buffer, byteOffset } = column.values;
  switch (type) {
    case "int64":
    case "timestamp":
      return makeData({ ...props, data: new BigInt64Array(buffer, byteOffset, length) } as never);
    case "int32":
    case "date":
      return makeData({ ...props, data: new Int32Array(buffer, byteOffset, length) } as never);
    case "double":
      return makeData({ ...props, data: new Float64Array(buffer, byteOffset, length) } as never);
    case "boolean":
      return makeData({ ...props, data: column.values } as never);
    default:
      return makeData({ ...props, data: column.values, valueOffsets: column.offsets } as never);
  }
}

/** Rows as column buffers: typed arrays and validity bitmaps filled from the values. */
function columnBatchOfRows(columns: RowColumn[], batch: RowBatch): ColumnBatch {
  const length = batch.length;
  return {
    rows: length,
    columns: columns.map(({ type }, column) => {
      const validity = new Uint8Array((length + 7) >> 3);
      let nulls = 0;
      for (let r = 0; r < length; r++) {
        if (batch[r][column] === null) nulls++;
        else validity[r >> 3] |= 1 << (r & 7);
      }
      const value = (r: number) => batch[r][column];
      if (type === "int64" || type === "timestamp") {
        const data = new BigInt64Array(length);
        for (let r = 0; r < length; r++) data[r] = (value(r) as bigint | null) ?? 0n;
        return { validity, nulls, values: new Uint8Array(data.buffer) };
      }
      if (type === "int32" || type === "date" || type === "double") {
        const data = type === "double" ? new Float64Array(length) : new Int32Array(length);
        for (let r = 0; r < length; r++) data[r] = (value(r) as number | null) ?? 0;
        return { validity, nulls, values: new Uint8Array(data.buffer) };
      }
      if (type === "boolean") {
        const data = new Uint8Array((length + 7) >> 3);
        for (let r = 0; r < length; r++) if (value(r) === true) data[r >> 3] |= 1 << (r & 7);
        return { validity, nulls, values: data };
      }
      // Strings: measured first, so their UTF-8 goes into one buffer without growing it.
      let size = 0;
      for (let r = 0; r < length; r++) if (value(r) !== null) size += Buffer.byteLength(value(r) as string);
      const data = Buffer.allocUnsafe(size);
      const offsets = new Int32Array(length + 1);
      let at = 0;
      for (let r = 0; r < length; r++) {
        if (value(r) !== null) at += data.write(value(r) as string, at);
        offsets[r + 1] = at;
      }
      return { validity, nulls, values: data, offsets };
    }),
  };
}
