import { apiRoute, parseQuery } from "~/api/api-route.server";
import { listMetricsQuery } from "~/api/schemas";
import { listMetricPoints } from "~/analytics/metric-points.server";

export const loader = apiRoute({
  async GET(ctx) {
    ctx.require("metrics.read");
    return { status: 200, body: await listMetricPoints(ctx.db, ctx.tenant.id, parseQuery(ctx.url, listMetricsQuery)) };
  },
});
export const action = loader;
