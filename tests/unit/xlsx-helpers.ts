import { Writable } from "node:stream";
import { readZip } from "../setup/zip";
import type { RowBatch, RowColumn, RowFileResult, RowFileWriter } from "../../app/exports/engine/row-files.server";

/** Runs a writer over `rows` in batches of `size` into memory; resolves once `out` has finished. */
export async function writeToBuffer(
  writer: RowFileWriter,
  dataType: string,
  columns: RowColumn[],
  rows: RowBatch,
  size = 3,
): Promise<{ bytes: Buffer; result: RowFileResult }> {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _e, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  const finished = new Promise((resolve) => out.on("finish", resolve));
  async function* batches() {
    for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
  }
  const result = await writer(dataType, columns, batches(), out);
  await finished;
  return { bytes: Buffer.concat(chunks), result };
}

/** The text of every entry of a zip, by name without a leading slash. */
export async function unzip(bytes: Buffer): Promise<Map<string, string>> {
  const entries = await readZip(bytes);
  return new Map([...entries].map(([name, content]) => [name.replace(/^\//, ""), content.toString("utf8")]));
}
