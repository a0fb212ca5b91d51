/** The portal's sections of a tenant, in the order the side navigation shows them. */
export const SECTIONS = [
  { to: "exports", label: "Exports" },
  { to: "projects", label: "Projects" },
  { to: "studies", label: "Studies" },
  { to: "integrations", label: "Integrations" },
  { to: "metrics", label: "Metrics" },
  { to: "dashboards", label: "Dashboards" },
  { to: "members", label: "Members" },
  { to: "api", label: "API" },
  { to: "api-keys", label: "API keys", adminOnly: true },
  { to: "settings", label: "Settings" },
] as const;

export type Section = (typeof SECTIONS)[number]["to"];

export function isSection(value: string | null): value is Section {
  return SECTIONS.some((s) => s.to === value);
}
