import { apiRoute } from "~/api/api-route.server";
import { publicOrigin, toApiExport } from "~/api/export-json.server";
import { getExport } from "~/exports/export-queries.server";
import { AppError } from "~/lib/errors";

export const loader = apiRoute({
  GET: {
    permission: "data.exports.read",
    async handle(ctx) {
      // Another tenant's export, or an organization-wide one, is as unknown as an id that never existed.
      const exp = await getExport(ctx.db, ctx.requester, ctx.params.id ?? "", { fromCache: true });
      if (!exp) throw new AppError("NOT_FOUND", "No export with this id in this tenant.", { id: ctx.params.id });
      return { status: 200, body: toApiExport(exp, publicOrigin(ctx.request)) };
    },
  },
});
export const action = loader;
