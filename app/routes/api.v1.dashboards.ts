import { apiRoute } from "~/api/api-route.server";
import { listDashboards } from "~/analytics/dashboards.server";

export const loader = apiRoute({
  GET: {
    permission: "dashboards.read",
    async handle(ctx) {
      return { status: 200, body: { data: await listDashboards(ctx.db, ctx.requester) } };
    },
  },
});
export const action = loader;
