import { createMongoAbility, type MongoAbility } from "@casl/ability";
import type { OrgRole, TenantRole } from "../../db/schema";

/**
 * Every permission in Exportal, each checked by some route or service (a unit
 * test holds the list to that: a permission nothing checks would be a promise
 * the Settings page makes and nothing keeps). The server enforces them; the UI
 * only reads them to hide controls. A dotted name splits into a CASL subject (all but the
 * last part) and an action (the last part): `data.exports.create` is action
 * `create` on subject `data.exports`.
 */
export const PERMISSIONS = [
  "data.read",
  "members.read",
  "data.exports.read",
  "data.exports.create",
  "data.exports.download",
  "data.exports.cancel",
  "org.exports.create",
  "studies.export",
  "studies.export.full",
  "metrics.read",
  "metrics.write",
  "dashboards.read",
  "api_keys.manage",
  "tenants.manage",
  "dashboards.import",
  "dashboards.export",
] as const;

export type Permission = (typeof PERMISSIONS)[number];

/** Each permission in words, for people. */
export const PERMISSION_LABELS: Record<Permission, string> = {
  "data.read": "See projects, studies and data",
  "members.read": "See who can open this tenant",
  "data.exports.read": "See exports",
  "data.exports.create": "Start exports",
  "data.exports.download": "Download exports",
  "data.exports.cancel": "Cancel exports",
  "org.exports.create": "Export the entire organization",
  "studies.export": "Export study cohorts (identifiers removed or de-identified)",
  "studies.export.full": "Export study cohorts with full identifying data",
  "metrics.read": "Read metrics",
  "metrics.write": "Push custom metrics",
  "dashboards.read": "See dashboards",
  "api_keys.manage": "Manage API keys",
  "tenants.manage": "Manage tenants",
  "dashboards.import": "Import dashboards",
  "dashboards.export": "Download dashboard files",
};

export type { OrgRole, TenantRole };
export type AppAbility = MongoAbility;

const VIEWER: Permission[] = ["data.read", "members.read", "data.exports.read", "metrics.read", "dashboards.read"];
const EDITOR: Permission[] = [
  ...VIEWER,
  "data.exports.create",
  "data.exports.download",
  "data.exports.cancel",
  "studies.export",
  "metrics.write",
  "dashboards.import",
  // Viewers look; a dashboard file leaves the portal, so it is an export.
  "dashboards.export",
];
const TENANT_ADMIN: Permission[] = [...EDITOR, "studies.export.full", "api_keys.manage"];
const ORG_ADMIN: Permission[] = [...TENANT_ADMIN, "org.exports.create", "tenants.manage"];

export const TENANT_ROLE_PERMISSIONS: Record<TenantRole, readonly Permission[]> = {
  viewer: VIEWER,
  editor: EDITOR,
  admin: TENANT_ADMIN,
};

/**
 * The permissions of a user in one tenant. Org owners and admins act as
 * admins in every tenant of their organization and may export the whole
 * organization; plain org members get only what their tenant role grants.
 */
export function permissionsFor(orgRole: OrgRole, tenantRole: TenantRole | null): Permission[] {
  if (orgRole === "owner" || orgRole === "admin") return [...ORG_ADMIN];
  return tenantRole ? [...TENANT_ROLE_PERMISSIONS[tenantRole]] : [];
}

function split(permission: Permission): [action: string, subject: string] {
  const dot = permission.lastIndexOf(".");
  return [permission.slice(dot + 1), permission.slice(0, dot)];
}

/** The CASL ability for a set of permissions (also rebuilt in the browser from the loader's list). */
export function buildAbility(permissions: readonly Permission[]): AppAbility {
  return createMongoAbility(permissions.map((p) => {
    const [action, subject] = split(p);
    return { action, subject };
  }));
}

export function can(ability: AppAbility, permission: Permission): boolean {
  const [action, subject] = split(permission);
  return ability.can(action, subject);
}
