import { apiRoute, parseQuery } from "~/lib/api.server";
import { listMetricsQuery } from "~/lib/api-schemas";
import { listMetricPoints } from "~/lib/metric-points.server";

export const loader = apiRoute({
  async GET(ctx) {
    ctx.require("metrics.read");
    return { status: 200, body: await listMetricPoints(ctx.db, ctx.tenant.id, parseQuery(ctx.url, listMetricsQuery)) };
  },
});
export const action = loader;
