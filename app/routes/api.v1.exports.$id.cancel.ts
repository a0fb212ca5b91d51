import { apiRoute } from "~/api/api-route.server";
import { publicOrigin, toApiExport } from "~/api/export-json.server";
import { cancelExport, getExport } from "~/exports/exports.server";

export const loader = apiRoute({
  async POST(ctx) {
    ctx.require("data.exports.cancel");
    const cancelled = await cancelExport(ctx.db, ctx.requester, ctx.params.id ?? "");
    const exp = (await getExport(ctx.db, ctx.tenant.id, cancelled.id))!;
    return { status: 200, body: toApiExport(exp, publicOrigin(ctx.request)) };
  },
});
export const action = loader;
