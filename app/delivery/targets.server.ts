import type { DB } from "../../db/client";
import type { Requester } from "../auth/requester";

// PLACEHOLDER until the delivery branch lands: webhook endpoints and buckets a schedule delivers to.

/** The tenant's webhook endpoints and buckets a schedule may deliver to, for the schedule form. */
export async function listDeliveryTargets(_db: DB, _requester: Requester): Promise<{ webhooks: { id: string; label: string }[]; buckets: { id: string; label: string }[] }> {
  return { webhooks: [], buckets: [] };
}

/** Checks that each id is one of the tenant's endpoints or buckets (400 naming the field otherwise). */
export async function checkScheduleTargets(_db: DB, _requester: Requester, targets: { webhookIds: string[]; bucketIds: string[] }) {
  return targets;
}

/** Replaces a schedule's webhook and bucket targets (inside the caller's transaction). */
export async function setScheduleTargets(_db: DB, _scheduleId: string, _targets: { webhookIds: string[]; bucketIds: string[] }): Promise<void> {}

/** A schedule's current targets. */
export async function scheduleTargets(_db: DB, _scheduleId: string): Promise<{ webhookIds: string[]; bucketIds: string[] }> {
  return { webhookIds: [], bucketIds: [] };
}
