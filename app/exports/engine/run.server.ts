import { createHash, randomUUID } from "node:crypto";
import { pipeline } from "node:stream/promises";
import { ZipArchive } from "archiver";
import type { PoolClient } from "pg";
import { to as copyTo } from "pg-copy-streams";
import { getCopyPool, getDb } from "../../../db/client";
import { ACTIVE_EXPORT_STATUSES, type Export, type ExportManifest, type ManifestFile } from "../../../db/schema";
import { recordExportEvent, SYSTEM } from "../../audit/audit.server";
import { FileStats } from "./file-stats.server";
import { DASHBOARD_FORMAT_VERSION, DASHBOARDS_FORMAT } from "../../api/schemas";
import { dashboardDocument, WIDGET_ORDER } from "../../analytics/dashboards.server";
import { copyStatement, countStatement, DATA_TYPE_SPECS, PSEUDONYM_KEY_SETTING, removedFields, whereClause, type DataType, type ExportTarget } from "./columns.server";
import { getSecret } from "../../lib/secrets.server";
import { retentionConfig } from "../../lib/config.server";
import { getStorage } from "./storage.server";

export const GENERATOR = "exportal/0.1.0";
const TICK_MS = 1000;

/** A failure whose message is fit to show the person who asked for the export. */
export class ExportFailure extends Error {}
/** The export was cancelled while it ran. */
class ExportCancelled extends Error {}

/** Connection losses, shutdowns, serialization failures and deadlocks pass; the job is retried. */
export function isTransient(error: unknown): boolean {
  const code = (error as { code?: string })?.code ?? "";
  return code.startsWith("08") || ["57P01", "57P02", "57P03", "40001", "40P01", "53300", "ECONNREFUSED", "ECONNRESET"].includes(code);
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

function filesOf(exp: Export): { dataType: DataType; format: "ndjson" | "csv" }[] {
  const formats = exp.format === "both" ? (["ndjson", "csv"] as const) : [exp.format];
  return (exp.data_types as DataType[]).flatMap((dataType) => formats.map((format) => ({ dataType, format })));
}

/**
 * Writes the export's archive inside one snapshot, so every file and every
 * count agree to the same moment, and publishes it only when each file's rows
 * equal the snapshot's count. `tick` runs about once a second with the rows
 * done; it throws to stop the export.
 */
async function writeArchive(exp: Export, tick: (rowsDone: number, rowsExpected: number) => Promise<void>) {
  // Each run writes its own key, so a run that lost its export cannot overwrite the archive of the run that took over.
  const key = `exports/${exp.tenant_id}/${exp.id}.${exp.run_id!.slice(0, 8)}.zip`;
  const target: ExportTarget = {
    tenantId: exp.tenant_id,
    organizationId: exp.organization_id,
    scope: exp.scope,
    filters: exp.filters,
    deidentification: exp.deidentification,
  };
  let manifest!: ExportManifest;
  let rowsDone = 0;
  const bytes = await getStorage().put(key, async (out) => {
    await inSnapshot(async (client) => {
      const { rows: [{ snapshot_at }] } = await client.query("SELECT now() AS snapshot_at");
      if (exp.deidentification === "deidentified") {
        // A bind parameter, local to this transaction: the key never appears in SQL text, logs or errors.
        const key = Buffer.from(getSecret("pseudonym"), "utf8").toString("hex");
        await client.query("SELECT set_config($1, $2, true)", [PSEUDONYM_KEY_SETTING, key]);
      }
      const expected = new Map<DataType, number>();
      for (const type of exp.data_types as DataType[]) {
        if (!(type in DATA_TYPE_SPECS)) throw new ExportFailure(`Unknown data type ${type}.`);
        expected.set(type, Number((await client.query(countStatement(type, target))).rows[0].n));
      }
      const files = filesOf(exp);
      const rowsExpected = files.reduce((sum, f) => sum + expected.get(f.dataType)!, 0);
      await tick(0, rowsExpected);

      // ZIP64 end records always; an entry past 4 GiB gets ZIP64 headers from its written size.
      const archive = new ZipArchive({ zlib: { level: 6 }, forceZip64: true });
      const written = pipeline(archive, out);
      written.catch(() => {}); // surfaced below, or by the failure that stopped the export
      const entries: ManifestFile[] = [];
      for (const { dataType, format } of files) {
        const name = `${dataType}.${format}`;
        const stats = new FileStats();
        const copy = client.query(copyTo(copyStatement(dataType, format, target)));
        let stopped: unknown;
        const timer = setInterval(() => {
          // COPY reports its row count only at the end; lines are close enough for progress.
          const linesDone = Math.max(0, stats.rows - (format === "csv" ? 1 : 0));
          tick(rowsDone + linesDone, rowsExpected).catch((error) => {
            stopped = error;
            copy.destroy(error);
          });
        }, TICK_MS);
        try {
          archive.append(stats, { name });
          await pipeline(copy, stats);
        } catch (error) {
          throw stopped ?? error;
        } finally {
          clearInterval(timer);
        }
        if (copy.rowCount !== expected.get(dataType)) {
          throw new Error(`${name}: wrote ${copy.rowCount} rows, the snapshot holds ${expected.get(dataType)}`);
        }
        rowsDone += copy.rowCount;
        entries.push({ name, dataType, format, rows: copy.rowCount, bytes: stats.bytes, sha256: stats.sha256() });
      }
      if (exp.data_types.includes("dashboards")) {
        const { text, rows } = await dashboardsJson(client, target, new Date(snapshot_at));
        if (rows !== expected.get("dashboards")) throw new Error(`dashboards.json: wrote ${rows} dashboards, the snapshot holds ${expected.get("dashboards")}`);
        archive.append(text, { name: "dashboards.json" });
        entries.push({ name: "dashboards.json", dataType: "dashboards", format: "json", rows, bytes: Buffer.byteLength(text), sha256: createHash("sha256").update(text).digest("hex") });
      }
      manifest = {
        exportId: exp.id,
        tenantId: exp.tenant_id,
        scope: exp.scope,
        filters: exp.filters,
        dataTypes: exp.data_types,
        format: exp.format,
        snapshotAt: new Date(snapshot_at).toISOString(),
        generator: GENERATOR,
        files: entries,
        ...(exp.deidentification && { deidentification: deidentificationNote(exp) }),
      };
      archive.append(JSON.stringify(manifest, null, 2) + "\n", { name: "manifest.json" });
      await archive.finalize();
      await written;
    });
  });
  return { key, bytes, manifest, rowsDone };
}

/**
 * The export's dashboards as one structured file, each with its widgets, in
 * the shape "Export dashboard" writes. Dashboards are few and small, so the
 * file is built in memory.
 */
async function dashboardsJson(client: PoolClient, target: ExportTarget, snapshotAt: Date) {
  const { rows: dashboards } = await client.query(
    `SELECT id, name, slug, type, is_default, description, created_at, updated_at FROM dashboard WHERE ${whereClause("dashboards", target)} ORDER BY created_at, id`,
  );
  const { rows: widgets } = await client.query(
    `SELECT id, dashboard_id, type, title, x, y, w, h, visible, config FROM dashboard_widget WHERE ${whereClause("dashboard_widgets", target)} ORDER BY ${WIDGET_ORDER}`,
  );
  const document = {
    format: DASHBOARDS_FORMAT,
    formatVersion: DASHBOARD_FORMAT_VERSION,
    snapshotAt: snapshotAt.toISOString(),
    dashboards: dashboards.map((d) => dashboardDocument(d, widgets.filter((w) => w.dashboard_id === d.id))),
  };
  return { text: JSON.stringify(document, null, 2) + "\n", rows: dashboards.length };
}

/** What the manifest says about a study export's profile; never the key. */
function deidentificationNote(exp: Export): NonNullable<ExportManifest["deidentification"]> {
  const profile = exp.deidentification!;
  const notes = {
    full: "Full data: identifying fields are included.",
    identifiers_removed: "Identifying fields are removed; participant ids and dates are as recorded.",
    deidentified:
      "Identifying fields are removed. participant_id values are keyed pseudonyms: the same participant has the same pseudonym " +
      "in every export of this study and a different one in other studies. All dates and times of a participant are shifted back " +
      "by one secret offset of 0–364 days, fixed for that participant in this study, so intervals between them are kept; " +
      "date ranges were applied to the true dates.",
  };
  return { profile, removedFields: removedFields(exp.data_types as DataType[], profile), note: notes[profile] };
}

export interface RunOptions {
  /** False on the job's last attempt: a transient error then fails the export instead of retrying. */
  mayRetry: boolean;
}

/**
 * Runs one export to the end: claims it, writes and publishes its archive and
 * marks it done, or records a failure a person can act on. An export that is
 * no longer pending or running (cancelled, done) is left alone, so a job that
 * runs twice does no harm. Transient database errors are thrown for
 * graphile-worker to retry while `mayRetry`.
 */
export async function runExport(exportId: string, { mayRetry }: RunOptions = { mayRetry: false }): Promise<void> {
  const db = getDb();
  const runId = randomUUID();
  const exp = await db
    .updateTable("export")
    .set({ status: "running", run_id: runId, started_at: new Date(), heartbeat_at: new Date(), rows_done: 0, error: null })
    .where("id", "=", exportId)
    .where("status", "in", ACTIVE_EXPORT_STATUSES)
    .returningAll()
    .executeTakeFirst();
  if (!exp) return;
  await recordExportEvent(db, exp, "started", SYSTEM);

  // Progress and heartbeat, about once a second. A cancelled export stops
  // here, and so does a run whose export was handed to another worker.
  const tick = async (rowsDone: number, rowsExpected: number) => {
    const updated = await db
      .updateTable("export")
      .set({ rows_done: rowsDone, rows_expected: rowsExpected, heartbeat_at: new Date() })
      .where("id", "=", exportId)
      .where("status", "=", "running")
      .where("run_id", "=", runId)
      .returning("id")
      .executeTakeFirst();
    if (!updated) throw new ExportCancelled();
  };

  try {
    const result = await writeArchive(exp, tick);
    const done = await db
      .updateTable("export")
      .set({
        status: "done",
        rows_done: result.rowsDone,
        rows_expected: result.rowsDone,
        archive_key: result.key,
        archive_bytes: result.bytes,
        manifest: result.manifest,
        finished_at: new Date(),
        expires_at: new Date(Date.now() + retentionConfig().linkTtlMs),
      })
      .where("id", "=", exportId)
      .where("status", "=", "running")
      .where("run_id", "=", runId)
      .returningAll()
      .executeTakeFirst();
    if (done) {
      await recordExportEvent(db, done, "done", SYSTEM, { rows: result.rowsDone, bytes: result.bytes });
    } else {
      // Cancelled, or handed to another run, between the last row and publishing: this archive is no one's.
      await getStorage().remove(result.key);
    }
  } catch (error) {
    if (error instanceof ExportCancelled) return;
    if (isTransient(error) && mayRetry) throw error;
    const message =
      error instanceof ExportFailure
        ? error.message
        : isTransient(error)
          ? "The database was unavailable while the export ran, and retries did not help. Try again in a few minutes."
          : ["EACCES", "EPERM", "ENOSPC", "ENOTDIR", "EROFS"].includes((error as { code?: string })?.code ?? "")
            ? "The archive could not be written to storage (no permission or no space left). Ask an administrator to check the archive storage, then try again."
            : "The export could not be completed because of an internal error. Try again; if it fails again, contact support.";
    console.error(`export ${exportId} failed:`, error);
    const failed = await db
      .updateTable("export")
      .set({ status: "failed", error: message, finished_at: new Date() })
      .where("id", "=", exportId)
      .where("status", "=", "running")
      .where("run_id", "=", runId)
      .returningAll()
      .executeTakeFirst();
    if (failed) await recordExportEvent(db, failed, "failed", SYSTEM, { message });
  }
}
