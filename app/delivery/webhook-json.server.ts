import type { WebhookView } from "./targets.server";

/** An endpoint as the API answers it: never its secret. */
export function toApiWebhook(w: WebhookView) {
  return { id: w.id, url: w.url, description: w.description, disabled: w.disabled, createdAt: w.createdAt.toISOString(), createdBy: w.createdBy };
}
