import { createHash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";

const CHUNK = 128 * 1024;
const NEWLINE = 0x0a;

/**
 * Passes a COPY stream through while counting its lines and bytes and hashing
 * it. postgres.js yields one small buffer per row; regrouping them into
 * 128 KiB chunks keeps the zip's per-chunk overhead off the hot path.
 */
export class FileStats extends Transform {
  rows = 0;
  bytes = 0;
  private hash = createHash("sha256");
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= CHUNK) this.flushPending();
    callback();
  }

  _flush(callback: TransformCallback): void {
    this.flushPending();
    callback();
  }

  private flushPending(): void {
    if (this.pendingBytes === 0) return;
    const buffer = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.hash.update(buffer);
    this.bytes += buffer.length;
    for (let i = buffer.indexOf(NEWLINE); i !== -1; i = buffer.indexOf(NEWLINE, i + 1)) this.rows++;
    this.push(buffer);
  }

  /** The hex SHA-256 of everything that passed; call once, after the stream ended. */
  sha256(): string {
    return this.hash.digest("hex");
  }
}
