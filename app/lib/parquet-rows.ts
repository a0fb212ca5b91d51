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

// A footer holds a few hundred bytes per row group and column: far less than this for any export.
const TAIL_BYTES = 16 * 1024 * 1024;

/** Counts the rows of a Parquet file fed in chunks, from its footer: it keeps only the file's last bytes. */
export class ParquetRowCounter {
  private chunks: Buffer[] = [];
  private kept = 0;

  update(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.kept += chunk.length;
    while (this.chunks.length > 1 && this.kept - this.chunks[0].length >= TAIL_BYTES) this.kept -= this.chunks.shift()!.length;
  }

  rows(): number {
    return parquetRowCount(Buffer.concat(this.chunks));
  }
}
