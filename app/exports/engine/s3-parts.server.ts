import { Writable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from "@aws-sdk/client-s3";

/** S3's smallest part (all but the last), and its most parts per upload. */
export const MIN_PART = 5 * 1024 * 1024;
const PARTS_PER_STEP = 1000;

/**
 * The size of part `n` (from 1): `base` for the first thousand parts, twice
 * it for the next thousand, and so on. Memory holds one part, so small parts
 * keep it low, and an archive of nearly any size still fits in S3's 10,000
 * parts: with 5 MiB, the first 5 GB go in 5 MiB parts, 100 GB reach 30 MiB
 * parts, and 10,000 parts hold 288 GB.
 */
export function partSize(n: number, base = MIN_PART): number {
  return base * Math.ceil(n / PARTS_PER_STEP);
}

/**
 * A writable that uploads what is written to it as the object `Key`: a single
 * PUT when it all fits in the first part, else a multipart upload. It holds
 * one part in one buffer and waits for each part's upload before taking more
 * (the zip is made far slower than a part uploads), so memory stays at one
 * part whatever the archive's size. Nothing is visible under the key until
 * the upload completes; `abort()` discards what was uploaded.
 */
export class PartWriter extends Writable {
  private uploadId: string | undefined;
  private readonly etags: string[] = [];
  private buffer: Buffer;
  private filled = 0;
  /** The part upload (or completion) under way, which an abort waits for. */
  private pending: Promise<void> = Promise.resolve();
  /** The storage's own failure, when it is what stopped the writing. */
  storageError: unknown;

  constructor(
    private readonly client: S3Client,
    private readonly Bucket: string,
    private readonly Key: string,
    private readonly base = MIN_PART,
  ) {
    super();
    this.buffer = Buffer.allocUnsafe(partSize(1, base));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.pending = this.take(chunk);
    this.pending.then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.pending = this.finish();
    this.pending.then(() => callback(), callback);
  }

  private async take(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      const copied = chunk.copy(this.buffer, this.filled, offset);
      this.filled += copied;
      offset += copied;
      if (this.filled === this.buffer.length) await this.uploadPart();
    }
  }

  /** A request to the storage, whose failure is remembered as the storage's own. */
  private async guard<T>(request: Promise<T>): Promise<T> {
    try {
      return await request;
    } catch (error) {
      this.storageError ??= error;
      throw error;
    }
  }

  /** Uploads the full buffer as the next part, then makes room for the one after (larger every thousand parts). */
  private async uploadPart(): Promise<void> {
    const { Bucket, Key } = this;
    this.uploadId ??= (await this.guard(this.client.send(new CreateMultipartUploadCommand({ Bucket, Key, ContentType: "application/zip" })))).UploadId;
    const PartNumber = this.etags.length + 1;
    const body = this.buffer.subarray(0, this.filled);
    const { ETag } = await this.guard(this.client.send(new UploadPartCommand({ Bucket, Key, UploadId: this.uploadId, PartNumber, Body: body, ContentLength: body.length })));
    this.etags.push(ETag!);
    this.filled = 0;
    const next = partSize(PartNumber + 1, this.base);
    if (next !== this.buffer.length) this.buffer = Buffer.allocUnsafe(next);
  }

  private async finish(): Promise<void> {
    const { Bucket, Key } = this;
    if (!this.uploadId) {
      const Body = this.buffer.subarray(0, this.filled);
      await this.guard(this.client.send(new PutObjectCommand({ Bucket, Key, Body, ContentLength: Body.length, ContentType: "application/zip" })));
      return;
    }
    if (this.filled > 0) await this.uploadPart();
    await this.guard(
      this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key,
          UploadId: this.uploadId,
          MultipartUpload: { Parts: this.etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
        }),
      ),
    );
  }

  /** Discards a multipart upload begun and not completed; its parts are billed until then. */
  async abort(): Promise<void> {
    await this.pending.catch(() => {});
    const { Bucket, Key, uploadId: UploadId } = this;
    if (!UploadId) return;
    this.uploadId = undefined;
    await this.client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch((error) => {
      const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
      if (status !== 404) console.error(`could not abort the upload of ${Key}:`, error);
    });
  }
}
