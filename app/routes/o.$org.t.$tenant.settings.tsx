import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { requireTenant } from "~/lib/access.server";
import { retentionConfig } from "~/lib/config.server";
import { PERMISSION_LABELS, PERMISSIONS } from "~/lib/permissions";

export const meta: MetaFunction = () => [{ title: "Settings · Exportal" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "data.read");
  const { linkTtlMs, historyMs } = retentionConfig();
  return {
    org: ctx.org,
    tenant: ctx.tenant,
    orgRole: ctx.orgRole,
    tenantRole: ctx.tenantRole,
    granted: PERMISSIONS.filter((p) => ctx.permissions.includes(p)).map((p) => PERMISSION_LABELS[p]),
    linkHours: linkTtlMs / 3_600_000,
    historyDays: historyMs / 86_400_000,
  };
}

export default function Settings() {
  const { org, tenant, orgRole, tenantRole, granted, linkHours, historyDays } = useLoaderData<typeof loader>();
  return (
    <>
      <h1>Settings</h1>
      <p className="muted">How {tenant.name} is set up, and what you may do in it.</p>
      <dl className="details">
        <dt>Organization</dt>
        <dd>{org.name}</dd>
        <dt>Tenant</dt>
        <dd>
          {tenant.name} <span className="muted">({tenant.slug})</span>
        </dd>
        <dt>Your role</dt>
        <dd>
          {tenantRole ? `${tenantRole[0].toUpperCase()}${tenantRole.slice(1)} of ${tenant.name}` : `Admin (as organization ${orgRole})`}
        </dd>
      </dl>
      <h2>What you may do</h2>
      <ul className="permission-list">
        {granted.map((label) => (
          <li key={label}>{label}</li>
        ))}
      </ul>
      <h2>Export policy</h2>
      <dl className="details">
        <dt>Download links</dt>
        <dd>work for {linkHours} hours after an export finishes; then the archive is deleted</dd>
        <dt>History</dt>
        <dd>finished exports stay listed for {historyDays} days; their audit events stay for good</dd>
        <dt>Concurrency</dt>
        <dd>one export at a time per project; an organization or tenant export covers all of its projects</dd>
      </dl>
    </>
  );
}
