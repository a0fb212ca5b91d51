import { apiRoute } from "~/api/api-route.server";
import { listDashboards } from "~/analytics/dashboards.server";

export const loader = apiRoute({
  async GET(ctx) {
    ctx.require("dashboards.read");
    return { status: 200, body: { data: await listDashboards(ctx.db, ctx.tenant.id) } };
  },
});
export const action = loader;
