import type { DB } from "../../db/client";
import type { ExportScheduleRun } from "../../db/schema";
import { authorize, type Requester } from "../auth/requester";

/** Each schedule's newest run (by when it was made), for the schedules list; scoped to the requester's tenant. */
export async function lastRuns(db: DB, requester: Requester, scheduleIds: string[]): Promise<Map<string, ExportScheduleRun>> {
  authorize(requester, "data.exports.read");
  if (scheduleIds.length === 0) return new Map();
  const runs = await db
    .selectFrom("export_schedule_run")
    .selectAll()
    .distinctOn("schedule_id")
    .where("tenant_id", "=", requester.tenantId)
    .where("schedule_id", "in", scheduleIds)
    .orderBy("schedule_id")
    .orderBy("created_at", "desc")
    .execute();
  return new Map(runs.map((r) => [r.schedule_id, r]));
}

/** The exports these runs made (one per archive variant), by run; scoped to the requester's tenant. */
export async function runExports(db: DB, requester: Requester, runIds: string[]): Promise<Record<string, { id: string; status: string; deidentification: string | null }[]>> {
  authorize(requester, "data.exports.read");
  if (runIds.length === 0) return {};
  const rows = await db
    .selectFrom("export")
    .select(["id", "status", "deidentification", "schedule_run_id"])
    .where("tenant_id", "=", requester.tenantId)
    .where("schedule_run_id", "in", runIds)
    .orderBy("created_at")
    .execute();
  const byRun: Record<string, { id: string; status: string; deidentification: string | null }[]> = {};
  for (const { schedule_run_id, ...e } of rows) (byRun[schedule_run_id!] ??= []).push(e);
  return byRun;
}
