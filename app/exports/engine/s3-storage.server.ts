import { PassThrough, Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { StorageFailure, type ArchiveStorage } from "./storage.server";

/** 12 MiB parts: 10,000 of them (S3's limit) hold 126 GB, past the 100 GB an archive may reach. */
const PART_SIZE = 12 * 1024 * 1024;
/**
 * One part in flight while the next fills: the zip is produced far slower than
 * a part uploads, so a second one in flight would only hold memory.
 */
const QUEUE_SIZE = 1;
/** A presigned download works this long: minted per click, so the 24-hour right never rests on a long-lived URL. */
const DOWNLOAD_URL_SECONDS = 300;

export interface S3Config {
  bucket: string;
  endpoint?: string;
  region?: string;
  forcePathStyle: boolean;
  /** Bytes per part; tests lower it to S3's 5 MiB minimum, so a small archive still goes up in several parts. */
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
 * into a multipart upload under the run's own key: S3 shows the object only
 * once the upload completes, and a failed or cancelled run aborts it.
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
      const body = new PassThrough();
      const upload = new Upload({
        client,
        params: { Bucket, Key, Body: body, ContentType: "application/zip" },
        partSize: config.partSize ?? PART_SIZE,
        queueSize: QUEUE_SIZE,
      });
      const uploaded = upload.done().catch((error) => {
        // The zip writer is stuck on a body no one reads any more: stop it.
        body.destroy(error);
        throw error;
      });
      uploaded.catch(() => {}); // awaited below; a failure that comes first is surfaced there
      const abortStarted = async () => {
        const uploadId = (upload as unknown as { uploadId?: string }).uploadId;
        if (uploadId) await abortUpload(Key, uploadId);
      };
      try {
        await write(body);
      } catch (error) {
        // An error, not a plain end: an ended body would complete the upload with what it holds so far.
        // lib-storage then aborts what it started, and so do we, whatever it managed.
        const unfinished = new Error("the archive was not finished");
        body.destroy(unfinished);
        const uploadError = await uploaded.then(() => undefined, (e: unknown) => e);
        await abortStarted();
        // Storage that failed by itself broke the writer; otherwise the writer's own error (a cancel, the database) stopped both.
        throw uploadError && uploadError !== error && uploadError !== unfinished ? new StorageFailure(uploadError) : error;
      }
      try {
        await uploaded;
      } catch (error) {
        await abortStarted();
        throw new StorageFailure(error);
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
