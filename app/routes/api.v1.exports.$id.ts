import { apiRoute } from "~/api/api-route.server";
import { publicOrigin, toApiExport } from "~/api/export-json.server";
import { AppError } from "~/lib/errors";
import { getExport } from "~/exports/exports.server";

export const loader = apiRoute({
  async GET(ctx) {
    ctx.require("data.exports.read");
    // Another tenant's export is as unknown as an id that never existed.
    const exp = await getExport(ctx.db, ctx.tenant.id, ctx.params.id ?? "");
    if (!exp) throw new AppError("NOT_FOUND", "No export with this id in this tenant.", { id: ctx.params.id });
    return { status: 200, body: toApiExport(exp, publicOrigin(ctx.request)) };
  },
});
export const action = loader;
