import { createHash } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { FileStats } from "../../app/exports/engine/file-stats.server";

describe("FileStats", () => {
  it("passes bytes through unchanged while counting lines and bytes and hashing them", async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `{"i":${i},"s":"${"x".repeat(i % 50)}"}\n`);
    const stats = new FileStats();
    const out: Buffer[] = [];
    const chunkSizes: number[] = [];
    await pipeline(
      Readable.from(lines.map((l) => Buffer.from(l))),
      stats,
      new Writable({
        write(chunk: Buffer, _e, cb) {
          out.push(chunk);
          chunkSizes.push(chunk.length);
          cb();
        },
      }),
    );
    const expected = Buffer.from(lines.join(""));
    expect(Buffer.concat(out).equals(expected)).toBe(true);
    expect(stats.rows).toBe(20_000);
    expect(stats.bytes).toBe(expected.length);
    expect(stats.sha256()).toBe(createHash("sha256").update(expected).digest("hex"));
    // Per-row buffers are regrouped into large chunks before they reach the zip.
    expect(Math.min(...chunkSizes.slice(0, -1))).toBeGreaterThanOrEqual(128 * 1024);
  });
});
