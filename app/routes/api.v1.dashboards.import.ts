import { apiRoute } from "~/api/api-route.server";
import { importDashboard } from "~/analytics/dashboard-file.server";
import { getDashboard } from "~/analytics/dashboards.server";

export const loader = apiRoute({
  async POST(ctx) {
    ctx.require("dashboards.import");
    const imported = await importDashboard(ctx.db, ctx.tenant.id, null, ctx.body);
    const dashboard = (await getDashboard(ctx.db, ctx.tenant.id, imported.id))!;
    return { status: 201, body: { dashboard, flaggedWidgets: imported.flaggedWidgets }, headers: { Location: `/api/v1/dashboards/${imported.id}` } };
  },
});
export const action = loader;
