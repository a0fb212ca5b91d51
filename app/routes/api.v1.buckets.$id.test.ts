import { apiRoute } from "~/api/api-route.server";
import { testBucket } from "~/delivery/bucket-upload.server";

/** POST /api/v1/buckets/:id/test: a small file uploaded with the bucket's keys, and what the server answered. */
export const loader = apiRoute({
  POST: {
    permission: "data.exports.schedule",
    async handle(ctx) {
      const { key, statusCode, error, durationMs } = await testBucket(ctx.db, ctx.requester, ctx.params.id ?? "");
      return { status: 200, body: { ok: error === null, key, statusCode, error, durationMs } };
    },
  },
});
export const action = loader;
