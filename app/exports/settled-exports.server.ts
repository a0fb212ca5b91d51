import { notifiedCache } from "../lib/notified-cache.server";
import type { ExportListItem } from "./export-queries.server";

// Finished exports as the API's GET /api/v1/exports/:id reads them, by id, so
// a client polling one costs no round trip. Only exports that no longer run and no schedule made
// (a schedule's name can change) are kept; the triggers of
// db/migrations/20261205_1100_settled_export_invalidation.ts empty the cache
// in every process when one of them or a user's name changes. Entries hold a
// manifest each, hence the small bound.
const cache = notifiedCache<Readonly<ExportListItem>>("settled_exports", { maxEntries: 1_000, maxAgeMs: 60_000 });

export const settledExportsGeneration = (): number => cache.generation();

export const cachedSettledExport = (id: string): Readonly<ExportListItem> | undefined => cache.get(id);

/** Keeps `exp` if it is settled: neither waiting nor running, and made by a person or a key rather than a schedule. */
export function rememberIfSettled(exp: ExportListItem, readGeneration: number): void {
  if (exp.status === "pending" || exp.status === "running" || exp.schedule_run_id !== null) return;
  cache.remember(exp.id, Object.freeze(exp), readGeneration);
}
