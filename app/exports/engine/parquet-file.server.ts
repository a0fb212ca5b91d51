import { once } from "node:events";
import type { Writable } from "node:stream";
import type { Schema } from "apache-arrow";
import { Compression, Table, WriterPropertiesBuilder, transformParquetStream, writeParquet as writeParquetTable } from "parquet-wasm/node";
import type { RecordBatch, WriterProperties } from "parquet-wasm/node";
import { arrowSchema, batchToIPC } from "./arrow-batch.server";
import { AnnotatingOutput } from "./parquet-json.server";
import { batchRows, type ColumnBatch } from "./binary-copy.server";
import type { RowBatch, RowColumn, RowFileWriter } from "./row-files.server";

/** The engine hands Parquet column buffers straight from COPY; rows (tests, other callers) work too. */
type ParquetWriter = RowFileWriter<RowBatch | ColumnBatch>;

/** Rows per row group: large enough for good compression and fast scans; arrow-rs holds only its compressed pages. */
export const ROW_GROUP_ROWS = 128 * 1024;

// Pages and dictionaries of 128 KiB instead of arrow-rs's 1 MiB: at 1M rows its WebAssembly memory peaked at
// 19 MB instead of 39 MB, and the file came out a fifth smaller (columns of unique values leave the dictionary sooner).
const PAGE_BYTES = 128 * 1024;

/**
 * The Parquet writer (arrow-rs in WebAssembly, chosen by bench/parquet-writers.ts). Tests pass a small
 * row-group size to get several groups from few rows; the bench passes other codecs.
 */
export function parquetWriter(rowGroupRows = ROW_GROUP_ROWS, compression = Compression.ZSTD): ParquetWriter {
  const properties = () => new WriterPropertiesBuilder()
    .setCompression(compression)
    .setMaxRowGroupSize(rowGroupRows)
    .setDataPageSizeLimit(PAGE_BYTES)
    .setDictionaryPageSizeLimit(PAGE_BYTES)
    .setCreatedBy("exportal")
    .build();

  return async (_dataType, columns, batches, out) => {
    const iterator = batches[Symbol.asyncIterator]();
    try {
      return await write(arrowSchema(columns), columns, iterator, out, properties);
    } catch (error) {
      // Stops the rows' source too (a COPY holding a connection); its own failure adds nothing to ours.
      await Promise.resolve(iterator.return?.()).catch(() => undefined);
      throw error;
    }
  };
}

async function write(schema: Schema, columns: RowColumn[], iterator: AsyncIterator<RowBatch | ColumnBatch>, out: Writable, properties: () => WriterProperties) {
  let rows = 0;
  let first = await nextBatch(iterator);

  const send = async (chunk: Uint8Array) => {
    if (!out.write(chunk)) await once(out, "drain");
  };
  const output = new AnnotatingOutput(send, new Set(columns.filter((c) => c.type === "json").map((c) => c.name)));

  // arrow-rs's stream writer learns the schema from the first batch, so a file of no rows is written whole.
  if (!first) {
    await output.write(writeParquetTable(Table.fromIPCStream(batchToIPC(schema, columns, [])), properties()));
    await output.end();
    out.end();
    return { rows };
  }

  // Each batch goes to arrow-rs when it asks for one and is encoded into the open row group at once: what
  // waits for the row group to end is compressed pages, never the rows. transformParquetStream ends its output
  // normally when its input fails (a short file that looks whole), so the failure is kept and thrown here.
  let failure: { error: unknown } | undefined;
  const input = new ReadableStream<RecordBatch>({
    async pull(controller) {
      try {
        const batch = first ?? await nextBatch(iterator);
        first = undefined;
        if (!batch) return controller.close();
        rows += batchRows(batch);
        const table = Table.fromIPCStream(batchToIPC(schema, columns, batch));
        controller.enqueue(table.recordBatch(0)!);
        table.free();
      } catch (error) {
        failure = { error };
        throw error;
      }
    },
  }, { highWaterMark: 0 });
  const parquet = await transformParquetStream(input, properties());
  for await (const chunk of parquet as unknown as AsyncIterable<Uint8Array>) {
    if (failure) break;
    await output.write(chunk);
  }
  if (failure) throw failure.error;
  await output.end();
  out.end();
  return { rows };
}

/** Writes `dataType`'s rows as one zstd-compressed Parquet file, ROW_GROUP_ROWS rows to a row group. */
export const writeParquet: ParquetWriter = parquetWriter();

// Empty batches are skipped: a record batch of no rows tells arrow-rs nothing.
async function nextBatch(iterator: AsyncIterator<RowBatch | ColumnBatch>): Promise<RowBatch | ColumnBatch | undefined> {
  for (;;) {
    const next = await iterator.next();
    if (next.done) return undefined;
    if (batchRows(next.value) > 0) return next.value;
  }
}
