import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { DB } from "../../db/client";
import type { Export, ExportSchedule, ExportScheduleRun } from "../../db/schema";
import { getStorage } from "../exports/engine/storage.server";
import { checkLiteralHost, publicAgents } from "./public-address.server";
import { bucketWithKeys } from "./targets.server";

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
  if (target.endpoint) checkLiteralHost(new URL(target.endpoint).hostname);
  const client = new S3Client({
    endpoint: target.endpoint ?? undefined,
    region: target.region,
    forcePathStyle: target.force_path_style,
    credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts: 2,
    // The tenant chose the endpoint: public addresses only, like webhooks.
    requestHandler: publicAgents(),
  });
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
