const UNITS = ["B", "KB", "MB", "GB", "TB"];

/** 1536 → "1.5 KB" (powers of 1024, as file managers show them). */
export function formatBytes(bytes: number | string | null | undefined): string {
  if (bytes === null || bytes === undefined) return "—";
  let value = Number(bytes);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

export function formatCount(n: number | string | null | undefined): string {
  return n === null || n === undefined ? "—" : Number(n).toLocaleString();
}

/** "3 minutes ago", in the browser's language. */
export function formatRelative(date: Date | string, now = Date.now()): string {
  const seconds = Math.round((new Date(date).getTime() - now) / 1000);
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  const steps: [Intl.RelativeTimeFormatUnit, number][] = [["day", 86400], ["hour", 3600], ["minute", 60]];
  for (const [unit, size] of steps) {
    if (Math.abs(seconds) >= size) return rtf.format(Math.round(seconds / size), unit);
  }
  return rtf.format(seconds, "second");
}

export function formatDateTime(date: Date | string | null | undefined): string {
  return date ? new Date(date).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" }) : "—";
}

/** Whole percent of `expected` that `done` is, at most 100; null while the total is not known. */
export function percent(done: number | string, expected: number | string | null): number | null {
  const total = Number(expected ?? 0);
  return total > 0 ? Math.min(100, Math.floor((Number(done) / total) * 100)) : null;
}
