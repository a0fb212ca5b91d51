import { createHash } from "node:crypto";
import type { Readable, Writable } from "node:stream";
import { finished, pipeline } from "node:stream/promises";
import { ZipArchive } from "archiver";
import type { PoolClient } from "pg";
import { to as copyTo, type CopyToStreamQuery } from "pg-copy-streams";
import type { Export, ExportManifest, ManifestFile } from "../../../db/schema";
import { dashboardDocument, WIDGET_ORDER } from "../../analytics/dashboards.server";
import { DASHBOARD_FORMAT_VERSION, DASHBOARDS_FORMAT } from "../../api/schemas";
import { getSecret } from "../../lib/secrets.server";
import { DATA_TYPE_SPECS, withoutSecretKeys, type DataType } from "./columns.server";
import type { FileFormat } from "../formats";
import { batchRows, binaryRows, columnBatches, columnsOf, type ColumnBatch } from "./binary-copy.server";
import { ExportFailure } from "./export-failure.server";
import { copyStatement, countStatement, rowsStatement, PSEUDONYM_KEY_SETTING, whereClause, type ExportTarget } from "./statements.server";
import { FileStats } from "./file-stats.server";
import { manifestPublicKey, signManifestBytes } from "./manifest-key.server";
import { manifestOf } from "./manifest.server";
import type { RowBatch, RowColumn, RowFileResult, RowFileWriter } from "./row-files.server";
import { inSnapshot } from "./snapshot.server";
import { getStorage } from "./storage.server";

const TICK_MS = 1000;

/** Called about once a second with the records written so far; throws to stop the export. */
export type Progress = (rowsDone: number, rowsExpected: number) => Promise<void>;

type ExportFile = { dataType: DataType; format: FileFormat };

type Batch = RowBatch | ColumnBatch;
/** A typed format: how the COPY's rows are decoded for it, and its writer. */
interface TypedFormat {
  batches: (copy: Readable, columns: RowColumn[], oids: number[]) => AsyncIterable<Batch>;
  write: RowFileWriter<Batch>;
}

/**
 * The formats whose files are typed rows (COPY BINARY); NDJSON and CSV are rendered by PostgreSQL. Parquet
 * takes column buffers copied straight from the COPY bytes, Excel JavaScript values for its cells. Loaded
 * when first used: a worker that never writes them keeps WebAssembly and exceljs out of memory.
 */
const TYPED_FORMATS: Partial<Record<FileFormat, () => Promise<TypedFormat>>> = {
  parquet: async () => ({ batches: columnBatches, write: (await import("./parquet-file.server")).writeParquet }),
  xlsx: async () => ({ batches: (copy, _columns, oids) => binaryRows(copy, oids), write: (await import("./xlsx-file.server")).writeXlsx as RowFileWriter<Batch> }),
};

function filesOf(exp: Export): ExportFile[] {
  return (exp.data_types as DataType[]).flatMap((dataType) => exp.formats.map((format) => ({ dataType, format })));
}

function targetOf(exp: Export): ExportTarget {
  return {
    tenantId: exp.tenant_id,
    organizationId: exp.organization_id,
    scope: exp.scope,
    filters: exp.filters,
    deidentification: exp.deidentification,
    sinceSnapshot: exp.since_snapshot,
  };
}

/** A bind parameter, local to this transaction: the key never appears in SQL text, logs or errors. */
async function setPseudonymKey(client: PoolClient): Promise<void> {
  const key = Buffer.from(getSecret("pseudonym"), "utf8").toString("hex");
  await client.query("SELECT set_config($1, $2, true)", [PSEUDONYM_KEY_SETTING, key]);
}

/** How many rows each data type holds in the snapshot: what every file is checked against. */
async function countRows(client: PoolClient, exp: Export, target: ExportTarget): Promise<Map<DataType, number>> {
  const expected = new Map<DataType, number>();
  for (const type of exp.data_types as DataType[]) {
    if (!(type in DATA_TYPE_SPECS)) throw new ExportFailure(`Unknown data type ${type}.`);
    expected.set(type, Number((await client.query(countStatement(type, target))).rows[0].n));
  }
  return expected;
}

/**
 * Streams one file from COPY into the zip, reporting its lines as progress
 * (COPY reports its row count only at the end), and checks that it wrote
 * exactly the rows the snapshot holds.
 */
async function copyFile(client: PoolClient, archive: ZipArchive, file: ExportFile & { format: "ndjson" | "csv" }, target: ExportTarget, expected: number, progress: (lines: number) => Promise<void>, signal: AbortSignal): Promise<ManifestFile> {
  const name = `${file.dataType}.${file.format}`;
  const stats = new FileStats();
  const copy = client.query(copyTo(copyStatement(file.dataType, file.format, target)));
  const counted = rowCountOf(copy);
  let stopped: unknown;
  const timer = setInterval(() => {
    const linesDone = Math.max(0, stats.rows - (file.format === "csv" ? 1 : 0));
    progress(linesDone).catch((error) => {
      stopped = error;
      copy.destroy(error);
    });
  }, TICK_MS);
  try {
    archive.append(stats, { name });
    await pipeline(copy, stats, { signal });
  } catch (error) {
    throw stopped ?? (signal.aborted ? signal.reason : error);
  } finally {
    clearInterval(timer);
  }
  const rows = await counted;
  if (rows !== expected) throw new Error(`${name}: wrote ${rows} rows, the snapshot holds ${expected}`);
  return { name, dataType: file.dataType, format: file.format, rows, bytes: stats.bytes, sha256: stats.sha256() };
}

/**
 * Writes one typed file (Parquet, Excel): the data type's rows read with COPY
 * in binary format, decoded into batches and handed to the format's writer.
 * The file is stored in the zip as it is, being compressed already.
 */
async function rowFile(client: PoolClient, archive: ZipArchive, file: ExportFile, format: TypedFormat, target: ExportTarget, expected: number, progress: (rows: number) => Promise<void>, signal: AbortSignal): Promise<ManifestFile> {
  const name = `${file.dataType}.${file.format}`;
  const select = rowsStatement(file.dataType, target);
  // PostgreSQL describes the result's types; LIMIT 0 plans the statement without reading a row.
  const { columns, oids } = columnsOf((await client.query(`SELECT * FROM (${select}) AS q LIMIT 0`)).fields);
  const stats = new FileStats();
  const copy = client.query(copyTo(`COPY (${select}) TO STDOUT WITH (FORMAT binary)`));
  const counted = rowCountOf(copy);
  let rowsRead = 0;
  let stopped: unknown;
  const stop = (error: unknown) => {
    stopped ??= error;
    copy.destroy(error as Error);
  };
  const timer = setInterval(() => progress(rowsRead).catch(stop), TICK_MS);
  const onAbort = () => stop(signal.reason);
  signal.addEventListener("abort", onAbort);
  async function* counting() {
    for await (const batch of format.batches(copy, columns, oids)) {
      rowsRead += batchRows(batch);
      yield batch;
    }
  }
  let result: RowFileResult;
  try {
    archive.append(stats, { name, store: true });
    result = await format.write(file.dataType, columns, counting(), stats);
    await finished(stats);
  } catch (error) {
    // A writer that gave up (a cell Excel cannot hold) may leave the COPY unread: end it, so the transaction can end.
    copy.destroy();
    stats.destroy();
    throw stopped ?? (signal.aborted ? signal.reason : error);
  } finally {
    clearInterval(timer);
    signal.removeEventListener("abort", onAbort);
  }
  const rows = await counted;
  if (rows !== expected || result.rows !== expected) throw new Error(`${name}: wrote ${result.rows} of ${rows} rows, the snapshot holds ${expected}`);
  return { name, dataType: file.dataType, format: file.format, rows, bytes: stats.bytes, sha256: stats.sha256(), ...(result.sheets && { sheets: result.sheets }) };
}

/**
 * The rows a COPY wrote. pg-copy-streams ends its stream at CopyDone but
 * learns the count from the CommandComplete message that follows, so the
 * stream can have ended while `rowCount` still says 0.
 */
function rowCountOf(copy: CopyToStreamQuery): Promise<number> {
  // pg calls this on the query it runs; its types leave it out.
  const query = copy as CopyToStreamQuery & { handleCommandComplete(message: unknown): void };
  return new Promise((resolve) => {
    const handle = query.handleCommandComplete.bind(query);
    query.handleCommandComplete = (message) => {
      handle(message);
      resolve(query.rowCount);
    };
  });
}

/**
 * The export's dashboards as one structured file, each with its widgets, in
 * the shape "Export dashboard" writes. Dashboards are few and small, so the
 * file is built in memory.
 */
async function dashboardsFile(client: PoolClient, archive: ZipArchive, target: ExportTarget, snapshotAt: Date, expected: number): Promise<ManifestFile> {
  const { rows: dashboards } = await client.query(
    `SELECT id, name, slug, type, is_default, description, created_at, updated_at FROM dashboard WHERE ${whereClause("dashboards", target)} ORDER BY created_at, id`,
  );
  const { rows: widgets } = await client.query(
    `SELECT id, dashboard_id, type, title, x, y, w, h, visible, ${withoutSecretKeys("config")} AS config FROM dashboard_widget WHERE ${whereClause("dashboard_widgets", target)} ORDER BY ${WIDGET_ORDER}`,
  );
  if (dashboards.length !== expected) throw new Error(`dashboards.json: wrote ${dashboards.length} dashboards, the snapshot holds ${expected}`);
  const document = {
    format: DASHBOARDS_FORMAT,
    formatVersion: DASHBOARD_FORMAT_VERSION,
    snapshotAt: snapshotAt.toISOString(),
    dashboards: dashboards.map((d) => dashboardDocument(d, widgets.filter((w) => w.dashboard_id === d.id))),
  };
  const text = JSON.stringify(document, null, 2) + "\n";
  archive.append(text, { name: "dashboards.json" });
  return { name: "dashboards.json", dataType: "dashboards", format: "json", rows: dashboards.length, bytes: Buffer.byteLength(text), sha256: createHash("sha256").update(text).digest("hex") };
}

/** Writes every file of the export into a zip on `out`, inside one snapshot, and returns the manifest. */
async function writeZip(exp: Export, out: Writable, progress: Progress): Promise<{ manifest: ExportManifest; rowsDone: number; snapshot: string }> {
  const target = targetOf(exp);
  // A bad EXPORTAL_MANIFEST_KEY fails the export now, not after every row was copied, and says whose to fix.
  try {
    manifestPublicKey();
  } catch (error) {
    throw new ExportFailure("The portal's key for signing archives (EXPORTAL_MANIFEST_KEY) is not valid. Ask an administrator to fix it, then try again.", { cause: error });
  }
  return inSnapshot(async (client) => {
    // The first statement takes the transaction's snapshot; pg_current_snapshot() is that snapshot, a later delta's base.
    const { rows: [{ snapshot_at, snapshot }] } = await client.query("SELECT now() AS snapshot_at, pg_current_snapshot()::text AS snapshot");
    const snapshotAt = new Date(snapshot_at);
    if (exp.deidentification === "deidentified") await setPseudonymKey(client);
    const expected = await countRows(client, exp, target);
    const files = filesOf(exp);
    // Progress counts records, not lines: rows expected are the snapshot's rows summed over the data
    // types, once each; rows done are the rows written to all files divided by the number of formats,
    // i.e. each data type's records averaged over its formats (a record in NDJSON and not yet in CSV
    // counts half). Every type has every format, so at the end rows done equal rows expected.
    const formats = exp.formats.length;
    const rowsExpected = [...expected.values()].reduce((sum, n) => sum + n, 0);
    const recordsOf = (lines: number) => Math.floor(lines / formats);
    await progress(0, rowsExpected);

    // ZIP64 end records always; an entry past 4 GiB gets ZIP64 headers from its written size.
    // Deflate's output in 128 KiB buffers, not zlib's 16 KiB: an eighth of the callbacks and writes
    // on the thread that also reads the COPY (bench:export measured 0.3–0.9 s less at 1M rows).
    const archive = new ZipArchive({ zlib: { level: 6, chunkSize: 128 * 1024 }, forceZip64: true });
    const written = pipeline(archive, out);
    // When the output fails (storage gone), the COPY feeding the zip is stopped rather than left waiting on it.
    const outputFailed = new AbortController();
    written.catch((error) => outputFailed.abort(error));
    const entries: ManifestFile[] = [];
    let linesDone = 0;
    for (const file of files) {
      const typed = await TYPED_FORMATS[file.format]?.();
      const fileProgress = (rows: number) => progress(recordsOf(linesDone + rows), rowsExpected);
      const rowsExpectedOfFile = expected.get(file.dataType)!;
      const entry = typed
        ? await rowFile(client, archive, file, typed, target, rowsExpectedOfFile, fileProgress, outputFailed.signal)
        : await copyFile(client, archive, file as ExportFile & { format: "ndjson" | "csv" }, target, rowsExpectedOfFile, fileProgress, outputFailed.signal);
      linesDone += entry.rows;
      entries.push(entry);
    }
    if (exp.data_types.includes("dashboards")) entries.push(await dashboardsFile(client, archive, target, snapshotAt, expected.get("dashboards")!));
    const manifest = manifestOf(exp, { at: snapshotAt, snapshot }, entries);
    // manifest.sig signs the exact bytes of manifest.json, so a verifier checks them as they are, with no canonical form to rebuild.
    const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 2) + "\n", "utf8");
    archive.append(manifestBytes, { name: "manifest.json" });
    archive.append(signManifestBytes(manifestBytes), { name: "manifest.sig" });
    await Promise.all([archive.finalize(), written]);
    return { manifest, rowsDone: recordsOf(linesDone), snapshot };
  });
}

/**
 * Writes the export's archive inside one snapshot, so every file and every
 * count agree to the same moment, and publishes it under its key only when
 * each file's rows equal the snapshot's count.
 */
export async function writeArchive(exp: Export, progress: Progress) {
  // Each run writes its own key, so a run that lost its export cannot overwrite the archive of the run that took over.
  const key = `exports/${exp.tenant_id}/${exp.id}.${exp.run_id!.slice(0, 8)}.zip`;
  let result!: { manifest: ExportManifest; rowsDone: number; snapshot: string };
  const bytes = await getStorage().put(key, async (out) => {
    result = await writeZip(exp, out, progress);
  });
  return { key, bytes, ...result };
}
