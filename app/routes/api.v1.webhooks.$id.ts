import { apiRoute } from "~/api/api-route.server";
import { toApiWebhook } from "~/delivery/webhook-json.server";
import { deleteWebhook, findWebhook } from "~/delivery/targets.server";

// Another tenant's endpoint is as unknown as an id that never existed: 404 either way.
export const loader = apiRoute({
  GET: {
    permission: "data.exports.read",
    async handle(ctx) {
      return { status: 200, body: toApiWebhook(await findWebhook(ctx.db, ctx.requester, ctx.params.id ?? "")) };
    },
  },
  DELETE: {
    permission: "data.exports.schedule",
    async handle(ctx) {
      await deleteWebhook(ctx.db, ctx.requester, ctx.params.id ?? "");
      return { status: 204 };
    },
  },
});
export const action = loader;
