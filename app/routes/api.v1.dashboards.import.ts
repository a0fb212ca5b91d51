import { apiRoute } from "~/api/api-route.server";
import { importDashboards } from "~/analytics/dashboard-file.server";

export const loader = apiRoute({
  POST: {
    permission: "dashboards.import",
    async handle(ctx) {
      const { bulk, dashboards } = await importDashboards(ctx.db, ctx.requester, ctx.body);
      const created = dashboards.map((d) => ({ dashboard: d.dashboard, flaggedWidgets: d.flaggedWidgets }));
      // A dashboard file answers with its dashboard; an export's dashboards.json with every dashboard it held.
      if (bulk) return { status: 201, body: { dashboards: created } };
      return { status: 201, body: created[0], headers: { Location: `/api/v1/dashboards/${created[0].dashboard.id}` } };
    },
  },
});
export const action = loader;
