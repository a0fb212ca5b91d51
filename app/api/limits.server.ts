import { z } from "zod";
import type { DB } from "../../db/client";
import { recordEvent } from "../audit/audit.server";
import { AppError } from "../lib/errors";
import { fieldErrors } from "../lib/validation";
import { DEFAULT_EXPORT_BURST, DEFAULT_EXPORTS_PER_HOUR, DEFAULT_REQUESTS_PER_HOUR } from "./rate-limit.server";
import { authorize, type Requester } from "../auth/requester";

// An empty field means "use the default".
const limit = (max: number) =>
  z.preprocess(
    (v) => (v === "" || v === undefined ? null : Number(v)),
    z.number({ error: "Enter a whole number." }).int("Enter a whole number.").min(1, "Enter at least 1.").max(max, `Enter at most ${max.toLocaleString("en")}.`).nullable(),
  );

const limitsInput = z.object({
  api_requests_per_hour: limit(1_000_000),
  api_exports_per_hour: limit(100_000),
  api_export_burst: limit(1_000),
});

export const LIMIT_DEFAULTS = {
  api_requests_per_hour: DEFAULT_REQUESTS_PER_HOUR,
  api_exports_per_hour: DEFAULT_EXPORTS_PER_HOUR,
  api_export_burst: DEFAULT_EXPORT_BURST,
};

export async function getApiLimits(db: DB, requester: Requester) {
  authorize(requester, "data.read");
  const { tenantId } = requester;
  return db.selectFrom("tenant").select(["api_requests_per_hour", "api_exports_per_hour", "api_export_burst"]).where("id", "=", tenantId).executeTakeFirstOrThrow();
}

type Limits = z.output<typeof limitsInput>;

/** Sets the tenant's API limits; each field names its own error. A change is audited with each changed limit before and after (null: the default). */
export async function setApiLimits(db: DB, requester: Requester, input: Record<string, unknown>): Promise<void> {
  authorize(requester, "tenants.manage");
  const { tenantId } = requester;
  const parsed = limitsInput.safeParse(input);
  if (!parsed.success) {
    throw new AppError("INVALID_REQUEST", "Check the limits.", { fieldErrors: fieldErrors(parsed.error, { topLevel: true }) });
  }
  const next: Limits = parsed.data;
  await db.transaction().execute(async (trx) => {
    // Locked, so two admins saving at once each record the change they actually made.
    const current = await trx
      .selectFrom("tenant")
      .select(["organization_id", "api_requests_per_hour", "api_exports_per_hour", "api_export_burst"])
      .where("id", "=", tenantId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    const changed = (Object.keys(next) as (keyof Limits)[]).filter((name) => current[name] !== next[name]);
    if (changed.length === 0) return;
    await trx.updateTable("tenant").set(next).where("id", "=", tenantId).execute();
    const from = Object.fromEntries(changed.map((name) => [name, current[name]]));
    const to = Object.fromEntries(changed.map((name) => [name, next[name]]));
    await recordEvent(trx, { organization_id: current.organization_id, tenant_id: tenantId }, "tenant.limits_changed", { type: "tenant", id: tenantId }, requester.actor, { from, to });
  });
}
