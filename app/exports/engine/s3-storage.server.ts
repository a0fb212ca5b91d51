import type { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { PartWriter } from "./s3-parts.server";
import { StorageFailure, type ArchiveStorage } from "./storage.server";

/** A presigned download works this long: minted per click, so the 24-hour right never rests on a long-lived URL. */
const DOWNLOAD_URL_SECONDS = 300;

export interface S3Config {
  bucket: string;
  endpoint?: string;
  region?: string;
  forcePathStyle: boolean;
  /** Bytes of each of the first thousand parts (see partSize in s3-parts.server.ts); 5 MiB by default, S3's least. */
  partSize?: number;
}

/** S3-compatible storage when EXPORTAL_S3_BUCKET is set; credentials come from the SDK's usual chain. */
export function s3ConfigFromEnv(): S3Config | null {
  const bucket = process.env.EXPORTAL_S3_BUCKET;
  if (!bucket) return null;
  return {
    bucket,
    endpoint: process.env.EXPORTAL_S3_ENDPOINT || undefined,
    region: process.env.EXPORTAL_S3_REGION || undefined,
    forcePathStyle: /^(1|true|yes)$/i.test(process.env.EXPORTAL_S3_FORCE_PATH_STYLE ?? ""),
    partSize: Number(process.env.EXPORTAL_S3_PART_SIZE_MB) >= 5 ? Number(process.env.EXPORTAL_S3_PART_SIZE_MB) * 1024 * 1024 : undefined,
  };
}

function notFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "NotFound" || e?.name === "NoSuchKey" || e?.$metadata?.httpStatusCode === 404;
}

/**
 * Archives as objects in an S3-compatible bucket. The zip streams straight
 * into a multipart upload under the run's own key, one part in memory at a
 * time: S3 shows the object only once the upload completes, and a failed or
 * cancelled run aborts it.
 */
export function s3Storage(config: S3Config): ArchiveStorage {
  const client = new S3Client({
    endpoint: config.endpoint,
    region: config.region ?? "us-east-1",
    forcePathStyle: config.forcePathStyle,
    // Checksums only where S3 requires them: several S3-compatible servers reject the SDK's default trailing checksums.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  const Bucket = config.bucket;

  async function abortUpload(Key: string, UploadId: string): Promise<void> {
    await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch((error) => {
      if (!notFound(error)) console.error(`could not abort the upload of ${Key}:`, error);
    });
  }

  async function size(Key: string): Promise<number | null> {
    try {
      return (await client.send(new HeadObjectCommand({ Bucket, Key }))).ContentLength ?? 0;
    } catch (error) {
      if (notFound(error)) return null;
      throw error;
    }
  }

  return {
    async put(Key, write) {
      const parts = new PartWriter(client, Bucket, Key, config.partSize);
      try {
        await write(parts);
      } catch (error) {
        await parts.abort();
        // Storage that failed by itself broke the writer; otherwise the writer's own error (a cancel, the database) stopped both.
        throw parts.storageError ? new StorageFailure(parts.storageError) : error;
      }
      return (await size(Key))!;
    },
    size,
    async read(Key, range) {
      const Range = range ? `bytes=${range.start}-${range.end}` : undefined;
      const { Body } = await client.send(new GetObjectCommand({ Bucket, Key, Range }));
      return Body as Readable;
    },
    downloadUrl(Key, filename) {
      const command = new GetObjectCommand({
        Bucket,
        Key,
        ResponseContentType: "application/zip",
        ResponseContentDisposition: `attachment; filename="${filename}"`,
        ResponseCacheControl: "private, no-store",
      });
      return getSignedUrl(client, command, { expiresIn: DOWNLOAD_URL_SECONDS });
    },
    async remove(Key) {
      await client.send(new DeleteObjectCommand({ Bucket, Key }));
    },
    /**
     * Aborts the multipart uploads a killed worker left under `prefix`; they
     * were never visible, but their parts are billed until aborted. A server
     * that cannot list them (s3rver) leaves them to the bucket's lifecycle rule.
     */
    async discardPartials(Prefix) {
      try {
        const { Uploads = [] } = await client.send(new ListMultipartUploadsCommand({ Bucket, Prefix }));
        for (const { Key, UploadId } of Uploads) if (Key && UploadId) await abortUpload(Key, UploadId);
        return Uploads.length;
      } catch (error) {
        if ((error as { name?: string })?.name === "NotImplemented") return 0;
        throw error;
      }
    },
  };
}
