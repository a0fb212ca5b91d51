import { apiRoute } from "~/api/api-route.server";
import { publicOrigin } from "~/api/export-json.server";
import { toApiBucket } from "~/delivery/bucket-json.server";
import { createBucket, listBuckets } from "~/delivery/targets.server";

export const loader = apiRoute({
  GET: {
    permission: "data.exports.read",
    async handle(ctx) {
      return { status: 200, body: { data: (await listBuckets(ctx.db, ctx.requester)).map(toApiBucket) } };
    },
  },
  POST: {
    permission: "data.exports.schedule",
    async handle(ctx) {
      const bucket = await createBucket(ctx.db, ctx.requester, ctx.body);
      return { status: 201, body: toApiBucket(bucket), headers: { Location: `${publicOrigin(ctx.request)}/api/v1/buckets/${bucket.id}` } };
    },
  },
});
export const action = loader;
