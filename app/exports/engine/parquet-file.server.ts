// TEMPORARY stub for the lead's own testing; replaced by the helper's writer.
import type { RowFileWriter } from "./row-files.server";
export const writeParquet: RowFileWriter = async (_dataType, columns, batches, out) => {
  let rows = 0;
  for await (const batch of batches) {
    for (const row of batch) {
      const text = JSON.stringify(Object.fromEntries(columns.map((c, i) => [c.name, typeof row[i] === "bigint" ? String(row[i]) : row[i]]))) + "\n";
      if (!out.write(text)) await new Promise((r) => out.once("drain", r));
      rows++;
    }
  }
  out.end();
  return { rows };
};
