import { forgetCachedKeys } from "../api/key-cache.server";
import { sql } from "kysely";
import { z } from "zod";
import type { DB } from "../../db/client";
import { recordEvent } from "../audit/audit.server";
import { authorize, type Requester } from "../auth/requester";
import { AppError } from "../lib/errors";
import { isUuid } from "../lib/ids";
import { fieldErrors, invalid } from "../lib/validation";
import { isUniqueViolation, nameField, slugField, slugFromName } from "./names";

// Org owners and admins (`tenants.manage`) create, rename, archive and
// restore the tenants of their organization. Each function works on the
// requester's organization only: another organization's tenant is not found.

export interface TenantRow {
  id: string;
  name: string;
  slug: string;
  created_at: Date;
  archived_at: Date | null;
  projects: number;
  members: number;
}

/** The organization's tenants, active ones first, with their project and member counts. */
export async function listTenants(db: DB, requester: Requester): Promise<TenantRow[]> {
  authorize(requester, "tenants.manage");
  const rows = await db
    .selectFrom("tenant as t")
    .where("t.organization_id", "=", requester.organizationId)
    .select(["t.id", "t.name", "t.slug", "t.created_at", "t.archived_at"])
    .select((eb) => [
      eb.selectFrom("project as p").whereRef("p.tenant_id", "=", "t.id").select((e) => e.fn.countAll<string>().as("n")).as("projects"),
      eb.selectFrom("tenant_member as tm").whereRef("tm.tenant_id", "=", "t.id").select((e) => e.fn.countAll<string>().as("n")).as("members"),
    ])
    .orderBy(sql`t.archived_at is not null`)
    .orderBy("t.name")
    .execute();
  return rows.map((r) => ({ ...r, projects: Number(r.projects ?? 0), members: Number(r.members ?? 0) }));
}

const createInput = z.object({ name: nameField("tenant"), slug: z.string().optional() });

/** Creates a tenant; an empty slug is derived from the name. A slug taken in the organization is refused naming `slug`. */
export async function createTenant(db: DB, requester: Requester, input: unknown) {
  authorize(requester, "tenants.manage");
  const parsed = createInput.safeParse(input ?? {});
  if (!parsed.success) throw new AppError("INVALID_REQUEST", "The tenant is not valid.", { fieldErrors: fieldErrors(parsed.error) });
  const { name } = parsed.data;
  const slug = slugField.safeParse(parsed.data.slug?.trim() || slugFromName(name));
  if (!slug.success) throw invalid("slug", slug.error.issues[0].message);
  const taken = () => invalid("slug", `The slug ${slug.data} is already used by a tenant of this organization. Choose another.`);
  const existing = await db.selectFrom("tenant").select("id").where("organization_id", "=", requester.organizationId).where("slug", "=", slug.data).executeTakeFirst();
  if (existing) throw taken();
  try {
    return await db.transaction().execute(async (trx) => {
      const created = await trx
        .insertInto("tenant")
        .values({ organization_id: requester.organizationId, name, slug: slug.data })
        .returning(["id", "name", "slug"])
        .executeTakeFirstOrThrow();
      await recordEvent(trx, placeOf(requester, created.id), "tenant.created", { type: "tenant", id: created.id }, requester.actor, { name, slug: slug.data });
      return created;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw taken();
    throw error;
  }
}

/** Renames a tenant of the organization; its slug, and so every address and link, stays. */
export async function renameTenant(db: DB, requester: Requester, id: string, input: unknown) {
  authorize(requester, "tenants.manage");
  const parsed = z.object({ name: nameField("tenant") }).safeParse(input ?? {});
  if (!parsed.success) throw new AppError("INVALID_REQUEST", "The tenant name is not valid.", { fieldErrors: fieldErrors(parsed.error) });
  const tenant = await findTenant(db, requester, id);
  const { name } = parsed.data;
  if (name === tenant.name) return tenant;
  await db.transaction().execute(async (trx) => {
    await trx.updateTable("tenant").set({ name }).where("id", "=", tenant.id).execute();
    await recordEvent(trx, placeOf(requester, tenant.id), "tenant.renamed", { type: "tenant", id: tenant.id }, requester.actor, { from: tenant.name, to: name });
  });
  return { ...tenant, name };
}

/**
 * Archives a tenant: it turns read-only (no new exports, keys, imports or
 * pushes; its API keys stop), while its history and archives stay
 * downloadable for their retention. Exports already running finish.
 */
export function archiveTenant(db: DB, requester: Requester, id: string) {
  return setArchived(db, requester, id, true);
}

/** Restores an archived tenant: it is writable again, and its keys that were not revoked work again. */
export function restoreTenant(db: DB, requester: Requester, id: string) {
  return setArchived(db, requester, id, false);
}

async function setArchived(db: DB, requester: Requester, id: string, archive: boolean) {
  authorize(requester, "tenants.manage");
  const tenant = await findTenant(db, requester, id);
  await db.transaction().execute(async (trx) => {
    const changed = await trx
      .updateTable("tenant")
      .set({ archived_at: archive ? new Date() : null })
      .where("id", "=", tenant.id)
      .where("archived_at", archive ? "is" : "is not", null)
      .returning("id")
      .executeTakeFirst();
    if (!changed) throw new AppError("CONFLICT", `${tenant.name} is ${archive ? "already archived" : "not archived"}.`);
    await recordEvent(trx, placeOf(requester, tenant.id), archive ? "tenant.archived" : "tenant.restored", { type: "tenant", id: tenant.id }, requester.actor, { name: tenant.name });
  });
  forgetCachedKeys();
  return tenant;
}

async function findTenant(db: DB, requester: Requester, id: string) {
  const tenant = isUuid(id)
    ? await db.selectFrom("tenant").select(["id", "name", "slug"]).where("organization_id", "=", requester.organizationId).where("id", "=", id).executeTakeFirst()
    : undefined;
  if (!tenant) throw new AppError("NOT_FOUND", "No such tenant in this organization.");
  return tenant;
}

const placeOf = (requester: Requester, tenantId: string) => ({ organization_id: requester.organizationId, tenant_id: tenantId });
