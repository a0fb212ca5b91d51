import { DAY_MS } from "../../app/lib/dates";

/**
 * A UTC calendar day as YYYY-MM-DD, `offset` days from today: `day(-30)` is 30 days ago, `day(400)` lies
 * after everything seeded. The seed writes its rows over the days before it ran, so tests pick their
 * dates the same way and keep meaning the same thing whatever year they run in.
 */
export function day(offset: number): string {
  return new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS + offset * DAY_MS).toISOString().slice(0, 10);
}

/** The first day of a UTC month as YYYY-MM-DD, `offset` months from this one: `monthStart(1)` is next month's. */
export function monthStart(offset: number): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1)).toISOString().slice(0, 10);
}
