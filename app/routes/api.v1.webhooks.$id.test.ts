import { apiRoute } from "~/api/api-route.server";
import { sendTestEvent } from "~/delivery/webhook-log.server";

/** POST /api/v1/webhooks/:id/test: a signed ping, and what the endpoint answered. */
export const loader = apiRoute({
  POST: {
    permission: "data.exports.schedule",
    async handle(ctx) {
      const { statusCode, error, durationMs } = await sendTestEvent(ctx.db, ctx.requester, ctx.params.id ?? "");
      return { status: 200, body: { ok: error === null, statusCode, error, durationMs } };
    },
  },
});
export const action = loader;
