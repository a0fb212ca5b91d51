import type { DB } from "../../db/client";
import type { ExportScheduleRun } from "../../db/schema";
import type { Requester } from "../auth/requester";
import { AppError } from "../lib/errors";

// PLACEHOLDER until the schedule-runner branch lands: the signatures the pages and the API call.

/** Runs a schedule now, outside its cadence, for the interval from its previous slot to now (data.exports.schedule). */
export async function runNow(_db: DB, _requester: Requester, _scheduleId: string): Promise<ExportScheduleRun> {
  throw new AppError("INTERNAL", "not built yet");
}

/** Runs a failed run's slot again, as a new run of kind "retry" (data.exports.schedule). */
export async function retryRun(_db: DB, _requester: Requester, _runId: string): Promise<ExportScheduleRun> {
  throw new AppError("INTERNAL", "not built yet");
}

/** Queues one run per period of the schedule's cadence in [from, to), behind live runs (data.exports.schedule). */
export async function startBackfill(_db: DB, _requester: Requester, _scheduleId: string, _range: { from: string; to: string }): Promise<{ backfillId: string; runs: number }> {
  throw new AppError("INTERNAL", "not built yet");
}

/** One run with its exports (one per archive variant) and their statuses (data.exports.read). */
export async function getRun(_db: DB, _requester: Requester, _runId: string): Promise<ExportScheduleRun & { exports: { id: string; status: string; deidentification: string | null }[] }> {
  throw new AppError("NOT_FOUND", "No such run.");
}
