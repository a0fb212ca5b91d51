import { apiRoute } from "~/api/api-route.server";
import { toApiWebhook } from "~/delivery/webhook-json.server";
import { webhookChangeSchema } from "~/delivery/delivery-input";
import { deleteWebhook, findWebhook, setWebhookDisabled } from "~/delivery/targets.server";
import { AppError } from "~/lib/errors";
import { fieldErrors } from "~/lib/validation";

// Another tenant's endpoint is as unknown as an id that never existed: 404 either way.
export const loader = apiRoute({
  GET: {
    permission: "data.exports.read",
    async handle(ctx) {
      return { status: 200, body: toApiWebhook(await findWebhook(ctx.db, ctx.requester, ctx.params.id ?? "")) };
    },
  },
  PATCH: {
    permission: "data.exports.schedule",
    async handle(ctx) {
      const parsed = webhookChangeSchema.safeParse(ctx.body ?? {});
      if (!parsed.success) throw new AppError("INVALID_REQUEST", "The change is not valid.", { fieldErrors: fieldErrors(parsed.error) });
      return { status: 200, body: toApiWebhook(await setWebhookDisabled(ctx.db, ctx.requester, ctx.params.id ?? "", parsed.data.disabled)) };
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
