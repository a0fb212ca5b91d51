/** No estimate before an export has run this long: its first seconds say little about its rate. */
export const ESTIMATE_AFTER_MS = 5_000;

interface RunningExport {
  status: string;
  started_at: Date | string | null;
  rows_done: number | string;
  rows_expected: number | string | null;
}

/**
 * Seconds until a running export is done if it keeps its average rate since
 * it started (records done per second, the counting phase included), or null
 * while there is nothing to go on: before five seconds, before the first
 * record, before the total is known, or once it no longer runs.
 */
export function estimatedSecondsLeft(exp: RunningExport, now = new Date()): number | null {
  if (exp.status !== "running" || !exp.started_at || exp.rows_expected === null) return null;
  const elapsedMs = now.getTime() - new Date(exp.started_at).getTime();
  const done = Number(exp.rows_done);
  if (elapsedMs < ESTIMATE_AFTER_MS || done <= 0) return null;
  const left = Math.max(0, Number(exp.rows_expected) - done);
  return Math.round((left * elapsedMs) / done / 1000);
}

/** 130 → "about 2 minutes left": rounded, since it is an estimate. */
export function timeLeftLabel(seconds: number): string {
  if (seconds < 10) return "a few seconds left";
  if (seconds < 55) return `about ${Math.round(seconds / 10) * 10} seconds left`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return minutes === 1 ? "about a minute left" : `about ${minutes} minutes left`;
  return `about ${Math.round(minutes / 60)} hours left`;
}
