import { apiRoute } from "~/api/api-route.server";
import { publicOrigin } from "~/api/export-json.server";
import { toApiWebhook } from "~/delivery/webhook-json.server";
import { createWebhook, listWebhooks } from "~/delivery/targets.server";

export const loader = apiRoute({
  GET: {
    permission: "data.exports.read",
    async handle(ctx) {
      return { status: 200, body: { data: (await listWebhooks(ctx.db, ctx.requester)).map(toApiWebhook) } };
    },
  },
  POST: {
    permission: "data.exports.schedule",
    async handle(ctx) {
      const { webhook, secret } = await createWebhook(ctx.db, ctx.requester, ctx.body);
      return { status: 201, body: { ...toApiWebhook(webhook), secret }, headers: { Location: `${publicOrigin(ctx.request)}/api/v1/webhooks/${webhook.id}` } };
    },
  },
});
export const action = loader;
