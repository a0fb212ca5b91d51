import { apiRoute, parseQuery } from "~/api/api-route.server";
import { METRIC_ID, timeseriesQuery } from "~/api/schemas";
import { AppError } from "~/lib/errors";
import { metricTimeseries } from "~/analytics/metric-points.server";

export const loader = apiRoute({
  async GET(ctx) {
    ctx.require("metrics.read");
    const metricId = ctx.params.metricId ?? "";
    const query = parseQuery(ctx.url, timeseriesQuery);
    if (!METRIC_ID.test(metricId)) throw new AppError("NOT_FOUND", `No metric ${metricId.slice(0, 100)} in this tenant.`, { metricId: metricId.slice(0, 100) });
    return { status: 200, body: await metricTimeseries(ctx.db, ctx.tenant.id, metricId, query) };
  },
});
export const action = loader;
