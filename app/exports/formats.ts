import type { FileFormat } from "../../db/schema";

/**
 * The file formats an export can hold, in the order the archive lists them.
 * A request names one, several, or `both` (NDJSON + CSV, what clients sent
 * before there were more than two).
 */
export const FILE_FORMATS = ["ndjson", "csv", "parquet", "xlsx"] as const satisfies readonly FileFormat[];
export type { FileFormat };

const LABELS: Record<FileFormat, string> = { ndjson: "NDJSON", csv: "CSV", parquet: "Parquet", xlsx: "Excel" };

/** Formats as asked (a name, `both`, or a list) as the set an export holds, in archive order. */
export function formatsOf(asked: string | readonly string[]): FileFormat[] {
  const names = typeof asked === "string" ? (asked === "both" ? ["ndjson", "csv"] : [asked]) : asked;
  return FILE_FORMATS.filter((format) => names.includes(format));
}

/**
 * The single-value `format` older clients read: the format's name, `both` for
 * NDJSON + CSV, and for any other set the list itself.
 */
export function legacyFormat(formats: readonly FileFormat[]): FileFormat | "both" | FileFormat[] {
  if (formats.length === 1) return formats[0];
  if (formats.length === 2 && formats.includes("ndjson") && formats.includes("csv")) return "both";
  return [...formats];
}

/** `NDJSON + CSV + Parquet`. */
export function formatsLabel(asked: string | readonly string[]): string {
  return formatsOf(asked).map((format) => LABELS[format]).join(" + ");
}
