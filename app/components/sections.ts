import type { Permission } from "~/auth/permissions";

interface SectionEntry {
  to: string;
  label: string;
  /** Shown only to those who hold it (the page checks it too). */
  permission?: Permission;
}

/** The portal's sections of a tenant, in the order the side navigation shows them. */
export const SECTIONS = [
  { to: "exports", label: "Exports" },
  { to: "schedules", label: "Schedules", permission: "data.exports.read" },
  { to: "delivery", label: "Delivery", permission: "data.exports.read" },
  { to: "projects", label: "Projects" },
  { to: "studies", label: "Studies" },
  { to: "integrations", label: "Integrations" },
  { to: "metrics", label: "Metrics" },
  { to: "dashboards", label: "Dashboards" },
  { to: "members", label: "Members" },
  { to: "api", label: "API" },
  { to: "api-keys", label: "API keys", permission: "api_keys.manage" },
  { to: "audit", label: "Audit log", permission: "audit.read" },
  { to: "tenants", label: "Tenants", permission: "tenants.manage" },
  { to: "settings", label: "Settings" },
] as const satisfies readonly SectionEntry[];

export type Section = (typeof SECTIONS)[number]["to"];

export function isSection(value: string | null): value is Section {
  return SECTIONS.some((s) => s.to === value);
}

/** Whether the side navigation shows a section to someone with these permissions. */
export function showsSection(section: SectionEntry, permissions: readonly string[]): boolean {
  return !section.permission || permissions.includes(section.permission);
}
