import { apiRoute } from "~/api/api-route.server";
import { publicOrigin } from "~/api/export-json.server";
import { AppError } from "~/lib/errors";
import { getExport } from "~/exports/exports.server";
import { linkExpired } from "~/exports/download.server";
import { signedDownloadPath } from "~/exports/signed-links.server";

/** A 302 to the export's signed link, or the link as JSON when asked with Accept: application/json. */
export const loader = apiRoute({
  async GET(ctx) {
    ctx.require("data.exports.download");
    const exp = await getExport(ctx.db, ctx.tenant.id, ctx.params.id ?? "");
    if (!exp) throw new AppError("NOT_FOUND", "No export with this id in this tenant.", { id: ctx.params.id });
    if (linkExpired(exp)) {
      throw new AppError("GONE", "This export's download link has expired and its archive was deleted. Create a new export.", { status: "expired" });
    }
    if (exp.status !== "done") {
      throw new AppError("CONFLICT", `This export is ${exp.status}; it can be downloaded once it is done.`, { status: exp.status });
    }
    const url = publicOrigin(ctx.request) + signedDownloadPath(exp.id, exp.tenant_id, exp.expires_at!);
    const expiresAt = exp.expires_at!.toISOString();
    if ((ctx.request.headers.get("accept") ?? "").includes("application/json")) return { status: 200, body: { url, expiresAt } };
    return { status: 302, body: { url, expiresAt }, headers: { Location: url } };
  },
});
export const action = loader;
