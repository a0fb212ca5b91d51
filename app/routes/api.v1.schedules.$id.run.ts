import { apiRoute } from "~/api/api-route.server";
import { publicOrigin } from "~/api/export-json.server";
import { exportsOfRuns, toApiRun } from "~/api/schedule-json.server";
import { runNow } from "~/schedules/runs.server";
import { findSchedule } from "~/schedules/schedules.server";

export const loader = apiRoute({
  POST: {
    permission: "data.exports.schedule",
    async handle(ctx) {
      // Another tenant's schedule, or no schedule, is a 404 before anything runs.
      const schedule = await findSchedule(ctx.db, ctx.requester, ctx.params.id ?? "");
      await ctx.spendExportToken();
      const run = await runNow(ctx.db, ctx.requester, schedule.id);
      const exports = await exportsOfRuns(ctx.db, ctx.tenant.id, [run.id]);
      const body = toApiRun(run, exports.get(run.id) ?? [], publicOrigin(ctx.request));
      return { status: 202, body, headers: { Location: body.links.self } };
    },
  },
});
export const action = loader;
