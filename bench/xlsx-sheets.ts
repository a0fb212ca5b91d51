import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { RowBatch, RowColumn } from "../app/exports/engine/row-files.server";
import { writeXlsx } from "../app/exports/engine/xlsx-file.server";
import { xlsxSheetRows } from "../app/lib/xlsx-rows";

// `npx tsx bench/xlsx-sheets.ts [--rows 1100000]`: writes one workbook of 9
// columns past Excel's row limit, so its rows continue on a second sheet, and
// prints the wall time, the peak memory and the sheets; then counts the rows
// back as the verifier will.
const { values } = parseArgs({ options: { rows: { type: "string", default: "1100000" } } });
const total = Number(values.rows);

const columns: RowColumn[] = [
  { name: "id", type: "int64" },
  { name: "seq", type: "int32" },
  { name: "value", type: "double" },
  { name: "valid", type: "boolean" },
  { name: "recorded_at", type: "timestamp" },
  { name: "day", type: "date" },
  { name: "participant", type: "string" },
  { name: "note", type: "string" },
  { name: "data", type: "json" },
];

const start = BigInt(Date.UTC(2026, 0, 1)) * 1000n;
async function* batches(): AsyncIterable<RowBatch> {
  for (let i = 0; i < total; i += 1000) {
    const batch: RowBatch = [];
    for (let j = i; j < Math.min(total, i + 1000); j++) {
      batch.push([
        BigInt(j) + 10_000_000_000n,
        j,
        Math.sin(j) * 1000,
        j % 7 !== 0,
        start + BigInt(j) * 1_234_567n,
        20_454 + (j % 365),
        `P-${(j % 5000).toString().padStart(5, "0")}`,
        j % 10 === 0 ? null : `note ${j} ${"abc".repeat(j % 8)}`,
        `{"step":${j},"tags":["a","b"],"ok":${j % 2 === 0}}`,
      ]);
    }
    yield batch;
  }
}

const dir = mkdtempSync(path.join(os.tmpdir(), "exportal-xlsx-bench-"));
try {
  const file = path.join(dir, "bench.xlsx");
  // Node with tsx and exceljs loaded holds about 100 MB before a row is written.
  console.log(`RSS before writing ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MB`);
  const began = performance.now();
  const result = await writeXlsx("bench_rows", columns, batches(), createWriteStream(file));
  const seconds = (performance.now() - began) / 1000;
  const peakMb = process.resourceUsage().maxRSS / 1024;
  console.log(`rows ${result.rows.toLocaleString("en-US")} in ${seconds.toFixed(1)} s (${Math.round(result.rows / seconds).toLocaleString("en-US")} rows/s)`);
  console.log(`peak RSS while writing ${peakMb.toFixed(0)} MB`);
  console.log(`file ${(statSync(file).size / 1024 / 1024).toFixed(1)} MB`);
  console.log("sheets", result.sheets);
  // Counting needs the whole file in memory, so it comes after the peak was read.
  const countStart = performance.now();
  const counted = await xlsxSheetRows(readFileSync(file));
  console.log(`counted back in ${((performance.now() - countStart) / 1000).toFixed(1)} s`, counted);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
