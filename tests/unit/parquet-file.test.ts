import { Writable } from "node:stream";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { Compression } from "parquet-wasm/node";
import { describe, expect, it } from "vitest";
import { parquetWriter, writeParquet } from "~/exports/engine/parquet-file.server";
import type { RowBatch, RowColumn, RowValue } from "~/exports/engine/row-files.server";

// The files are read back with hyparquet, a JavaScript reader that shares no code with arrow-rs, the writer.

const COLUMNS: RowColumn[] = [
  { name: "id", type: "int64" },
  { name: "n", type: "int32" },
  { name: "x", type: "double" },
  { name: "flag", type: "boolean" },
  { name: "at", type: "timestamp" },
  { name: "day", type: "date" },
  { name: "name", type: "string" },
  { name: "doc", type: "json" },
];

const NAMES = ["", "plain", "Zoë", "東京", "emoji 🫀", "e\u0301", "tab\there"];

// Every column has nulls, each on different rows; values reach the ends of their types' ranges.
function row(i: number): RowValue[] {
  const values: RowValue[] = [
    BigInt(i) * 3_000_000_000_001n - 2n ** 62n,
    i * 7919 - 1_000_000,
    i / 7 - 100,
    i % 3 === 0,
    -86_400_000_000n + BigInt(i) * 1_000_003n, // from 1969-12-31, to the microsecond
    i - 20_000,
    `${NAMES[i % NAMES.length]} ${i}`,
    `{"i": ${i}, "big": 12345678901234567890, "s": "ü ${i}"}`, // spacing and big numbers kept as written
  ];
  return values.map((v, c) => ((i + c) % 11 === 0 ? null : v));
}

async function* batches(rows: number, size: number): AsyncGenerator<RowBatch> {
  yield []; // an empty batch changes nothing
  // A tiny first batch too: its few bytes of strings come from Node's shared pool, at an offset in its buffer.
  for (let start = 0, n = 3; start < rows; start += n, n = size) {
    yield Array.from({ length: Math.min(n, rows - start) }, (_, k) => row(start + k));
  }
}

function collector(options: { highWaterMark?: number; slow?: boolean } = {}) {
  const chunks: Buffer[] = [];
  let ended = false;
  const out = new Writable({
    highWaterMark: options.highWaterMark,
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      if (options.slow) setTimeout(callback, 1);
      else callback();
    },
    final(callback) {
      ended = true;
      callback();
    },
  });
  // A write while the stream still asks to drain is one the writer should have waited with.
  let writesBeforeDrain = 0;
  const write = out.write.bind(out);
  out.write = ((...args: Parameters<typeof out.write>) => {
    if (out.writableNeedDrain) writesBeforeDrain++;
    return write(...args);
  }) as typeof out.write;
  return { out, bytes: () => Buffer.concat(chunks), ended: () => ended, writes: () => chunks.length, writesBeforeDrain: () => writesBeforeDrain };
}

// Exact values: timestamps as bigint microseconds, dates as day numbers, JSON as its text.
// JSON-annotated columns as their text, not parsed (hyparquet's default), to compare them byte for byte.
const parsers = { timestampFromMicroseconds: (v: bigint) => v, dateFromDays: (v: number) => v, jsonFromBytes: (v?: Uint8Array) => v && new TextDecoder().decode(v) };

async function readRows(bytes: Buffer, compressors?: Parameters<typeof parquetReadObjects>[0]["compressors"]) {
  const file = new Uint8Array(bytes).buffer; // a copy: hyparquet wants a whole ArrayBuffer
  const objects = await parquetReadObjects({ file, parsers, compressors });
  // Back to rows in column order; hyparquet reads a null as undefined.
  return objects.map((o) => COLUMNS.map((c) => (o[c.name] as RowValue | undefined) ?? null));
}

describe("writeParquet", () => {
  it("writes every type, with nulls and exact values, in several row groups", async () => {
    const { out, bytes, ended } = collector();
    const result = await parquetWriter(4096, Compression.SNAPPY)("records", COLUMNS, batches(10_000, 1_500), out);
    expect(result).toEqual({ rows: 10_000 });
    expect(ended()).toBe(true);

    const metadata = parquetMetadata(bytes());
    expect(metadata.num_rows).toBe(10_000n);
    expect(metadata.row_groups.map((g) => g.num_rows)).toEqual([4096n, 4096n, 1808n]);
    expect(metadata.schema.slice(1).map(({ name, type, repetition_type, logical_type }) => ({ name, type, repetition_type, logical_type }))).toEqual([
      { name: "id", type: "INT64", repetition_type: "OPTIONAL", logical_type: undefined },
      { name: "n", type: "INT32", repetition_type: "OPTIONAL", logical_type: undefined },
      { name: "x", type: "DOUBLE", repetition_type: "OPTIONAL", logical_type: undefined },
      { name: "flag", type: "BOOLEAN", repetition_type: "OPTIONAL", logical_type: undefined },
      { name: "at", type: "INT64", repetition_type: "OPTIONAL", logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MICROS" } },
      { name: "day", type: "INT32", repetition_type: "OPTIONAL", logical_type: { type: "DATE" } },
      { name: "name", type: "BYTE_ARRAY", repetition_type: "OPTIONAL", logical_type: { type: "STRING" } },
      // arrow-rs (in parquet-wasm 0.8.0) writes JSON as a string; the footer is rewritten to annotate it.
      { name: "doc", type: "BYTE_ARRAY", repetition_type: "OPTIONAL", logical_type: { type: "JSON" } },
    ]);
    expect(metadata.schema.find((e) => e.name === "doc")?.converted_type).toBe("JSON");
    expect(metadata.schema.find((e) => e.name === "name")?.converted_type).toBe("UTF8");

    const rows = await readRows(bytes());
    expect(rows).toHaveLength(10_000);
    for (let i = 0; i < rows.length; i++) {
      // Compared as text for speed; a mismatch is then reported with its row.
      if (JSON.stringify(rows[i], big) !== JSON.stringify(row(i), big)) expect({ i, row: rows[i] }).toEqual({ i, row: row(i) });
    }
    expect(rows[3][6]).toBe("東京 3");
    expect(rows[4][6]).toBe("emoji 🫀 4");
    expect(rows[0][0]).toBeNull();
    expect(rows[1][0]).toBe(3_000_000_000_001n - 2n ** 62n);
    expect(rows[1][4]).toBe(-86_400_000_000n + 1_000_003n);
  });

  it("compresses with zstd by default", async () => {
    const { out, bytes } = collector();
    await writeParquet("records", COLUMNS, batches(2_000, 500), out);
    const metadata = parquetMetadata(bytes());
    expect(metadata.num_rows).toBe(2_000n);
    expect(new Set(metadata.row_groups.flatMap((g) => g.columns.map((c) => c.meta_data?.codec)))).toEqual(new Set(["ZSTD"]));
  });

  it("gives the same values through zstd", async () => {
    const { out, bytes } = collector();
    await writeParquet("records", COLUMNS, batches(2_000, 500), out);
    const rows = await readRows(bytes(), compressors);
    expect(rows).toEqual(Array.from({ length: 2_000 }, (_, i) => row(i)));
  });

  it("writes a valid file with the schema and no rows", async () => {
    const { out, bytes, ended } = collector();
    expect(await writeParquet("records", COLUMNS, batches(0, 1), out)).toEqual({ rows: 0 });
    expect(ended()).toBe(true);
    const metadata = parquetMetadata(bytes());
    expect(metadata.num_rows).toBe(0n);
    expect(metadata.row_groups).toEqual([]);
    expect(metadata.schema.slice(1).map((e) => [e.name, e.type, e.logical_type?.type])).toEqual([
      ["id", "INT64", undefined], ["n", "INT32", undefined], ["x", "DOUBLE", undefined], ["flag", "BOOLEAN", undefined],
      ["at", "INT64", "TIMESTAMP"], ["day", "INT32", "DATE"], ["name", "BYTE_ARRAY", "STRING"], ["doc", "BYTE_ARRAY", "JSON"],
    ]);
    expect(await readRows(bytes())).toEqual([]);
  });

  it("fails with the error of the rows it was given", async () => {
    async function* failing(): AsyncGenerator<RowBatch> {
      yield [row(1), row(2)];
      throw new Error("COPY broke");
    }
    await expect(writeParquet("records", COLUMNS, failing(), collector().out)).rejects.toThrow("COPY broke");

    // A stream that fails stops the rows' source as well.
    let stopped = false;
    async function* endless(): AsyncGenerator<RowBatch> {
      try {
        for (let i = 0; ; i++) yield [row(i)];
      } finally {
        stopped = true;
      }
    }
    const broken = new Writable({ highWaterMark: 1, write: (_c, _e, callback) => callback(new Error("disk full")) });
    broken.on("error", () => undefined);
    await expect(parquetWriter(16)("records", COLUMNS, endless(), broken)).rejects.toThrow("disk full");
    expect(stopped).toBe(true);
    const wrongType = [[...row(1).slice(0, 7), 42]] as RowBatch;
    await expect(writeParquet("records", COLUMNS, (async function* () { yield wrongType; })(), collector().out)).rejects.toThrow();
  });

  it("waits for a slow stream and still gives it every byte", async () => {
    const fast = collector();
    await parquetWriter(1024, Compression.SNAPPY)("records", COLUMNS, batches(5_000, 700), fast.out);
    const slow = collector({ highWaterMark: 256, slow: true });
    const result = await parquetWriter(1024, Compression.SNAPPY)("records", COLUMNS, batches(5_000, 700), slow.out);
    expect(result.rows).toBe(5_000);
    expect(slow.ended()).toBe(true);
    expect(slow.writes()).toBeGreaterThan(1);
    expect(slow.writesBeforeDrain()).toBe(0);
    expect(slow.bytes().equals(fast.bytes())).toBe(true);
  });
});

function big(_key: string, value: unknown) {
  return typeof value === "bigint" ? `${value}n` : value;
}
