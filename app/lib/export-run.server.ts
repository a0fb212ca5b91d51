import { pipeline } from "node:stream/promises";
import { ZipArchive } from "archiver";
import type { PoolClient } from "pg";
import { to as copyTo } from "pg-copy-streams";
import { getCopyPool, getDb } from "../../db/client";
import type { Export, ExportManifest, ManifestFile } from "../../db/schema";
import { FileStats } from "./export-archive.server";
import { getStorage } from "./storage.server";

export const GENERATOR = "exportal/0.1.0";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The columns that leave the database, per data type, as NDJSON objects.
 * A column is exported only once someone adds it here on purpose.
 */
const NDJSON_SELECT: Record<string, { table: string; object: string; order: string }> = {
  hsi_records: {
    table: "hsi_record",
    object: `json_build_object('id', id, 'project_id', project_id, 'app_id', app_id, 'participant_id', participant_id,
      'recorded_at', recorded_at, 'metric', metric, 'value', value, 'unit', unit, 'payload', payload)`,
    order: "recorded_at, id",
  },
};

/** A failure whose message is fit to show the person who asked for the export. */
export class ExportFailure extends Error {}

function ndjsonCopy(dataType: string, tenantId: string): string {
  const spec = NDJSON_SELECT[dataType];
  if (!spec || !UUID.test(tenantId)) throw new ExportFailure(`Unknown data type ${dataType}.`);
  // COPY takes no bind parameters; the tenant id is a validated UUID literal.
  // CSV with quote and delimiter bytes that JSON text never holds copies each
  // JSON object verbatim, one per line.
  return `COPY (SELECT ${spec.object}::text FROM ${spec.table} WHERE tenant_id = '${tenantId}' ORDER BY ${spec.order})
    TO STDOUT WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')`;
}

async function countRows(client: PoolClient, dataType: string, tenantId: string): Promise<number> {
  const spec = NDJSON_SELECT[dataType];
  const { rows } = await client.query(`SELECT count(*)::bigint AS n FROM ${spec.table} WHERE tenant_id = $1`, [tenantId]);
  return Number(rows[0].n);
}

/** Runs `work` inside one REPEATABLE READ READ ONLY transaction: every query sees the same snapshot. */
async function inSnapshot<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await getCopyPool().connect();
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const result = await work(client);
    await client.query("COMMIT");
    client.release();
    return result;
  } catch (error) {
    // The connection may be mid-COPY; drop it rather than return it to the pool.
    client.release(error as Error);
    throw error;
  }
}

/**
 * Writes the export's archive inside one REPEATABLE READ snapshot, so every
 * file and the counts agree to the same moment, and publishes it only after
 * each file's line count matched the snapshot's row count.
 */
async function writeArchive(exp: Export, onProgress: (rowsDone: number, rowsExpected: number) => void) {
  const key = `exports/${exp.tenant_id}/${exp.id}.zip`;
  let manifest: ExportManifest | undefined;
  let rowsDone = 0;
  const bytes = await getStorage().put(key, async (out) => {
    await inSnapshot(async (client) => {
      const { rows: [{ snapshot_at }] } = await client.query("SELECT now() AS snapshot_at");
      const expected = new Map<string, number>();
      for (const type of exp.data_types) expected.set(type, await countRows(client, type, exp.tenant_id));
      const rowsExpected = [...expected.values()].reduce((a, b) => a + b, 0);
      onProgress(0, rowsExpected);

      const archive = new ZipArchive({ zlib: { level: 6 } });
      const written = pipeline(archive, out);
      const files: ManifestFile[] = [];
      for (const type of exp.data_types) {
        const stats = new FileStats();
        const name = `${type}.ndjson`;
        const progress = setInterval(() => onProgress(rowsDone + stats.rows, rowsExpected), 1000);
        try {
          archive.append(stats, { name });
          await pipeline(client.query(copyTo(ndjsonCopy(type, exp.tenant_id))), stats);
        } finally {
          clearInterval(progress);
        }
        if (stats.rows !== expected.get(type)) {
          throw new Error(`${name}: wrote ${stats.rows} rows, snapshot holds ${expected.get(type)}`);
        }
        rowsDone += stats.rows;
        files.push({ name, dataType: type, format: "ndjson", rows: stats.rows, bytes: stats.bytes, sha256: stats.sha256() });
      }
      manifest = {
        exportId: exp.id,
        tenantId: exp.tenant_id,
        scope: exp.scope,
        dataTypes: exp.data_types,
        format: exp.format,
        snapshotAt: new Date(snapshot_at).toISOString(),
        generator: GENERATOR,
        files,
      };
      archive.append(JSON.stringify(manifest, null, 2) + "\n", { name: "manifest.json" });
      await archive.finalize();
      await written;
    });
  });
  return { key, bytes, manifest: manifest!, rowsDone };
}

/**
 * Runs one export to the end: claims it, writes and publishes its archive and
 * marks it done, or records a failure a person can act on. An export that is
 * no longer pending or running (cancelled, done) is left alone, so a job that
 * runs twice does no harm.
 */
export async function runExport(exportId: string): Promise<void> {
  const db = getDb();
  const exp = await db
    .updateTable("export")
    .set({ status: "running", started_at: new Date(), rows_done: 0, error: null })
    .where("id", "=", exportId)
    .where("status", "in", ["pending", "running"])
    .returningAll()
    .executeTakeFirst();
  if (!exp) return;

  let progressWrite = Promise.resolve();
  const onProgress = (rowsDone: number, rowsExpected: number) => {
    progressWrite = progressWrite.then(async () => {
      await db.updateTable("export").set({ rows_done: rowsDone, rows_expected: rowsExpected })
        .where("id", "=", exportId).where("status", "=", "running").execute();
    });
  };

  try {
    const result = await writeArchive(exp, onProgress);
    await progressWrite;
    await db
      .updateTable("export")
      .set({
        status: "done",
        rows_done: result.rowsDone,
        rows_expected: result.rowsDone,
        archive_key: result.key,
        archive_bytes: result.bytes,
        manifest: JSON.stringify(result.manifest),
        finished_at: new Date(),
      })
      .where("id", "=", exportId)
      .where("status", "=", "running")
      .execute();
  } catch (error) {
    await progressWrite.catch(() => {});
    const message = error instanceof ExportFailure
      ? error.message
      : "The export could not be completed because of an internal error. Try again; if it fails again, contact support.";
    console.error(`export ${exportId} failed:`, error);
    await db
      .updateTable("export")
      .set({ status: "failed", error: message, finished_at: new Date() })
      .where("id", "=", exportId)
      .where("status", "=", "running")
      .execute();
  }
}
