import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { RowBatch, RowColumn, RowFileWriter, RowValue } from "../app/exports/engine/row-files.server";

// Compares Parquet writers on 1,000,000 rows shaped like hsi_records, in batches of 10,000 and row groups of
// 128k rows, each candidate in its own process so the peak RSS printed is that candidate's alone:
//   npx tsx bench/parquet-writers.ts            every candidate, one after another
//   npx tsx bench/parquet-writers.ts <name>     one candidate (what the parent runs)
// The children get the parent's Node flags (node --max-old-space-size=64 --max-semi-space-size=4 ... shows what
// is live rather than what V8 lets grow). tsx itself costs about 35 MB of RSS that the built worker does not
// carry; baseline-no-writer shows the floor: making the rows with no writer at all.
const ROWS = 1_000_000;
const BATCH = 10_000;
const ROW_GROUP = 128 * 1024;

const COLUMNS: RowColumn[] = [
  { name: "id", type: "int64" },
  { name: "project_id", type: "string" },
  { name: "app_id", type: "string" },
  { name: "participant_id", type: "string" },
  { name: "recorded_at", type: "timestamp" },
  { name: "metric", type: "string" },
  { name: "value", type: "double" },
  { name: "unit", type: "string" },
  { name: "payload", type: "json" },
];

const uuid = (i: number) => `${(0x10000000 + i).toString(16)}-4b1e-4c2a-9d3f-${(0x100000000000 + i * 7919).toString(16)}`;
const PROJECTS = [uuid(1), uuid(2), uuid(3)];
const APPS = ["com.example.health", "com.example.sleep", "org.study.steps"];
const METRICS = [["heart_rate", "bpm"], ["steps", "count"], ["spo2", "%"], ["sleep_stage", ""], ["hrv", "ms"]];
const START_US = 1_767_225_600_000_000n; // 2026-01-01T00:00:00Z

async function* rows(): AsyncGenerator<RowBatch> {
  for (let start = 0; start < ROWS; start += BATCH) {
    const batch: RowBatch = [];
    for (let i = start; i < Math.min(ROWS, start + BATCH); i++) {
      const [metric, unit] = METRICS[i % METRICS.length];
      batch.push([
        BigInt(i + 1),
        PROJECTS[i % PROJECTS.length],
        APPS[i % APPS.length],
        `P-${(i % 2000).toString().padStart(5, "0")}`,
        START_US + BigInt(i) * 15_000_000n,
        metric,
        i % 20 === 0 ? null : Math.round(Math.sin(i) * 10_000) / 100,
        unit,
        `{"device": "watch-${i % 50}", "seq": ${i}, "quality": ${(i % 100) / 100}, "source": "sync", "tags": ["a", "b"]}`,
      ]);
    }
    yield batch;
  }
}

/**
 * The candidate not chosen: hyparquet-writer (pure JS). Its ParquetWriter takes a whole row group as column
 * arrays, so the rows are gathered 128k at a time; flush() hands each encoded group to `out`.
 */
async function hyparquetWriter(): Promise<RowFileWriter> {
  const { ByteWriter, ParquetWriter } = await import("hyparquet-writer");
  const ELEMENTS = {
    int64: { type: "INT64" }, int32: { type: "INT32" }, double: { type: "DOUBLE" }, boolean: { type: "BOOLEAN" },
    timestamp: { type: "INT64", converted_type: "TIMESTAMP_MICROS", logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MICROS" } },
    date: { type: "INT32", converted_type: "DATE", logical_type: { type: "DATE" } },
    string: { type: "BYTE_ARRAY", converted_type: "UTF8", logical_type: { type: "STRING" } },
    json: { type: "BYTE_ARRAY", logical_type: { type: "JSON" } }, // converted_type JSON would JSON.stringify the text again
  } as const;
  return async (_dataType, columns, batches, out) => {
    const schema = [{ name: "root", num_children: columns.length }, ...columns.map((c) => ({ name: c.name, repetition_type: "OPTIONAL" as const, ...ELEMENTS[c.type] }))];
    const writer = new ByteWriter(1 << 20) as InstanceType<typeof ByteWriter> & { flush(): Promise<void> };
    writer.flush = writer.finish = async () => {
      const chunk = Buffer.from(new Uint8Array(writer.buffer, 0, writer.index));
      writer.index = 0;
      if (!out.write(chunk)) await once(out, "drain");
    };
    const parquet = new ParquetWriter({ writer, schema, codec: "SNAPPY" });
    const data: RowValue[][] = columns.map(() => new Array(ROW_GROUP));
    let filled = 0;
    let rows = 0;
    const group = async () => {
      await parquet.write({ columnData: columns.map((c, i) => ({ name: c.name, data: data[i].slice(0, filled), statistics: c.type !== "json" })), rowGroupSize: filled });
      filled = 0;
    };
    for await (const batch of batches) {
      for (const row of batch) {
        for (let i = 0; i < row.length; i++) data[i][filled] = row[i];
        rows++;
        if (++filled === ROW_GROUP) await group();
      }
    }
    if (filled > 0) await group();
    await parquet.finish();
    out.end();
    return { rows };
  };
}

// Each candidate is imported only in its own process, so no other candidate's module adds to its RSS.
const CANDIDATES: Record<string, () => Promise<RowFileWriter>> = {
  // What making the rows costs without any writer: the floor the others stand on.
  "baseline-no-writer": async () => async (_d, _c, batches, out) => {
    let rows = 0;
    for await (const batch of batches) rows += batch.length;
    out.end();
    return { rows };
  },
  "hyparquet-writer-snappy": hyparquetWriter,
  "parquet-wasm-snappy": async () => {
    const [{ parquetWriter }, { Compression }] = await Promise.all([import("../app/exports/engine/parquet-file.server"), import("parquet-wasm/node")]);
    return parquetWriter(ROW_GROUP, Compression.SNAPPY);
  },
  "parquet-wasm-zstd": async () => (await import("../app/exports/engine/parquet-file.server")).writeParquet,
};

const benchFile = (pid: number) => join(tmpdir(), `parquet-bench-${pid}.parquet`);

async function runOne(name: string) {
  const file = benchFile(process.pid);
  const write = await CANDIDATES[name]();
  const out = createWriteStream(file);
  const started = performance.now();
  const closed = once(out, "close");
  const { rows: written } = await write("hsi_records", COLUMNS, rows(), out);
  await closed;
  const ms = performance.now() - started;
  const bytes = statSync(file).size;
  rmSync(file);
  // WebAssembly memory only grows: its size at the end is the most the writer held there.
  const wasmMb = name.startsWith("parquet-wasm") ? Math.round((await import("parquet-wasm/node")).wasmMemory().buffer.byteLength / 2 ** 20) : undefined;
  console.log(JSON.stringify({ name, rows: written, ms: Math.round(ms), maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024), wasmMb, bytes }));
}

const [only] = process.argv.slice(2);
if (only) {
  await runOne(only);
} else {
  for (const name of Object.keys(CANDIDATES)) {
    const run = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), name], { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
    process.stdout.write(run.stdout || `{"name":"${name}","failed":"${run.signal ?? `exit ${run.status}`}"}\n`);
    rmSync(benchFile(run.pid), { force: true }); // left behind when a candidate runs out of memory
  }
}
