import type { LoaderFunctionArgs } from "@remix-run/node";
import { archiveResponse, startsDownload, textResponse } from "~/exports/download.server";
import { recordExportEvent } from "~/audit/audit.server";
import { getDb } from "~/lib/db.server";
import { getExport } from "~/exports/exports.server";
import { verifySignedLink } from "~/exports/signed-links.server";

/** Downloads by signed link, without a session: the signature is the permission, until it expires. */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const check = verifySignedLink(params.id ?? "", new URL(request.url).searchParams);
  if (!check.ok && check.reason === "invalid") {
    return textResponse(403, "This download link is not valid. Copy the link again from the export's page in Exportal.");
  }
  if (!check.ok) {
    return textResponse(410, `This download link expired on ${check.expiresAt!.toISOString()}. Export the data again from the Exports page in Exportal.`);
  }
  const exp = await getExport(getDb(), check.link.tenantId, check.link.exportId);
  if (!exp) return textResponse(404, "Not found");
  const response = await archiveResponse(request, exp);
  if (startsDownload(response)) await recordExportEvent(getDb(), exp, "downloaded", { userId: null, label: "signed link" });
  return response;
}
