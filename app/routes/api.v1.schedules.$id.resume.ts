import { apiRoute } from "~/api/api-route.server";
import { publicOrigin } from "~/api/export-json.server";
import { toApiSchedule } from "~/api/schedule-json.server";
import { getSchedule, resumeSchedule } from "~/schedules/schedules.server";

export const loader = apiRoute({
  POST: {
    permission: "data.exports.schedule",
    async handle(ctx) {
      const done = await resumeSchedule(ctx.db, ctx.requester, ctx.params.id ?? "");
      return { status: 200, body: toApiSchedule(await getSchedule(ctx.db, ctx.requester, done.id), publicOrigin(ctx.request)) };
    },
  },
});
export const action = loader;
