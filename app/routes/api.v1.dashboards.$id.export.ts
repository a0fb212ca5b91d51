import { apiRoute } from "~/api/api-route.server";
import { dashboardFileDownload, exportDashboardFile } from "~/analytics/dashboard-file.server";
import { AppError } from "~/lib/errors";

/** The dashboard file "Export dashboard" writes, which `POST /api/v1/dashboards/import` takes back. */
export const loader = apiRoute({
  GET: {
    permission: "dashboards.export",
    async handle(ctx) {
      const file = await exportDashboardFile(ctx.db, ctx.requester, ctx.params.id ?? "");
      if (!file) throw new AppError("NOT_FOUND", "No dashboard with this id in this tenant.", { id: ctx.params.id });
      const { text, headers } = dashboardFileDownload(file);
      return { status: 200, text, headers };
    },
  },
});
export const action = loader;
