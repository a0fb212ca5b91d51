import { data, type LoaderFunctionArgs } from "@remix-run/node";
import { notFound, requesterOf, requireTenant, type PermissionDenied } from "~/auth/access.server";
import { downloadExport } from "~/exports/download.server";
import { getDb } from "~/lib/db.server";
import { AppError } from "~/lib/errors";

/** A finished export's archive; session and permission are checked on every download. */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "data.exports.download");
  try {
    return await downloadExport(getDb(), requesterOf(ctx), params.id ?? "", request);
  } catch (error) {
    if (error instanceof AppError && error.code === "NOT_FOUND") throw notFound();
    // An archive holding data the role may not take out (such as the audit trail without audit.read).
    if (error instanceof AppError && error.code === "FORBIDDEN") {
      throw data({ denied: true, title: "You don't have permission to download this export", message: error.message } satisfies PermissionDenied, { status: 403 });
    }
    throw error;
  }
}
