import type { LoaderFunctionArgs } from "@remix-run/node";
import { notFound, requesterOf, requireTenant } from "~/auth/access.server";
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
    throw error;
  }
}
