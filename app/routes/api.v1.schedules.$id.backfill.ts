import { apiRoute, parseBody } from "~/api/api-route.server";
import { publicOrigin } from "~/api/export-json.server";
import { scheduleUrl } from "~/api/schedule-json.server";
import { backfillBody } from "~/api/schemas";
import { startBackfill } from "~/schedules/runs.server";
import { findSchedule } from "~/schedules/schedules.server";

export const loader = apiRoute({
  POST: {
    permission: "data.exports.schedule",
    async handle(ctx) {
      const schedule = await findSchedule(ctx.db, ctx.requester, ctx.params.id ?? "");
      const range = parseBody(ctx.body, backfillBody);
      await ctx.spendExportToken();
      const started = await startBackfill(ctx.db, ctx.requester, schedule.id, range);
      return { status: 202, body: { ...started, links: { runs: `${scheduleUrl(publicOrigin(ctx.request), schedule.id)}/runs` } } };
    },
  },
});
export const action = loader;
