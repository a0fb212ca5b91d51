import { forgetCachedKeys } from "../api/key-cache.server";
import type { DB } from "../../db/client";
import { ORG_ROLES, type OrgRole, type TenantRole } from "../../db/schema";
import { recordEvent } from "../audit/audit.server";
import { authorize, type Requester } from "../auth/requester";
import { AppError } from "../lib/errors";
import { invalid } from "../lib/validation";
import { checkTenantRoles, lockOrganization, managerRole, organizationTenants, ownerCount, requireOwnerFor } from "./membership.server";

/** The member being changed, in the requester's organization, or 404. */
async function targetMember(trx: DB, orgId: string, userId: string) {
  const row = await trx
    .selectFrom("member as m")
    .innerJoin("user as u", "u.id", "m.userId")
    .where("m.organizationId", "=", orgId)
    .where("m.userId", "=", userId)
    .select(["m.id", "m.role", "u.id as userId", "u.name", "u.email"])
    .executeTakeFirst();
  if (!row) throw new AppError("NOT_FOUND", "No such member.");
  return row;
}

const LAST_OWNER = "An organization needs an owner: make someone else an owner first.";

/**
 * Sets a member's organization role and their role in each tenant named in
 * `tenantRoles` (tenant id → admin, editor, viewer or none); tenants not
 * named keep their role. Only owners make, change or remove owners, and the
 * last owner stays an owner. Each change is audited from → to.
 */
export async function changeMemberRoles(
  db: DB,
  requester: Requester,
  input: { userId: string; role: unknown; tenantRoles: Record<string, string> },
): Promise<void> {
  authorize(requester, "members.manage");
  if (!ORG_ROLES.includes(input.role as OrgRole)) throw invalid("role", "Choose Member, Admin or Owner.");
  const role = input.role as OrgRole;
  const orgId = requester.organizationId;
  await db.transaction().execute(async (trx) => {
    await lockOrganization(trx, orgId);
    const actorRole = await managerRole(trx, orgId, requester.actor.userId);
    const member = await targetMember(trx, orgId, input.userId);
    if (member.role === "owner") requireOwnerFor(actorRole, "change an owner's roles", "role");
    if (role === "owner" && member.role !== "owner") requireOwnerFor(actorRole, "make someone an owner", "role");
    if (member.role === "owner" && role !== "owner" && (await ownerCount(trx, orgId)) === 1) {
      throw new AppError("CONFLICT", LAST_OWNER, { fieldErrors: { role: LAST_OWNER } });
    }
    const tenants = await organizationTenants(trx, orgId);
    const wanted = checkTenantRoles(input.tenantRoles, tenants);
    const place = { organization_id: orgId, tenant_id: null };
    const subject = { type: "user", id: member.userId };

    if (role !== member.role) {
      await trx.updateTable("member").set({ role }).where("id", "=", member.id).execute();
      await recordEvent(trx, place, "member.role_changed", subject, requester.actor, { email: member.email, from: member.role, to: role });
    }
    const current = await trx
      .selectFrom("tenant_member")
      .where("user_id", "=", member.userId)
      .where("tenant_id", "in", tenants.length ? tenants.map((t) => t.id) : [""])
      .select(["tenant_id", "role"])
      .execute();
    for (const tenant of tenants) {
      if (!wanted.has(tenant.id)) continue;
      const to = wanted.get(tenant.id) ?? null;
      const from: TenantRole | null = current.find((c) => c.tenant_id === tenant.id)?.role ?? null;
      if (from === to) continue;
      if (to === null) {
        await trx.deleteFrom("tenant_member").where("tenant_id", "=", tenant.id).where("user_id", "=", member.userId).execute();
      } else {
        await trx
          .insertInto("tenant_member")
          .values({ tenant_id: tenant.id, user_id: member.userId, role: to })
          .onConflict((oc) => oc.columns(["tenant_id", "user_id"]).doUpdateSet({ role: to }))
          .execute();
      }
      await recordEvent(trx, { organization_id: orgId, tenant_id: tenant.id }, "member.role_changed", subject, requester.actor, {
        email: member.email,
        tenant: { id: tenant.id, name: tenant.name },
        from,
        to,
      });
    }
  });
  // This process stops trusting cached keys now; the others when the trigger's notification reaches them.
  forgetCachedKeys();
}

/**
 * Removes a member's role in the requester's tenant. Org owners and admins
 * open every tenant whatever their tenant role, so for them this is refused
 * with what to do instead.
 */
export async function removeFromTenant(db: DB, requester: Requester, userId: string): Promise<void> {
  authorize(requester, "members.manage");
  const orgId = requester.organizationId;
  await db.transaction().execute(async (trx) => {
    await lockOrganization(trx, orgId);
    await managerRole(trx, orgId, requester.actor.userId);
    const member = await targetMember(trx, orgId, userId);
    const tenant = await trx.selectFrom("tenant").select(["id", "name"]).where("id", "=", requester.tenantId).where("organization_id", "=", orgId).executeTakeFirstOrThrow();
    if (member.role !== "member") {
      throw new AppError("CONFLICT", `${member.name} is an organization ${member.role} and opens every tenant. Change their organization role to Member first.`);
    }
    const removed = await trx
      .deleteFrom("tenant_member")
      .where("tenant_id", "=", tenant.id)
      .where("user_id", "=", member.userId)
      .returning("role")
      .executeTakeFirst();
    if (!removed) throw new AppError("CONFLICT", `${member.name} has no role in ${tenant.name}.`);
    await recordEvent(trx, { organization_id: orgId, tenant_id: tenant.id }, "member.removed", { type: "user", id: member.userId }, requester.actor, {
      email: member.email,
      from: "tenant",
      tenant: { id: tenant.id, name: tenant.name },
      role: removed.role,
    });
  });
  // This process stops trusting cached keys now; the others when the trigger's notification reaches them.
  forgetCachedKeys();
}

/**
 * Removes a member from the organization and from every tenant of it. Their
 * account stays (they may belong to other organizations); their sessions stay
 * valid but open nothing here from their next request, and their API keys
 * here stop. Only owners remove owners; the last owner cannot leave.
 */
export async function removeFromOrganization(db: DB, requester: Requester, userId: string): Promise<void> {
  authorize(requester, "members.manage");
  const orgId = requester.organizationId;
  await db.transaction().execute(async (trx) => {
    await lockOrganization(trx, orgId);
    const actorRole = await managerRole(trx, orgId, requester.actor.userId);
    const member = await targetMember(trx, orgId, userId);
    if (member.role === "owner") {
      requireOwnerFor(actorRole, "remove an owner");
      if ((await ownerCount(trx, orgId)) === 1) throw new AppError("CONFLICT", LAST_OWNER);
    }
    const tenants = await organizationTenants(trx, orgId);
    const removedRoles = tenants.length
      ? await trx.deleteFrom("tenant_member").where("user_id", "=", member.userId).where("tenant_id", "in", tenants.map((t) => t.id)).returning(["tenant_id", "role"]).execute()
      : [];
    await trx.deleteFrom("member").where("id", "=", member.id).execute();
    await recordEvent(trx, { organization_id: orgId, tenant_id: null }, "member.removed", { type: "user", id: member.userId }, requester.actor, {
      email: member.email,
      from: "organization",
      role: member.role,
      tenants: removedRoles.map((r) => ({ id: r.tenant_id, name: tenants.find((t) => t.id === r.tenant_id)?.name, role: r.role })),
    });
  });
  // This process stops trusting cached keys now; the others when the trigger's notification reaches them.
  forgetCachedKeys();
}
