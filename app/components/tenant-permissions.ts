import { useRouteLoaderData } from "@remix-run/react";

/**
 * The user's permissions in the tenant being shown, as the tenant frame's
 * loader (routes/o.$org.t.$tenant) found them; none outside a tenant. For
 * hiding controls only: the server checks every action itself.
 */
export function useTenantPermissions(): readonly string[] {
  const frame = useRouteLoaderData("routes/o.$org.t.$tenant") as { permissions?: string[] } | undefined;
  return frame?.permissions ?? [];
}
