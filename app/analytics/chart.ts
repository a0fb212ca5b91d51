// The arithmetic of the portal's line charts, apart from their drawing so it
// can be tested: round axis ticks, and mapping values onto pixels.

/** A step of 1, 2, 2.5 or 5 times a power of ten giving about `count` intervals over `span`. */
export function niceStep(span: number, count: number): number {
  if (!(span > 0)) return 1;
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].find((m) => m * power >= raw)!;
  return step * power;
}

/**
 * Axis ticks covering [min, max], on round numbers. A flat series gets a band
 * around its value, so its line sits mid-chart rather than on an edge.
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const step = niceStep(max - min, count);
  const first = Math.floor(min / step) * step;
  const last = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  // Rounded to the step's decimals, so 0.1 + 0.2 prints as 0.3.
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  for (let v = first; v <= last + step / 2; v += step) ticks.push(Number(v.toFixed(decimals)));
  return ticks;
}

/** A linear map from `domain` onto `range`; a zero-width domain maps to the range's middle. */
export function linearScale([d0, d1]: [number, number], [r0, r1]: [number, number]): (value: number) => number {
  if (d1 === d0) return () => (r0 + r1) / 2;
  return (value) => r0 + ((value - d0) / (d1 - d0)) * (r1 - r0);
}

/** `count` instants spread evenly from `from` to `to`, both included. */
export function timeTicks(from: number, to: number, count = 6): number[] {
  if (to <= from || count < 2) return [from];
  return Array.from({ length: count }, (_, i) => Math.round(from + ((to - from) * i) / (count - 1)));
}

/** Numbers as axis labels: 1,250 / 12.5K / 3.4M, at most two decimals. */
export function formatValue(value: number): string {
  const compact = Math.abs(value) >= 10_000;
  return new Intl.NumberFormat("en-US", { notation: compact ? "compact" : "standard", maximumFractionDigits: compact ? 1 : 2 }).format(value);
}

/** A date as an axis label, in UTC so server and browser agree: "Mar 4", or "Mar 2026" over long spans. */
export function formatDay(ms: number, spanDays: number): string {
  const options: Intl.DateTimeFormatOptions = spanDays > 180 ? { month: "short", year: "numeric" } : { month: "short", day: "numeric" };
  return new Date(ms).toLocaleDateString("en-US", { ...options, timeZone: "UTC" });
}
