import { data, redirect } from "@remix-run/node";
import { sql } from "kysely";
import { getDb } from "../../db/client";
import { clientOf } from "../lib/client.server";
import { getSessionUser, type SessionUser } from "./auth.server";
import type { Requester } from "./requester";
import { buildAbility, can, permissionsFor, type AppAbility, type OrgRole, type Permission, type TenantRole } from "./permissions";

export interface TenantContext {
  user: SessionUser;
  org: { id: string; name: string; slug: string };
  orgRole: OrgRole;
  /** `archived`: the tenant is read-only (its services refuse writes); it still opens, for its history. */
  tenant: { id: string; name: string; slug: string; archived: boolean };
  tenantRole: TenantRole | null;
  permissions: Permission[];
  ability: AppAbility;
  /** Where the request came from, for the audit trail. */
  client: { ip: string | null; userAgent: string | null };
}

/** Who is asking, as the service functions and the audit trail need it. */
export function requesterOf(ctx: TenantContext): Requester {
  return {
    tenantId: ctx.tenant.id,
    organizationId: ctx.org.id,
    actor: { userId: ctx.user.id, label: ctx.user.name, ...ctx.client },
    ability: ctx.ability,
  };
}

export interface PermissionDenied {
  denied: true;
  title: string;
  message: string;
}

/** The signed-in user, or a redirect to sign-in that comes back here. */
export async function requireUser(request: Request): Promise<SessionUser> {
  const user = await getSessionUser(request);
  if (user) return user;
  const url = new URL(request.url);
  const back = url.pathname + url.search;
  throw redirect(`/sign-in?redirectTo=${encodeURIComponent(back)}`);
}

export function notFound(): Response {
  return new Response("Not found", { status: 404 });
}

/**
 * Resolves session → organization → tenant → ability, in that order, and
 * checks `permission`. What the user is not a member of answers 404 (its
 * existence is not revealed); a missing permission answers 403.
 */
export async function requireTenant(
  request: Request,
  params: { org?: string; tenant?: string },
  permission?: Permission,
): Promise<TenantContext> {
  // A page's loaders (the tenant layout's and the page's) run on one request: they share one lookup.
  const key = `${params.org ?? ""}/${params.tenant ?? ""}`;
  const lookups = tenantLookups.get(request) ?? new Map<string, Promise<TenantContext>>();
  tenantLookups.set(request, lookups);
  let lookup = lookups.get(key);
  if (!lookup) lookups.set(key, (lookup = lookUpTenant(request, params)));
  const ctx = await lookup;
  if (permission) requirePermission(ctx, permission);
  return ctx;
}

const tenantLookups = new WeakMap<Request, Map<string, Promise<TenantContext>>>();

async function lookUpTenant(request: Request, params: { org?: string; tenant?: string }): Promise<TenantContext> {
  const user = await requireUser(request);
  const row = await getDb()
    .selectFrom("organization as o")
    .innerJoin("member as m", (j) => j.onRef("m.organizationId", "=", "o.id").on("m.userId", "=", user.id))
    .innerJoin("tenant as t", (j) => j.onRef("t.organization_id", "=", "o.id").on("t.slug", "=", params.tenant ?? ""))
    .leftJoin("tenant_member as tm", (j) => j.onRef("tm.tenant_id", "=", "t.id").on("tm.user_id", "=", user.id))
    .where("o.slug", "=", params.org ?? "")
    .select([
      "o.id as orgId", "o.name as orgName", "o.slug as orgSlug", "m.role as orgRole",
      "t.id as tenantId", "t.name as tenantName", "t.slug as tenantSlug", "t.archived_at as tenantArchivedAt", "tm.role as tenantRole",
    ])
    .executeTakeFirst();
  if (!row) throw notFound();
  const permissions = permissionsFor(row.orgRole, row.tenantRole);
  // A plain org member with no role in this tenant may not know its contents.
  if (permissions.length === 0) throw notFound();
  return {
    user,
    org: { id: row.orgId, name: row.orgName, slug: row.orgSlug },
    orgRole: row.orgRole,
    tenant: { id: row.tenantId, name: row.tenantName, slug: row.tenantSlug, archived: row.tenantArchivedAt !== null },
    tenantRole: row.tenantRole,
    permissions,
    ability: buildAbility(permissions),
    client: clientOf(request),
  };
}

/** Throws the 403 page unless the context grants `permission`. */
export function requirePermission(ctx: TenantContext, permission: Permission): void {
  if (can(ctx.ability, permission)) return;
  const body: PermissionDenied = {
    denied: true,
    title: "You don't have permission to do this",
    message: `Your role in ${ctx.tenant.name} does not include “${permission}”. Ask an organization or tenant admin.`,
  };
  throw data(body, { status: 403 });
}

export interface TenantChoice {
  orgSlug: string;
  orgName: string;
  tenantSlug: string;
  tenantName: string;
  archived: boolean;
}

/**
 * Every organization and tenant the user may open, for the header switcher.
 * Archived tenants stay listed (marked) for everyone who could open them,
 * tenant members included: their history stays downloadable until retention.
 */
export async function listTenantChoices(userId: string): Promise<TenantChoice[]> {
  return getDb()
    .selectFrom("member as m")
    .innerJoin("organization as o", "o.id", "m.organizationId")
    .innerJoin("tenant as t", "t.organization_id", "o.id")
    .leftJoin("tenant_member as tm", (j) => j.onRef("tm.tenant_id", "=", "t.id").on("tm.user_id", "=", userId))
    .where("m.userId", "=", userId)
    .where((eb) => eb.or([eb("m.role", "in", ["owner", "admin"]), eb("tm.role", "is not", null)]))
    .select(["o.slug as orgSlug", "o.name as orgName", "t.slug as tenantSlug", "t.name as tenantName"])
    .select(sql<boolean>`t.archived_at is not null`.as("archived"))
    .orderBy("o.name")
    // Active tenants first, so choosing only an organization opens one that can still be worked in.
    .orderBy((eb) => eb("t.archived_at", "is not", null))
    .orderBy("t.name")
    .execute();
}

/** Remembers the tenant a user opened, so the next visit starts there. */
export async function rememberTenant(userId: string, tenantId: string): Promise<void> {
  await getDb()
    .insertInto("user_preference")
    .values({ user_id: userId, tenant_id: tenantId })
    .onConflict((oc) =>
      oc.column("user_id").doUpdateSet({ tenant_id: tenantId, updated_at: sql`now()` }).where("user_preference.tenant_id", "is distinct from", tenantId),
    )
    .execute();
}

/** A tenant's exports page, where the portal lands. */
const tenantPath = (c: { orgSlug: string; tenantSlug: string }) => `/o/${c.orgSlug}/t/${c.tenantSlug}/exports`;

/** The one tenant someone with exactly one organization and one tenant may open: nothing to choose, so they land there. */
export function onlyTenantPath(choices: TenantChoice[]): string | null {
  return choices.length === 1 ? tenantPath(choices[0]) : null;
}

/** Where the portal lands: the tenant the user last opened, else their only tenant, else null (they choose). */
export async function lastTenantPath(userId: string): Promise<string | null> {
  const choices = await listTenantChoices(userId);
  const pref = await getDb()
    .selectFrom("user_preference as p")
    .innerJoin("tenant as t", "t.id", "p.tenant_id")
    .innerJoin("organization as o", "o.id", "t.organization_id")
    .where("p.user_id", "=", userId)
    .select(["o.slug as orgSlug", "t.slug as tenantSlug"])
    .executeTakeFirst();
  const allowed = pref && choices.some((c) => c.orgSlug === pref.orgSlug && c.tenantSlug === pref.tenantSlug);
  return allowed ? tenantPath(pref) : onlyTenantPath(choices);
}
