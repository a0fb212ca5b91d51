import { apiRoute, parseBody } from "~/lib/api.server";
import { customMetricBody } from "~/lib/api-schemas";
import { pushCustomMetric } from "~/lib/metric-points.server";

export const loader = apiRoute({
  async POST(ctx) {
    ctx.require("metrics.write");
    const point = await pushCustomMetric(ctx.db, ctx.tenant.id, ctx.key.id, parseBody(ctx.body, customMetricBody));
    return { status: 201, body: point };
  },
});
export const action = loader;
