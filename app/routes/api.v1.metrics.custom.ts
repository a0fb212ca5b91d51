import { apiRoute, parseBody } from "~/api/api-route.server";
import { customMetricBody } from "~/api/schemas";
import { pushCustomMetric } from "~/analytics/metric-points.server";

export const loader = apiRoute({
  async POST(ctx) {
    ctx.require("metrics.write");
    const point = await pushCustomMetric(ctx.db, ctx.tenant.id, ctx.key.id, parseBody(ctx.body, customMetricBody));
    return { status: 201, body: point };
  },
});
export const action = loader;
