import { apiRoute } from "~/api/api-route.server";
import { importDashboard } from "~/analytics/dashboard-file.server";
import { getDashboard } from "~/analytics/dashboards.server";

export const loader = apiRoute({
  POST: {
    permission: "dashboards.import",
    async handle(ctx) {
      const imported = await importDashboard(ctx.db, ctx.requester, ctx.body);
      const dashboard = (await getDashboard(ctx.db, ctx.requester, imported.id))!;
      return { status: 201, body: { dashboard, flaggedWidgets: imported.flaggedWidgets }, headers: { Location: `/api/v1/dashboards/${imported.id}` } };
    },
  },
});
export const action = loader;
