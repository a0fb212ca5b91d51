import { createMongoAbility, subject as asSubject, type MongoAbility } from "@casl/ability";
import type { OrgRole, TenantRole } from "../../db/schema";

/**
 * Every permission in Exportal, each checked by some route or service (a unit
 * test holds the list to that: a permission nothing checks would be a promise
 * the Settings page makes and nothing keeps). The server enforces them; the UI
 * only reads them to hide controls.
 *
 * How they map onto CASL, the one way used throughout:
 * - A dotted name splits into a subject (all but the last part) and an action
 *   (the last part): `data.exports.create` is action `create` on subject
 *   `data.exports`. `can(ability, permission)` asks whether a role may do it
 *   at all; `can(ability, permission, row)` whether it may do it to that row.
 * - Conditions are used where they carry meaning beyond the tenant: the
 *   `data.exports` rules of anyone without `org.exports.create` hold only for
 *   exports whose `scope.type` is not `organization`. An organization-wide
 *   export belongs to the organization, not to the tenant it was started
 *   from: only org owners and admins see, download, share or cancel it, and
 *   no tenant API key (keys cannot hold `org.exports.create`) ever does.
 *   `abilityCondition` turns the same rules into the SQL that lists exports.
 * - The tenant itself is not a condition: every query is scoped to the
 *   requester's tenant by the function that runs it, so an id from another
 *   tenant finds nothing and answers 404.
 */
export const PERMISSIONS = [
  "data.read",
  "members.read",
  "data.exports.read",
  "data.exports.create",
  "data.exports.download",
  "data.exports.cancel",
  "data.exports.schedule",
  "org.exports.create",
  "studies.export",
  "studies.export.full",
  "metrics.read",
  "metrics.write",
  "dashboards.read",
  "api_keys.manage",
  "tenants.manage",
  "members.manage",
  "projects.manage",
  "dashboards.import",
  "dashboards.export",
  "audit.read",
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
  "data.exports.schedule": "Schedule exports and their delivery",
  "org.exports.create": "Export the entire organization",
  "studies.export": "Export study cohorts (identifiers removed or de-identified)",
  "studies.export.full": "Export participant data in full, identifiers included (any scope)",
  "metrics.read": "Read metrics",
  "metrics.write": "Push custom metrics",
  "dashboards.read": "See dashboards",
  "api_keys.manage": "Manage API keys",
  "tenants.manage": "Manage tenants",
  "members.manage": "Invite people, change their roles and remove them",
  "projects.manage": "Create and rename projects and apps",
  "dashboards.import": "Import dashboards",
  "dashboards.export": "Download dashboard files",
  "audit.read": "Read the audit log",
};

export type { OrgRole, TenantRole };
export type AppAbility = MongoAbility;

/** The fields of an export that its permissions' conditions read. */
export interface ExportSubject {
  scope: { type: string };
}

const VIEWER: Permission[] = ["data.read", "members.read", "data.exports.read", "metrics.read", "dashboards.read"];
const EDITOR: Permission[] = [
  ...VIEWER,
  "data.exports.create",
  "data.exports.download",
  "data.exports.cancel",
  "data.exports.schedule",
  "studies.export",
  "metrics.write",
  "dashboards.import",
  // Viewers look; a dashboard file leaves the portal, so it is an export.
  "dashboards.export",
];
const TENANT_ADMIN: Permission[] = [...EDITOR, "studies.export.full", "api_keys.manage", "projects.manage", "audit.read"];
const ORG_ADMIN: Permission[] = [...TENANT_ADMIN, "org.exports.create", "tenants.manage", "members.manage"];

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

/** Exports reached through these permissions; the condition applies unless the whole organization may be exported. */
const EXPORT_SUBJECT = "data.exports";
const TENANT_EXPORTS_ONLY = { "scope.type": { $ne: "organization" } };

/** The CASL ability for a set of permissions (also rebuilt in the browser from the loader's list). */
export function buildAbility(permissions: readonly Permission[]): AppAbility {
  const organizationWide = permissions.includes("org.exports.create");
  return createMongoAbility(
    permissions.map((p) => {
      const [action, subject] = split(p);
      return subject === EXPORT_SUBJECT && !organizationWide ? { action, subject, conditions: TENANT_EXPORTS_ONLY } : { action, subject };
    }),
  );
}

/**
 * Whether the ability grants `permission`: at all, or, given `row`, to that
 * row (the rules' conditions checked against it).
 */
export function can(ability: AppAbility, permission: Permission, row?: ExportSubject): boolean {
  const [action, subject] = split(permission);
  return row ? ability.can(action, asSubject(subject, { ...row })) : ability.can(action, subject);
}
