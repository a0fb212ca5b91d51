import { runOnce } from "graphile-worker";
import pg from "pg";
import { databaseUrl, getDb } from "../../db/client";
import { getStorage } from "../../app/exports/engine/storage.server";
import { taskList } from "../../worker/index";
import { readZip } from "./zip";

/** Runs every queued job with the real worker task list, as a worker process would. */
export async function runQueuedJobs(): Promise<void> {
  await runOnce({ connectionString: databaseUrl(), taskList });
}

export async function exportRow(id: string) {
  return getDb().selectFrom("export").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
}

/** The published archive of a done export, opened. */
export async function openArchive(id: string): Promise<Map<string, Buffer>> {
  const row = await exportRow(id);
  if (row.status !== "done" || !row.archive_key) throw new Error(`export ${id} is ${row.status}: ${row.error}`);
  const chunks: Buffer[] = [];
  for await (const chunk of await getStorage().read(row.archive_key)) chunks.push(chunk as Buffer);
  return readZip(Buffer.concat(chunks));
}

/**
 * Locks a table until the returned function is called. An export that reads it waits inside its
 * snapshot, "running" and holding its worker slot, so a test decides when the worker moves on.
 */
export async function holdTable(table: string): Promise<() => Promise<void>> {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  await client.query("BEGIN");
  await client.query(`LOCK TABLE ${client.escapeIdentifier(table)} IN ACCESS EXCLUSIVE MODE`);
  let released: Promise<void> | undefined;
  return () => (released ??= client.query("ROLLBACK").then(() => client.end()));
}
