import { run, type Runner } from "graphile-worker";
import { quietLogger } from "../db/migrate";
import { export_run } from "./tasks/export_run";

export const taskList = { export_run };

/** Starts the graphile-worker runner; signals are the caller's to handle. */
export function startWorker(connectionString: string, concurrency = 2): Promise<Runner> {
  return run({ connectionString, concurrency, taskList, noHandleSignals: true, pollInterval: 1000, logger: quietLogger });
}

