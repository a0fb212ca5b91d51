import type { Task } from "graphile-worker";
import { z } from "zod";
import { runExport } from "../../app/exports/engine/run.server";

const payload = z.object({ exportId: z.uuid() });

/** Job payloads are untrusted: validate, then re-read everything from the database. */
export const export_run: Task = async (raw, helpers) => {
  const { exportId } = payload.parse(raw);
  await runExport(exportId, { mayRetry: helpers.job.attempts < helpers.job.max_attempts });
};
