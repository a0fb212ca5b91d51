import type { Task } from "graphile-worker";
import { getDb } from "../../db/client";
import { tick } from "../../app/schedules/runner.server";

/** Periodic (every minute): each due schedule gets one run for its latest slot. */
export const schedule_tick: Task = async (_payload, helpers) => {
  const created = await tick(getDb());
  if (created.length) helpers.logger.info(`schedule runs created: ${created.join(", ")}`);
};
