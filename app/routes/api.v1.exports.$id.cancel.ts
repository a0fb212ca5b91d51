import { apiRoute } from "~/api/api-route.server";
import { publicOrigin, toApiExport } from "~/api/export-json.server";
import { cancelExport } from "~/exports/exports.server";
import { getExport } from "~/exports/export-queries.server";

export const loader = apiRoute({
  POST: {
    permission: "data.exports.cancel",
    async handle(ctx) {
      const cancelled = await cancelExport(ctx.db, ctx.requester, ctx.params.id ?? "");
      return { status: 200, body: toApiExport((await getExport(ctx.db, ctx.requester, cancelled.id))!, publicOrigin(ctx.request)) };
    },
  },
});
export const action = loader;
