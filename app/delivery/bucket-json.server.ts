import type { BucketView } from "./targets.server";

/** A bucket as the API answers it: never its keys, only the access key id's last four characters. */
export function toApiBucket(b: BucketView) {
  return {
    id: b.id,
    name: b.name,
    endpoint: b.endpoint,
    region: b.region,
    bucket: b.bucket,
    prefix: b.prefix,
    forcePathStyle: b.forcePathStyle,
    accessKeyHint: b.accessKeyHint,
    createdAt: b.createdAt.toISOString(),
  };
}
