import { apiRoute, parseQuery } from "~/api/api-route.server";
import { listMetricsQuery } from "~/api/schemas";
import { listMetricPoints } from "~/analytics/metric-points.server";

export const loader = apiRoute({
  GET: {
    permission: "metrics.read",
    async handle(ctx) {
      return { status: 200, body: await listMetricPoints(ctx.db, ctx.requester, parseQuery(ctx.url, listMetricsQuery)) };
    },
  },
});
export const action = loader;
