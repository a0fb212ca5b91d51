import { Writable } from "node:stream";
import yauzl from "yauzl";
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
export function unzip(bytes: Buffer): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error);
      const files = new Map<string, string>();
      zip.on("error", reject);
      zip.on("end", () => resolve(files));
      zip.on("entry", (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e);
          const chunks: Buffer[] = [];
          stream.on("data", (c: Buffer) => chunks.push(c));
          stream.on("end", () => {
            files.set(entry.fileName.replace(/^\//, ""), Buffer.concat(chunks).toString("utf8"));
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}
