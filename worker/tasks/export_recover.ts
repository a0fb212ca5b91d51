import type { Task } from "graphile-worker";
import { getDb } from "../../db/client";
import { recoverStalledExports } from "../../app/exports/engine/recovery.server";

/** Periodic: give exports whose worker died back to the queue. */
export const export_recover: Task = async (_payload, helpers) => {
  const recovered = await recoverStalledExports(getDb());
  if (recovered.length) helpers.logger.info(`requeued stalled exports: ${recovered.join(", ")}`);
};
