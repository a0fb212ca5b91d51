import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { parquetWriter } from "~/exports/engine/parquet-file.server";
import type { RowBatch } from "~/exports/engine/row-files.server";
import { parquetRowCount } from "~/lib/parquet-rows";

async function parquetFile(rows: number) {
  const chunks: Buffer[] = [];
  const out = new Writable({ write(chunk: Buffer, _e, callback) { chunks.push(chunk); callback(); } });
  async function* batches(): AsyncGenerator<RowBatch> {
    for (let i = 0; i < rows; i += 1000) yield Array.from({ length: Math.min(1000, rows - i) }, (_, k) => [BigInt(i + k), `row ${i + k}`]);
  }
  await parquetWriter(1024)("records", [{ name: "id", type: "int64" }, { name: "name", type: "string" }], batches(), out);
  return Buffer.concat(chunks);
}

describe("parquetRowCount", () => {
  it("reads the row count from a file's footer, given the whole file or just its tail", async () => {
    const file = await parquetFile(2_500);
    expect(parquetRowCount(file)).toBe(2_500);
    const footer = file.readUInt32LE(file.length - 8) + 8;
    expect(parquetRowCount(file.subarray(file.length - footer))).toBe(2_500);
    expect(parquetRowCount(new Uint8Array(file.subarray(file.length - footer - 10)))).toBe(2_500);
  });

  it("counts no rows in an empty file", async () => {
    expect(parquetRowCount(await parquetFile(0))).toBe(0);
  });

  it("says how much tail it needs, and refuses what is not Parquet", async () => {
    const file = await parquetFile(10);
    const footer = file.readUInt32LE(file.length - 8) + 8;
    expect(() => parquetRowCount(file.subarray(file.length - footer + 1))).toThrow(`needs the last ${footer} bytes`);
    expect(() => parquetRowCount(Buffer.from('{"id":1}\n'))).toThrow(/PAR1/);
    expect(() => parquetRowCount(Buffer.alloc(3))).toThrow();
  });
});
