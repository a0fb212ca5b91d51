import { apiRoute } from "~/api/api-route.server";
import { importDashboards } from "~/analytics/dashboard-file.server";
import { getDashboard } from "~/analytics/dashboards.server";

export const loader = apiRoute({
  async POST(ctx) {
    ctx.require("dashboards.import");
    const { bulk, dashboards } = await importDashboards(ctx.db, ctx.tenant.id, null, ctx.body);
    const created = await Promise.all(
      dashboards.map(async (d) => ({ dashboard: (await getDashboard(ctx.db, ctx.tenant.id, d.id))!, flaggedWidgets: d.flaggedWidgets })),
    );
    // A dashboard file answers with its dashboard; an export's dashboards.json with every dashboard it held.
    if (bulk) return { status: 201, body: { dashboards: created } };
    return { status: 201, body: created[0], headers: { Location: `/api/v1/dashboards/${created[0].dashboard.id}` } };
  },
});
export const action = loader;
