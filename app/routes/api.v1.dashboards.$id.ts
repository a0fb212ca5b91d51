import { apiRoute } from "~/api/api-route.server";
import { getDashboard } from "~/analytics/dashboards.server";
import { AppError } from "~/lib/errors";

export const loader = apiRoute({
  GET: {
    permission: "dashboards.read",
    async handle(ctx) {
      const dashboard = await getDashboard(ctx.db, ctx.requester, ctx.params.id ?? "");
      if (!dashboard) throw new AppError("NOT_FOUND", "No dashboard with this id in this tenant.", { id: ctx.params.id });
      return { status: 200, body: dashboard };
    },
  },
});
export const action = loader;
