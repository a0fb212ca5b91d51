import { apiRoute } from "~/api/api-route.server";
import { publicOrigin } from "~/api/export-json.server";
import { issueSignedLink } from "~/exports/download.server";

/** A 302 to the export's signed link, or the link as JSON when asked with Accept: application/json. */
export const loader = apiRoute({
  GET: {
    permission: "data.exports.download",
    async handle(ctx) {
      const link = await issueSignedLink(ctx.db, ctx.requester, ctx.params.id ?? "");
      const url = publicOrigin(ctx.request) + link.path;
      const body = { url, expiresAt: link.expiresAt.toISOString() };
      if ((ctx.request.headers.get("accept") ?? "").includes("application/json")) return { status: 200, body };
      return { status: 302, body, headers: { Location: url } };
    },
  },
});
export const action = loader;
