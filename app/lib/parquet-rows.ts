import { parquetMetadata } from "hyparquet";

/**
 * The row count a Parquet file's footer states. `tail` is the file's last bytes: at least the footer
 * (its metadata, the metadata's 4-byte little-endian length, then "PAR1"); the whole file will do.
 * Throws when the tail is not a Parquet footer or is too short, saying how many bytes it needs.
 */
export function parquetRowCount(tail: Buffer | Uint8Array): number {
  if (tail.length >= 8) {
    const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
    const needed = view.getUint32(tail.length - 8, true) + 8;
    if (view.getUint32(tail.length - 4, true) === 0x31524150 && needed > tail.length) {
      throw new Error(`Parquet footer needs the last ${needed} bytes, got ${tail.length}`);
    }
  }
  const rows = parquetMetadata(tail).num_rows;
  if (rows < 0n || rows > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`Parquet footer states ${rows} rows`);
  return Number(rows);
}
