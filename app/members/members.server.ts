import type { DB } from "../../db/client";
import type { OrgRole, TenantRole } from "../../db/schema";
import { authorize, type Requester } from "../auth/requester";
import { organizationTenants } from "./membership.server";

export interface OrganizationMember {
  userId: string;
  name: string;
  email: string;
  orgRole: OrgRole;
  /** Tenant id → role, for the tenants where they have one. */
  tenantRoles: Record<string, TenantRole>;
}

/** Everyone in the requester's organization with their roles in each of its tenants, and the tenants, for those who manage members. */
export async function listOrganizationMembers(db: DB, requester: Requester) {
  authorize(requester, "members.manage");
  const orgId = requester.organizationId;
  const tenants = await organizationTenants(db, orgId);
  const members = await db
    .selectFrom("member as m")
    .innerJoin("user as u", "u.id", "m.userId")
    .where("m.organizationId", "=", orgId)
    .select(["u.id as userId", "u.name", "u.email", "m.role as orgRole"])
    .orderBy("u.name")
    .execute();
  const roles = tenants.length
    ? await db.selectFrom("tenant_member").where("tenant_id", "in", tenants.map((t) => t.id)).select(["tenant_id", "user_id", "role"]).execute()
    : [];
  return {
    tenants,
    members: members.map((m): OrganizationMember => ({
      ...m,
      tenantRoles: Object.fromEntries(roles.filter((r) => r.user_id === m.userId).map((r) => [r.tenant_id, r.role])),
    })),
  };
}
