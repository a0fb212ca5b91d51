import { partSize } from "../../app/exports/engine/s3-parts.server";
import { afterEach, describe, expect, it } from "vitest";
import { s3ConfigFromEnv } from "../../app/exports/engine/s3-storage.server";
import { isTransient } from "../../app/exports/engine/run.server";
import { StorageFailure } from "../../app/exports/engine/storage.server";

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe("S3 storage configuration", () => {
  it("is off without a bucket: archives stay on local disk", () => {
    delete process.env.EXPORTAL_S3_BUCKET;
    process.env.EXPORTAL_S3_ENDPOINT = "http://minio:9000";
    expect(s3ConfigFromEnv()).toBeNull();
  });

  it("reads bucket, endpoint, region, path style and part size", () => {
    Object.assign(process.env, { EXPORTAL_S3_BUCKET: "b", EXPORTAL_S3_ENDPOINT: "http://minio:9000", EXPORTAL_S3_REGION: "auto", EXPORTAL_S3_FORCE_PATH_STYLE: "true", EXPORTAL_S3_PART_SIZE_MB: "8" });
    expect(s3ConfigFromEnv()).toEqual({ bucket: "b", endpoint: "http://minio:9000", region: "auto", forcePathStyle: true, partSize: 8 * 1024 * 1024 });
  });

  it("keeps S3's 16 MB default part size when asked for less than its 5 MB minimum", () => {
    Object.assign(process.env, { EXPORTAL_S3_BUCKET: "b", EXPORTAL_S3_PART_SIZE_MB: "1", EXPORTAL_S3_FORCE_PATH_STYLE: "no" });
    expect(s3ConfigFromEnv()).toMatchObject({ forcePathStyle: false, partSize: undefined });
  });
});

describe("storage failures", () => {
  it("an unreachable or failing storage is retried; a refusal is not", () => {
    expect(isTransient(new StorageFailure(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })))).toBe(true);
    expect(isTransient(new StorageFailure(Object.assign(new Error("SlowDown"), { $metadata: { httpStatusCode: 503 } })))).toBe(true);
    expect(isTransient(new StorageFailure(Object.assign(new Error("Access Denied"), { $metadata: { httpStatusCode: 403 } })))).toBe(false);
  });
});

describe("part sizes", () => {
  it("start at S3's least and grow every thousand parts, so 10,000 parts hold far past 100 GB while small archives keep one small part in memory", () => {
    const MiB = 1024 * 1024;
    expect([1, 1000, 1001, 2000, 2001, 10_000].map((n) => partSize(n) / MiB)).toEqual([5, 5, 10, 10, 15, 50]);
    let total = 0;
    let n = 0;
    while (total < 100e9) total += partSize(++n);
    expect(n).toBeLessThan(10_000);
    expect(partSize(n) / MiB).toBe(30);
  });
});
