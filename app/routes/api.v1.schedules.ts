import { apiRoute } from "~/api/api-route.server";
import { publicOrigin } from "~/api/export-json.server";
import { refuseUnknownFields, requireObject, toApiSchedule } from "~/api/schedule-json.server";
import { createSchedule, getSchedule, listSchedules } from "~/schedules/schedules.server";

export const loader = apiRoute({
  GET: {
    permission: "data.exports.read",
    async handle(ctx) {
      const origin = publicOrigin(ctx.request);
      return { status: 200, body: { data: (await listSchedules(ctx.db, ctx.requester)).map((s) => toApiSchedule(s, origin)) } };
    },
  },
  POST: {
    permission: "data.exports.schedule",
    async handle(ctx) {
      // No body is an empty schedule: the 400 then names each field it needs.
      const input = ctx.body ?? {};
      requireObject(input);
      refuseUnknownFields(input);
      const created = await createSchedule(ctx.db, ctx.requester, input);
      const body = toApiSchedule(await getSchedule(ctx.db, ctx.requester, created.id), publicOrigin(ctx.request));
      return { status: 201, body, headers: { Location: body.links.self } };
    },
  },
});
export const action = loader;
