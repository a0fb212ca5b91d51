import type { Task } from "graphile-worker";
import { z } from "zod";
import { getDb } from "../../db/client";
import { advanceRun } from "../../app/schedules/runner.server";

const payload = z.object({ runId: z.uuid() });

/** Starts a schedule run (checks its owner, plans its archives, creates the first export). */
export const schedule_run: Task = async (raw) => {
  await advanceRun(getDb(), payload.parse(raw).runId);
};

/** Wakes a run when one of its exports ended: the next archive, delivery, or failure. Same step, idempotent. */
export const schedule_run_advance: Task = async (raw) => {
  await advanceRun(getDb(), payload.parse(raw).runId);
};
