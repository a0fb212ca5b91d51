import { Form, NavLink, useLocation, useNavigate } from "@remix-run/react";
import { useEffect, useRef, type ReactNode } from "react";
import { SECTIONS, showsSection } from "./sections";

export interface ShellData {
  user: { name: string; email: string };
  choices: { orgSlug: string; orgName: string; tenantSlug: string; tenantName: string; archived: boolean }[];
  current: { orgSlug: string; tenantSlug: string } | null;
  /** The user's permissions in the current tenant: sections that need one show only to those who hold it. */
  permissions?: readonly string[];
}


function Switcher({ choices, current, section }: Pick<ShellData, "choices" | "current"> & { section: string }) {
  const navigate = useNavigate();
  const orgs = [...new Map(choices.map((c) => [c.orgSlug, c.orgName])).entries()];
  const org = current?.orgSlug ?? "";
  const tenants = choices.filter((c) => c.orgSlug === org);
  const go = (nextOrg: string, nextTenant: string) =>
    navigate(`/switch?${new URLSearchParams({ org: nextOrg, tenant: nextTenant, section })}`);
  return (
    <Form method="get" action="/switch" className="switcher" aria-label="Organization and tenant">
      <input type="hidden" name="section" value={section} />
      <label htmlFor="switch-org" className="visually-hidden">Organization</label>
      <select id="switch-org" name="org" value={org} onChange={(e) => go(e.target.value, "")}>
        {!current && <option value="">Choose organization…</option>}
        {orgs.map(([slug, name]) => (
          <option key={slug} value={slug}>
            {name}
          </option>
        ))}
      </select>
      <span aria-hidden="true" className="switcher-sep">/</span>
      <label htmlFor="switch-tenant" className="visually-hidden">Tenant</label>
      <select id="switch-tenant" name="tenant" value={current?.tenantSlug ?? ""} onChange={(e) => go(org, e.target.value)} disabled={!current}>
        {!current && <option value="">Choose tenant…</option>}
        {tenants.map((t) => (
          <option key={t.tenantSlug} value={t.tenantSlug}>
            {t.archived ? `${t.tenantName} (archived)` : t.tenantName}
          </option>
        ))}
      </select>
      <noscript>
        <button type="submit">Go</button>
      </noscript>
    </Form>
  );
}

/**
 * On a narrow screen the side navigation is a strip that scrolls sideways; this keeps the current section
 * in view there, so a phone shows where one is rather than always the first few sections.
 */
function useActiveLinkInView() {
  const ref = useRef<HTMLElement>(null);
  const { pathname } = useLocation();
  useEffect(() => {
    const nav = ref.current;
    const active = nav?.querySelector("a.active");
    if (!nav || !active || nav.scrollWidth <= nav.clientWidth) return;
    const [strip, link] = [nav.getBoundingClientRect(), active.getBoundingClientRect()];
    nav.scrollLeft += link.left - strip.left - (strip.width - link.width) / 2;
  }, [pathname]);
  return ref;
}

/** The portal's frame: header with switcher and user menu, side navigation, content. */
export function AppShell({ shell, section, children }: { shell: ShellData; section: string; children: ReactNode }) {
  const base = shell.current ? `/o/${shell.current.orgSlug}/t/${shell.current.tenantSlug}` : null;
  const navRef = useActiveLinkInView();
  return (
    <div className="shell">
      <header className="topbar">
        <a className="brand" href="/">
          Exportal
        </a>
        <Switcher choices={shell.choices} current={shell.current} section={section} />
        <details className="user-menu">
          {/* Named by its text, not an aria-label, so the name a speech user says is the name they see. */}
          <summary>
            <span className="avatar" aria-hidden="true">{shell.user.name.slice(0, 1)}</span>
            <span className="visually-hidden">Account: </span>
            <span className="user-name">{shell.user.name}</span>
          </summary>
          <div className="menu">
            <p className="muted">{shell.user.email}</p>
            <p><a href="/account">Your account</a></p>
            <Form method="post" action="/sign-out">
              <button type="submit" className="button secondary">Sign out</button>
            </Form>
          </div>
        </details>
      </header>
      <nav className="sidenav" aria-label="Sections" ref={navRef}>
        {SECTIONS.filter((s) => showsSection(s, shell.permissions ?? [])).map((s) =>
          base ? (
            <NavLink key={s.to} to={`${base}/${s.to}`}>
              {s.label}
            </NavLink>
          ) : (
            <span key={s.to} className="disabled" aria-disabled="true">{s.label}</span>
          ),
        )}
      </nav>
      <main className="content">{children}</main>
    </div>
  );
}
