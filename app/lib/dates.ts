export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A date from a request as an instant: a date alone (`2026-01-31`) means
 * midnight UTC of that day; a date and time is read as written.
 */
export function utcInstant(value: string): Date {
  return new Date(DATE_ONLY.test(value) ? `${value}T00:00:00Z` : value);
}

/** Whether `value` is a real calendar date written as YYYY-MM-DD (not 2026-02-30). */
export function isCalendarDate(value: string): boolean {
  return DATE_ONLY.test(value) && utcInstant(value).toISOString().startsWith(value);
}
