import { apiRoute } from "~/api/api-route.server";
import { publicOrigin } from "~/api/export-json.server";
import { runOfSchedule, toApiRun } from "~/api/schedule-json.server";

export const loader = apiRoute({
  GET: {
    permission: "data.exports.read",
    async handle(ctx) {
      const { exports, ...run } = await runOfSchedule(ctx.db, ctx.requester, ctx.params.id ?? "", ctx.params.runId ?? "");
      return { status: 200, body: toApiRun(run, exports, publicOrigin(ctx.request)) };
    },
  },
});
export const action = loader;
