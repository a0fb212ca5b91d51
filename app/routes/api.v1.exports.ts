import { apiRoute, parseQuery } from "~/api/api-route.server";
import { publicOrigin, toApiExport } from "~/api/export-json.server";
import { listExportsQuery } from "~/api/schemas";
import { createExport } from "~/exports/exports.server";
import { getExport, listExportsAfter } from "~/exports/export-queries.server";

export const loader = apiRoute({
  GET: {
    permission: "data.exports.read",
    async handle(ctx) {
      const page = await listExportsAfter(ctx.db, ctx.requester, parseQuery(ctx.url, listExportsQuery));
      const origin = publicOrigin(ctx.request);
      return { status: 200, body: { data: page.exports.map((e) => toApiExport(e, origin)), hasMore: page.hasMore, nextCursor: page.nextCursor } };
    },
  },
  POST: {
    permission: "data.exports.create",
    async handle(ctx) {
      await ctx.spendExportToken();
      const created = await createExport(ctx.db, ctx.requester, ctx.body);
      const body = toApiExport((await getExport(ctx.db, ctx.requester, created.id))!, publicOrigin(ctx.request));
      return { status: 202, body, headers: { Location: body.links.self } };
    },
  },
});
export const action = loader;
