import path from "node:path";
import { DAY_MS, HOUR_MS } from "./dates";

/** The data directory: archives, secrets and the embedded database live under it. */
export function dataDir(): string {
  return path.resolve(process.env.EXPORTAL_DATA_DIR ?? ".data");
}

function positiveNumber(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/** How long links and history live; both configurable. */
export function retentionConfig() {
  return {
    /** Download links work this long after an export finishes; then the archive is deleted. */
    linkTtlMs: positiveNumber("EXPORTAL_LINK_TTL_HOURS", 24) * HOUR_MS,
    /** Exports older than this leave the history (their audit events stay). */
    historyMs: positiveNumber("EXPORTAL_HISTORY_DAYS", 30) * DAY_MS,
  };
}

/**
 * The export lease: a running export whose heartbeat is older than
 * `staleAfterMs` lost its worker and is handed to another run; a live run
 * renews its heartbeat every `renewEveryMs`, well within that.
 */
export function leaseConfig() {
  const staleAfterMs = positiveNumber("EXPORTAL_STALE_AFTER_SECONDS", 60) * 1000;
  return { staleAfterMs, renewEveryMs: Math.min(10_000, staleAfterMs / 6) };
}
