import { sql } from "kysely";
import type { DB } from "../../../db/client";
import { leaseConfig } from "../../lib/config.server";
import { enqueueExportRun, exportJob } from "./queue.server";
import { getStorage } from "./storage.server";

/**
 * Hands running exports whose worker stopped renewing their lease (killed, or
 * stuck) for the stale threshold, a minute by default, back to the queue:
 * their job is unlocked, or enqueued again if it is gone. The
 * next run takes the export over with a new run id, so the old run, should
 * it wake, can no longer touch it.
 */
export async function recoverStalledExports(db: DB, now = new Date()): Promise<string[]> {
  const stalled = await db
    .selectFrom("export")
    .select(["id", "tenant_id"])
    .where("status", "=", "running")
    .where("heartbeat_at", "<", new Date(now.getTime() - leaseConfig().staleAfterMs))
    .execute();
  for (const { id, tenant_id } of stalled) {
    await db.transaction().execute(async (trx) => {
      const job = await exportJob(trx, id);
      if (!job) {
        await enqueueExportRun(trx, id);
      } else if (job.locked_by) {
        // That worker is presumed dead: release everything it held.
        await sql`select graphile_worker.force_unlock_workers(array[${job.locked_by}]::text[])`.execute(trx);
      }
      await trx.updateTable("export").set({ heartbeat_at: now }).where("id", "=", id).execute();
    });
    // What the dead run was writing is never published; remove it.
    await getStorage().discardPartials(`exports/${tenant_id}/${id}.`);
  }
  return stalled.map((s) => s.id);
}
