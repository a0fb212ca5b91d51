import type { Task } from "graphile-worker";
import { getDb } from "../../db/client";
import { applyRetention } from "../../app/lib/retention.server";

/** Periodic: expire old links and their archives, and trim export history. */
export const export_retention: Task = async (_payload, helpers) => {
  const { expired, removed } = await applyRetention(getDb());
  if (expired || removed) helpers.logger.info(`retention: ${expired} exports expired, ${removed} removed from history`);
};
