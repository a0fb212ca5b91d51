import { apiRoute } from "~/api/api-route.server";
import { publicOrigin } from "~/api/export-json.server";
import { mergedSettings, toApiSchedule } from "~/api/schedule-json.server";
import { deleteSchedule, getSchedule, updateSchedule } from "~/schedules/schedules.server";

export const loader = apiRoute({
  GET: {
    permission: "data.exports.read",
    async handle(ctx) {
      // Another tenant's schedule is as unknown as an id that never existed.
      return { status: 200, body: toApiSchedule(await getSchedule(ctx.db, ctx.requester, ctx.params.id ?? ""), publicOrigin(ctx.request)) };
    },
  },
  PATCH: {
    permission: "data.exports.schedule",
    async handle(ctx) {
      const current = await getSchedule(ctx.db, ctx.requester, ctx.params.id ?? "");
      await updateSchedule(ctx.db, ctx.requester, current.id, mergedSettings(current, ctx.body));
      return { status: 200, body: toApiSchedule(await getSchedule(ctx.db, ctx.requester, current.id), publicOrigin(ctx.request)) };
    },
  },
  DELETE: {
    permission: "data.exports.schedule",
    async handle(ctx) {
      await deleteSchedule(ctx.db, ctx.requester, ctx.params.id ?? "");
      return { status: 204 };
    },
  },
});
export const action = loader;
