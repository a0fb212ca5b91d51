import type { LoaderFunctionArgs } from "@remix-run/node";
import { Outlet, useLoaderData, useLocation } from "@remix-run/react";
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
