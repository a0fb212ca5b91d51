import type { DB } from "../../db/client";
import type { DeliveryEvent, DeliveryStatus } from "../../db/schema";
import { recordEvent } from "../audit/audit.server";
import { authorize, type Requester } from "../auth/requester";
import { AppError } from "../lib/errors";
import { findWebhook, webhookSecret } from "./targets.server";
import { postWebhook, type PostOutcome } from "./webhook-send.server";

/** One delivery to an endpoint, as its log shows it: never the body, which holds a download link. */
export interface DeliveryLogEntry {
  id: string;
  event: DeliveryEvent;
  runId: string | null;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date | null;
  createdAt: Date;
  tries: { at: Date; statusCode: number | null; error: string | null; durationMs: number }[];
}

/**
 * Sends a signed `{"type":"ping"}` to the endpoint now, once (no retries), and
 * logs it with its deliveries: whoever sets up a receiver sees at once what it answers.
 */
export async function sendTestEvent(db: DB, requester: Requester, webhookId: string): Promise<PostOutcome & { deliveryId: string }> {
  authorize(requester, "data.exports.schedule");
  const webhook = await findWebhook(db, requester, webhookId);
  if (webhook.disabled) throw new AppError("CONFLICT", "This endpoint is disabled.");
  const outcome = await postWebhook(webhook.url, await webhookSecret(db, webhook.id), { type: "ping", webhookId: webhook.id, sentAt: new Date().toISOString() });
  const deliveryId = await db.transaction().execute(async (trx) => {
    const { id } = await trx
      .insertInto("delivery")
      .values({
        tenant_id: requester.tenantId,
        run_id: null,
        event: "ping",
        channel: "webhook",
        target_key: `webhook:${webhook.id}`,
        user_id: null,
        webhook_id: webhook.id,
        bucket_id: null,
        export_id: null,
        status: outcome.error ? "failed" : "sent",
        attempts: 1,
        last_status_code: outcome.statusCode,
        last_error: outcome.error,
        finished_at: new Date(),
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    await trx.insertInto("delivery_attempt").values({ delivery_id: id, status_code: outcome.statusCode, error: outcome.error, duration_ms: outcome.durationMs }).execute();
    await recordEvent(trx, { organization_id: requester.organizationId, tenant_id: requester.tenantId }, "webhook.tested", { type: "webhook", id: webhook.id }, requester.actor, {
      statusCode: outcome.statusCode,
    });
    return id;
  });
  return { ...outcome, deliveryId };
}

/** An endpoint's deliveries, newest first, each with its tries. */
export async function webhookLog(db: DB, requester: Requester, webhookId: string, limit = 50): Promise<DeliveryLogEntry[]> {
  const webhook = await findWebhook(db, requester, webhookId);
  const deliveries = await db
    .selectFrom("delivery")
    .select(["id", "event", "run_id", "status", "attempts", "next_attempt_at", "created_at"])
    .where("webhook_id", "=", webhook.id)
    .orderBy("created_at", "desc")
    .orderBy("id")
    .limit(limit)
    .execute();
  const ids = deliveries.map((d) => d.id);
  const tries = ids.length
    ? await db.selectFrom("delivery_attempt").select(["delivery_id", "attempted_at", "status_code", "error", "duration_ms"]).where("delivery_id", "in", ids).orderBy("attempted_at").orderBy("id").execute()
    : [];
  return deliveries.map((d) => ({
    id: d.id,
    event: d.event,
    runId: d.run_id,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.next_attempt_at,
    createdAt: d.created_at,
    tries: tries.filter((t) => t.delivery_id === d.id).map((t) => ({ at: t.attempted_at, statusCode: t.status_code, error: t.error, durationMs: t.duration_ms })),
  }));
}
