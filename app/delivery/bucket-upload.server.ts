import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { DB } from "../../db/client";
import type { Export, ExportSchedule, ExportScheduleRun } from "../../db/schema";
import { recordEvent } from "../audit/audit.server";
import { authorize, type Requester } from "../auth/requester";
import { getStorage } from "../exports/engine/storage.server";
import { checkLiteralHost, PrivateAddressError, publicAgents } from "./public-address.server";
import { bucketWithKeys, findBucket } from "./targets.server";

/** A schedule's name as one safe path segment of an object key (its id when nothing is left). */
export function keySegment(name: string, fallback: string): string {
  const safe = name
    .normalize("NFKD")
    .replace(/[^A-Za-z0-9._ -]+/g, "-")
    .replace(/\s+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^[-.]+|[-.]+$/g, "");
  return safe || fallback;
}

/** Where a run's files go in a bucket: `<prefix><schedule>/<slot ISO>/`. */
export function runFolder(prefix: string, schedule: Pick<ExportSchedule, "id" | "name">, run: Pick<ExportScheduleRun, "slot_at">): string {
  return `${prefix}${keySegment(schedule.name, schedule.id)}/${run.slot_at.toISOString()}/`;
}

/**
 * Copies a run's archive (streamed from the portal's storage, never held in
 * memory) and its manifest.json into a tenant's bucket, with the bucket's own
 * keys. The archive goes first: a reader that sees the manifest finds the
 * archive it describes.
 */
export async function uploadToBucket(db: DB, bucketId: string, exp: Export, ctx: { run: ExportScheduleRun; schedule: ExportSchedule }): Promise<string[]> {
  const target = await bucketWithKeys(db, bucketId);
  const client = bucketClient(target);
  try {
    const folder = runFolder(target.prefix, ctx.schedule, ctx.run);
    const archiveKey = `${folder}export-${exp.id}.zip`;
    const manifestKey = `${folder}manifest.json`;
    const body = await getStorage().read(exp.archive_key!);
    await new Upload({ client, params: { Bucket: target.bucket, Key: archiveKey, Body: body, ContentType: "application/zip" }, queueSize: 1 }).done();
    await client.send(
      new PutObjectCommand({ Bucket: target.bucket, Key: manifestKey, Body: JSON.stringify(exp.manifest, null, 2), ContentType: "application/json" }),
    );
    return [archiveKey, manifestKey];
  } finally {
    client.destroy();
  }
}

/** The object a test upload writes, under the bucket's prefix. */
const TEST_OBJECT = "exportal-test.txt";
/** How long a test upload waits for the server, tries included: someone is watching the button. */
const TEST_DEADLINE_MS = 15_000;

/**
 * Writes a small text file under the bucket's prefix now, once, with its
 * keys: whoever adds a bucket learns at once whether runs can upload there
 * (address, bucket, keys and their PutObject right), not at the first run.
 */
export async function testBucket(db: DB, requester: Requester, bucketId: string): Promise<{ key: string; statusCode: number | null; error: string | null; durationMs: number }> {
  authorize(requester, "data.exports.schedule");
  const bucket = await findBucket(db, requester, bucketId);
  const target = await bucketWithKeys(db, bucket.id);
  const key = `${target.prefix}${TEST_OBJECT}`;
  const started = performance.now();
  let outcome: { statusCode: number | null; error: string | null } = { statusCode: null, error: null };
  try {
    const client = bucketClient(target);
    try {
      const text = `A test upload from Exportal at ${new Date().toISOString()}. Each run of a schedule that delivers here goes under ${target.prefix}<schedule>/<slot>/. This file may be deleted.\n`;
      const put = new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: text, ContentType: "text/plain; charset=utf-8" });
      await client.send(put, { abortSignal: AbortSignal.timeout(TEST_DEADLINE_MS) });
    } finally {
      client.destroy();
    }
  } catch (error) {
    outcome = (error as Error).name === "TimeoutError" || (error as Error).name === "AbortError"
      ? { statusCode: null, error: `The upload failed: no answer within ${TEST_DEADLINE_MS / 1000} seconds.` }
      : uploadFailure(error);
  }
  await recordEvent(db, { organization_id: requester.organizationId, tenant_id: requester.tenantId }, "bucket.tested", { type: "bucket", id: bucket.id }, requester.actor, {
    ok: outcome.error === null,
    statusCode: outcome.statusCode,
  });
  return { key, ...outcome, durationMs: Math.round(performance.now() - started) };
}

/** What a failed upload says: the S3 server's status and message (never the keys), and whether an address was refused. */
export function uploadFailure(error: unknown): { statusCode: number | null; error: string; refused: boolean } {
  const e = error as Error & { $metadata?: { httpStatusCode?: number } };
  const refused = error instanceof PrivateAddressError || (e as { cause?: unknown }).cause instanceof PrivateAddressError;
  return { statusCode: e.$metadata?.httpStatusCode ?? null, error: `The upload failed: ${e.name}: ${e.message}`, refused };
}

/** An S3 client for a tenant's bucket, with its own keys; the tenant chose the endpoint, so public addresses only, like webhooks. */
function bucketClient(target: Awaited<ReturnType<typeof bucketWithKeys>>): S3Client {
  if (target.endpoint) checkLiteralHost(new URL(target.endpoint).hostname);
  return new S3Client({
    endpoint: target.endpoint ?? undefined,
    region: target.region,
    forcePathStyle: target.force_path_style,
    credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts: 2,
    // A server that never accepts the connection fails the try after 10 s, not the system's minutes.
    requestHandler: { ...publicAgents(), connectionTimeout: 10_000 },
  });
}
