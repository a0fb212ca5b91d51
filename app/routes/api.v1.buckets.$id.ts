import { apiRoute } from "~/api/api-route.server";
import { toApiBucket } from "~/delivery/bucket-json.server";
import { deleteBucket, findBucket } from "~/delivery/targets.server";

// Another tenant's bucket is as unknown as an id that never existed: 404 either way.
export const loader = apiRoute({
  GET: {
    permission: "data.exports.read",
    async handle(ctx) {
      return { status: 200, body: toApiBucket(await findBucket(ctx.db, ctx.requester, ctx.params.id ?? "")) };
    },
  },
  DELETE: {
    permission: "data.exports.schedule",
    async handle(ctx) {
      await deleteBucket(ctx.db, ctx.requester, ctx.params.id ?? "");
      return { status: 204 };
    },
  },
});
export const action = loader;
