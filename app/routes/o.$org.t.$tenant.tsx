import type { LoaderFunctionArgs } from "@remix-run/node";
import { Outlet, useLoaderData, useLocation, useRouteLoaderData } from "@remix-run/react";
import { AppShell } from "~/components/AppShell";
import { listTenantChoices, rememberTenant, requireTenant } from "~/lib/access.server";
import { can } from "~/lib/permissions";

/** The tenant's frame. Each page below checks its own permission as well. */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params);
  await rememberTenant(ctx.user.id, ctx.tenant.id);
  return {
    shell: {
      user: ctx.user,
      choices: await listTenantChoices(ctx.user.id),
      current: { orgSlug: ctx.org.slug, tenantSlug: ctx.tenant.slug },
      canManageKeys: can(ctx.ability, "api_keys.manage"),
    },
    org: ctx.org,
    tenant: ctx.tenant,
    permissions: ctx.permissions,
  };
}

/** The layout's data, for pages that need the tenant or the user's permissions. */
export function useTenant() {
  return useRouteLoaderData<typeof loader>("routes/o.$org.t.$tenant")!;
}

export default function TenantLayout() {
  const { shell } = useLoaderData<typeof loader>();
  const section = useLocation().pathname.split("/")[5] ?? "exports";
  return (
    <AppShell shell={shell} section={section}>
      <Outlet />
    </AppShell>
  );
}
