import type { DB } from "../../db/client";
import { AppError } from "../lib/errors";

/** The message every refusal of an archived tenant gives, naming it. */
export function archivedMessage(tenantName: string): string {
  return `${tenantName} is archived and read-only: nothing new can be created or changed in it. An organization owner or admin can restore it on the Tenants page.`;
}

/**
 * Throws 409 naming the tenant when it is archived. Every service that
 * writes into a tenant (exports, keys, imports, pushes, projects and apps)
 * calls it after its permission check, so each caller, portal or API, gets
 * the same answer. Reading and downloading are not refused.
 */
export async function assertTenantWritable(db: DB, tenantId: string): Promise<void> {
  const tenant = await db.selectFrom("tenant").select(["name", "archived_at"]).where("id", "=", tenantId).executeTakeFirst();
  if (tenant?.archived_at) throw new AppError("CONFLICT", archivedMessage(tenant.name), { archived: true });
}
