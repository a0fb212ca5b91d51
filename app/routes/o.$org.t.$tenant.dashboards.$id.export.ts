import type { LoaderFunctionArgs } from "@remix-run/node";
import { notFound, requireTenant, requesterOf } from "~/auth/access.server";
import { dashboardFileDownload, exportDashboardFile } from "~/analytics/dashboard-file.server";
import { getDb } from "~/lib/db.server";

/** "Export dashboard": the dashboard, its widgets and the format version, as an attachment. */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "dashboards.export");
  const requester = requesterOf(ctx);
  const file = await exportDashboardFile(getDb(), requester, params.id ?? "");
  if (!file) throw notFound();
  const { text, headers } = dashboardFileDownload(file);
  return new Response(text, { headers: { ...headers, "Cache-Control": "private, no-store" } });
}
