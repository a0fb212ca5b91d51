import { apiRoute, parseQuery } from "~/api/api-route.server";
import { publicOrigin, toApiExport } from "~/api/export-json.server";
import { listExportsQuery } from "~/api/schemas";
import { createExport, getExport, listExportsAfter } from "~/exports/exports.server";

export const loader = apiRoute(
  {
    async GET(ctx) {
      ctx.require("data.exports.read");
      const query = parseQuery(ctx.url, listExportsQuery);
      const page = await listExportsAfter(ctx.db, ctx.tenant.id, query);
      const origin = publicOrigin(ctx.request);
      return { status: 200, body: { data: page.exports.map((e) => toApiExport(e, origin)), hasMore: page.hasMore, nextCursor: page.nextCursor } };
    },
    async POST(ctx) {
      const created = await createExport(ctx.db, ctx.requester, ctx.body);
      const exp = (await getExport(ctx.db, ctx.tenant.id, created.id))!;
      const body = toApiExport(exp, publicOrigin(ctx.request));
      return { status: 202, body, headers: { Location: body.links.self } };
    },
  },
  { createsExport: true },
);
export const action = loader;
