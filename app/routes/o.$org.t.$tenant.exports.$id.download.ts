import type { LoaderFunctionArgs } from "@remix-run/node";
import { notFound, requireTenant } from "~/auth/access.server";
import { archiveResponse, startsDownload } from "~/exports/download.server";
import { recordExportEvent } from "~/audit/audit.server";
import { getDb } from "~/lib/db.server";
import { getExport } from "~/exports/exports.server";

/** A finished export's archive; session and permission are checked on every download. */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "data.exports.download");
  const exp = await getExport(getDb(), ctx.tenant.id, params.id ?? "");
  if (!exp) throw notFound();
  const response = await archiveResponse(request, exp);
  if (startsDownload(response)) await recordExportEvent(getDb(), exp, "downloaded", { userId: ctx.user.id, label: ctx.user.name });
  return response;
}
