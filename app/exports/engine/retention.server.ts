import type { DB } from "../../../db/client";
import { ACTIVE_EXPORT_STATUSES } from "../../../db/schema";
import { recordExportEvent, SYSTEM } from "../../audit/audit.server";
import { retentionConfig } from "../../lib/config.server";
import { getStorage } from "./storage.server";

/**
 * Marks finished exports whose links expired as Expired and deletes their
 * archives, then removes exports older than the history period (with any
 * archive). The audit trail keeps every event.
 */
export async function applyRetention(db: DB, now = new Date()): Promise<{ expired: number; removed: number }> {
  const due = await db.selectFrom("export").selectAll().where("status", "=", "done").where("expires_at", "<=", now).execute();
  let expired = 0;
  for (const exp of due) {
    // Expired first, so no download starts on an archive that is about to go.
    const updated = await db
      .updateTable("export")
      .set({ status: "expired", archive_key: null })
      .where("id", "=", exp.id)
      .where("status", "=", "done")
      .returning("id")
      .executeTakeFirst();
    if (!updated) continue;
    if (exp.archive_key) await getStorage().remove(exp.archive_key);
    await recordExportEvent(db, exp, "expired", SYSTEM);
    expired++;
  }

  const removed = await db
    .deleteFrom("export")
    .where("created_at", "<", new Date(now.getTime() - retentionConfig().historyMs))
    .where("status", "not in", ACTIVE_EXPORT_STATUSES)
    .returning(["id", "archive_key"])
    .execute();
  for (const exp of removed) if (exp.archive_key) await getStorage().remove(exp.archive_key);
  return { expired, removed: removed.length };
}
