import { apiRoute } from "~/api/api-route.server";
import { publicOrigin } from "~/api/export-json.server";
import { exportsOfRuns, runOfSchedule, toApiRun } from "~/api/schedule-json.server";
import { retryRun } from "~/schedules/runs.server";

export const loader = apiRoute({
  POST: {
    permission: "data.exports.schedule",
    async handle(ctx) {
      // The run must be this schedule's, in this tenant: anything else is a 404 before anything runs.
      const failed = await runOfSchedule(ctx.db, ctx.requester, ctx.params.id ?? "", ctx.params.runId ?? "");
      await ctx.spendExportToken();
      const run = await retryRun(ctx.db, ctx.requester, failed.id);
      const exports = await exportsOfRuns(ctx.db, ctx.tenant.id, [run.id]);
      const body = toApiRun(run, exports.get(run.id) ?? [], publicOrigin(ctx.request));
      return { status: 202, body, headers: { Location: body.links.self } };
    },
  },
});
export const action = loader;
