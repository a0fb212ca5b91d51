import { apiRoute, parseQuery } from "~/api/api-route.server";
import { METRIC_ID, timeseriesQuery } from "~/api/schemas";
import { metricTimeseries } from "~/analytics/metric-points.server";
import { AppError } from "~/lib/errors";

export const loader = apiRoute({
  GET: {
    permission: "metrics.read",
    async handle(ctx) {
      const metricId = ctx.params.metricId ?? "";
      const query = parseQuery(ctx.url, timeseriesQuery);
      if (!METRIC_ID.test(metricId)) throw new AppError("NOT_FOUND", `No metric ${metricId.slice(0, 100)} in this tenant.`, { metricId: metricId.slice(0, 100) });
      return { status: 200, body: await metricTimeseries(ctx.db, ctx.requester, metricId, query) };
    },
  },
});
export const action = loader;
