/**
 * The portal's sections of a tenant, in the order the side navigation shows
 * them; one with `requires` is shown only to those holding that permission
 * (its page checks it as well).
 */
export const SECTIONS = [
  { to: "exports", label: "Exports" },
  { to: "projects", label: "Projects" },
  { to: "studies", label: "Studies" },
  { to: "integrations", label: "Integrations" },
  { to: "metrics", label: "Metrics" },
  { to: "dashboards", label: "Dashboards" },
  { to: "members", label: "Members" },
  { to: "api", label: "API" },
  { to: "api-keys", label: "API keys", requires: "api_keys.manage" },
  { to: "tenants", label: "Tenants", requires: "tenants.manage" },
  { to: "settings", label: "Settings" },
] as const;

export type Section = (typeof SECTIONS)[number]["to"];

export function isSection(value: string | null): value is Section {
  return SECTIONS.some((s) => s.to === value);
}
