import type { LoaderFunctionArgs } from "@remix-run/node";
import { Outlet, useLoaderData, useLocation, type ShouldRevalidateFunction } from "@remix-run/react";
import { AppShell } from "~/components/AppShell";
import { listTenantChoices, rememberTenant, requireTenant } from "~/auth/access.server";

/** The tenant's frame. Each page below checks its own permission as well. */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params);
  await rememberTenant(ctx.user.id, ctx.tenant.id);
  return {
    shell: {
      user: ctx.user,
      choices: await listTenantChoices(ctx.user.id),
      current: { orgSlug: ctx.org.slug, tenantSlug: ctx.tenant.slug },
      permissions: ctx.permissions,
    },
    org: ctx.org,
    tenant: ctx.tenant,
    permissions: ctx.permissions,
  };
}

/**
 * The frame is not read again when a page only re-reads its own data at the same address: the exports page
 * polls every 1.5 s while an export runs (useRevalidator), and the frame's session, membership, remembered
 * tenant and tenant choices would cost more than the page itself each time. A navigation to another address
 * and any form submission (fetcher or not, redirected or not) revalidate it as usual, so an action that changes
 * roles, archives the tenant or renames it still shows in the frame. The page's own loader checks the session
 * and the permission on every poll, so a revoked member is still turned away.
 */
export const shouldRevalidate: ShouldRevalidateFunction = ({ formMethod, currentUrl, nextUrl, defaultShouldRevalidate }) => {
  if (formMethod === undefined && currentUrl.href === nextUrl.href) return false;
  return defaultShouldRevalidate;
};

export default function TenantLayout() {
  const { shell, tenant } = useLoaderData<typeof loader>();
  const section = useLocation().pathname.split("/")[5] ?? "exports";
  return (
    <AppShell shell={shell} section={section}>
      {tenant.archived && (
        <p className="notice archived-banner" role="status">
          <strong>{tenant.name} is archived: read-only.</strong> Its history and archives stay downloadable; nothing new can be started here.
        </p>
      )}
      <Outlet />
    </AppShell>
  );
}
