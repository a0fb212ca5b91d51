import { run, type Runner } from "graphile-worker";
import pg from "pg";
import { quietLogger } from "./logger";
import { export_recover } from "./tasks/export_recover";
import { export_retention } from "./tasks/export_retention";
import { export_run } from "./tasks/export_run";
import { schedule_run, schedule_run_advance } from "./tasks/schedule_run";
import { schedule_tick } from "./tasks/schedule_tick";

export const taskList = { export_run, export_retention, export_recover, schedule_tick, schedule_run, schedule_run_advance };

// graphile-worker runs each slot once across all workers.
const crontab = ["*/10 * * * * export_retention", "* * * * * export_recover", "* * * * * schedule_tick"].join("\n");

export interface WorkerHandle {
  runner: Runner;
  stop(): Promise<void>;
}

/**
 * Starts the graphile-worker runner on a pool of our own; signals are the
 * caller's to handle. The pool's error listener keeps a connection the
 * server drops (Ctrl-C reaches PostgreSQL too) from crashing the process.
 */
export async function startWorker(connectionString: string, concurrency = 2): Promise<WorkerHandle> {
  const pgPool = new pg.Pool({ connectionString, max: concurrency + 2 });
  const onError = (error: Error) => console.error(`[worker] connection closed: ${error.message}`);
  pgPool.on("error", onError);
  pgPool.on("connect", (client) => client.on("error", onError));
  const runner = await run({ pgPool, concurrency, taskList, crontab, noHandleSignals: true, pollInterval: 1000, logger: quietLogger });
  return {
    runner,
    async stop() {
      await runner.stop().catch(() => {});
      await pgPool.end().catch(() => {});
    },
  };
}
