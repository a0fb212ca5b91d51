import type { Task } from "graphile-worker";
import { getDb } from "../../db/client";
import { pruneApiState } from "../../app/api/rate-limit.server";
import { applyRetention } from "../../app/exports/engine/retention.server";

/** Periodic: expire old links and their archives, trim export history, forget spent API limits and idempotency keys. */
export const export_retention: Task = async (_payload, helpers) => {
  const { expired, removed } = await applyRetention(getDb());
  if (expired || removed) helpers.logger.info(`retention: ${expired} exports expired, ${removed} removed from history`);
  await pruneApiState(getDb());
};
