const NEWLINE = 0x0a;
const QUOTE = 0x22;

/**
 * Counts records of a CSV file fed in chunks. A quoted field may hold
 * newlines, so a newline ends a record only outside quotes; a doubled quote
 * inside a quoted field toggles twice, which leaves the state as it was.
 */
export class CsvRecordCounter {
  private records = 0;
  private inQuotes = false;
  private last = NEWLINE;

  update(chunk: Buffer): void {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte === QUOTE) this.inQuotes = !this.inQuotes;
      else if (byte === NEWLINE && !this.inQuotes) this.records++;
    }
    if (chunk.length > 0) this.last = chunk[chunk.length - 1];
  }

  /** Records after the header line (a last record without its newline counts too). */
  rows(): number {
    const records = this.records + (this.last !== NEWLINE ? 1 : 0);
    return Math.max(0, records - 1);
  }
}

/** Counts the lines of an NDJSON file fed in chunks: JSON escapes newlines, so each line is one record. */
export class LineCounter {
  private lines = 0;
  private last = NEWLINE;

  update(chunk: Buffer): void {
    for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, i + 1)) this.lines++;
    if (chunk.length > 0) this.last = chunk[chunk.length - 1];
  }

  rows(): number {
    return this.lines + (this.last !== NEWLINE ? 1 : 0);
  }
}
