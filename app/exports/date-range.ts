import type { ExportFilters } from "../../db/schema";
import { DAY_MS, utcInstant } from "../lib/dates";
import { invalid } from "../lib/validation";
import type { ValidExportRequest } from "./export-request";

const PRESET_DAYS: Record<string, number> = { last_7_days: 7, last_30_days: 30, last_90_days: 90, last_year: 365 };

/** Resolves a preset to dates at request time; explicit dates win over a preset. `to` is exclusive. */
export function resolveDateRange(range: ValidExportRequest["dateRange"], now = new Date()): ExportFilters {
  const filters: ExportFilters = {};
  if (range.preset) {
    filters.preset = range.preset;
    const days = PRESET_DAYS[range.preset];
    if (days) filters.from = new Date(now.getTime() - days * DAY_MS).toISOString();
  }
  if (range.from) filters.from = utcInstant(range.from).toISOString();
  if (range.to) filters.to = utcInstant(range.to).toISOString();
  if (filters.from && filters.to && filters.from >= filters.to) {
    throw invalid("dateRange.to", "“To” must be after “From” (From is included, To is not).");
  }
  return filters;
}
