import { apiRoute, parseBody } from "~/api/api-route.server";
import { customMetricBody } from "~/api/schemas";
import { pushCustomMetric } from "~/analytics/metric-points.server";

export const loader = apiRoute({
  POST: {
    permission: "metrics.write",
    async handle(ctx) {
      return { status: 201, body: await pushCustomMetric(ctx.db, ctx.requester, parseBody(ctx.body, customMetricBody)) };
    },
  },
});
export const action = loader;
