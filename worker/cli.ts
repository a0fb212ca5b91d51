import { closeDb, databaseUrl } from "../db/client";
import { startWorker } from "./index";

// `npm run worker`: a standalone runner that joins an existing database.
if (!process.env.DATABASE_URL) {
  console.error("npm run worker needs DATABASE_URL: the standalone worker joins the database the portal uses.");
  process.exit(1);
}
const worker = await startWorker(databaseUrl(), Number(process.env.WORKER_CONCURRENCY ?? 2));
console.log("Exportal worker running. Ctrl-C stops it.");
const stop = async () => {
  await worker.stop();
  await closeDb();
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
