import type { LoaderFunctionArgs } from "@remix-run/node";
import { notFound, requireTenant, requesterOf } from "~/auth/access.server";
import { exportDashboardFile } from "~/analytics/dashboard-file.server";
import { getDb } from "~/lib/db.server";

/** "Export dashboard": the dashboard, its widgets and the format version, as an attachment. */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "dashboards.export");
  const requester = requesterOf(ctx);
  const file = await exportDashboardFile(getDb(), requester, params.id ?? "");
  if (!file) throw notFound();
  return new Response(JSON.stringify(file, null, 2) + "\n", {
    headers: {
      "Content-Type": "application/json; charset=utf-8",
      "Content-Disposition": `attachment; filename="dashboard-${file.dashboard.id}.json"`,
      "Cache-Control": "private, no-store",
    },
  });
}
