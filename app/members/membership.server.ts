import { DAY_MS } from "../lib/dates";
import { createHash } from "node:crypto";
import type { DB } from "../../db/client";
import { TENANT_ROLES, type OrgRole, type TenantRole } from "../../db/schema";
import { AppError } from "../lib/errors";

/** What the forms offer per tenant: a role, or no access. */
export const TENANT_CHOICES = [...TENANT_ROLES, "none"] as const;
export type TenantChoice = (typeof TENANT_CHOICES)[number];

/** The form field that carries the role in one tenant. */
export const tenantField = (tenantId: string) => `tenant.${tenantId}`;

export const INVITATION_TTL_MS = 7 * DAY_MS;

/** What is stored of an invitation link's token. */
export function hashInvitationToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/**
 * Locks the organization's row until the transaction ends. Every change to
 * members and invitations takes it first, so "is this the last owner?" and
 * "is this email already invited?" cannot be answered differently by two
 * transactions at once.
 */
export async function lockOrganization(trx: DB, organizationId: string): Promise<void> {
  await trx.selectFrom("organization").select("id").where("id", "=", organizationId).forUpdate().executeTakeFirstOrThrow();
}

/**
 * The acting person's organization role, read inside the transaction; only
 * owners and admins manage members, whatever their session said a moment ago.
 */
export async function managerRole(trx: DB, organizationId: string, userId: string | null): Promise<"owner" | "admin"> {
  const row = userId
    ? await trx.selectFrom("member").select("role").where("organizationId", "=", organizationId).where("userId", "=", userId).executeTakeFirst()
    : undefined;
  if (row?.role === "owner" || row?.role === "admin") return row.role;
  throw new AppError("FORBIDDEN", "This needs the permission members.manage, which your role does not include.", { permission: "members.manage" });
}

/** Refuses what only an owner may do: make, change, invite or remove an owner. */
export function requireOwnerFor(actorRole: OrgRole, what: string, field?: string): void {
  if (actorRole === "owner") return;
  const message = `Only an owner can ${what}.`;
  throw new AppError("FORBIDDEN", message, field ? { fieldErrors: { [field]: message } } : {});
}

export async function ownerCount(trx: DB, organizationId: string): Promise<number> {
  const row = await trx
    .selectFrom("member")
    .where("organizationId", "=", organizationId)
    .where("role", "=", "owner")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The organization's tenants, by name: the order the forms list them and "first tenant granted" follows. */
export function organizationTenants(db: DB, organizationId: string) {
  return db.selectFrom("tenant").where("organization_id", "=", organizationId).select(["id", "name", "slug"]).orderBy("name").orderBy("id").execute();
}

/** The per-tenant choices of a form: its `tenant.<id>` fields, keyed by tenant id. */
export function tenantChoicesOf(form: FormData): Record<string, string> {
  const choices: Record<string, string> = {};
  for (const [name, value] of form.entries()) if (name.startsWith("tenant.")) choices[name.slice("tenant.".length)] = String(value);
  return choices;
}

/**
 * The role per tenant that was asked for, for the organization's tenants
 * only; a tenant the organization does not have, or an unknown role, is
 * refused naming its field.
 */
export function checkTenantRoles(choices: Record<string, string>, tenants: { id: string }[]): Map<string, TenantRole | null> {
  const known = new Set(tenants.map((t) => t.id));
  const roles = new Map<string, TenantRole | null>();
  for (const [tenantId, value] of Object.entries(choices)) {
    const field = tenantField(tenantId);
    if (!known.has(tenantId)) throw new AppError("INVALID_REQUEST", "Unknown tenant.", { fieldErrors: { [field]: "Unknown tenant." } });
    if (!TENANT_CHOICES.includes(value as TenantChoice)) {
      const message = "Choose Admin, Editor, Viewer or No access.";
      throw new AppError("INVALID_REQUEST", message, { fieldErrors: { [field]: message } });
    }
    roles.set(tenantId, value === "none" ? null : (value as TenantRole));
  }
  return roles;
}
