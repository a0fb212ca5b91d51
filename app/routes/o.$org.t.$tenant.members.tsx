import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { getDb } from "~/lib/db.server";
import { requireTenant, requesterOf } from "~/auth/access.server";
import { listTenantMembers } from "~/tenants/tenant-data.server";

export const meta: MetaFunction = () => [{ title: "Members · Exportal" }];

const ORG_ROLE: Record<string, string> = { owner: "Owner", admin: "Admin", member: "Member" };
const TENANT_ROLE: Record<string, string> = { admin: "Admin", editor: "Editor", viewer: "Viewer" };

export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "members.read");
  return { tenant: ctx.tenant, members: await listTenantMembers(getDb(), requesterOf(ctx)) };
}

export default function Members() {
  const { tenant, members } = useLoaderData<typeof loader>();
  return (
    <>
      <h1>Members</h1>
      <p className="muted">People who can open {tenant.name}. Organization owners and admins act as admins in every tenant.</p>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Role in {tenant.name}</th>
              <th scope="col">Organization role</th>
            </tr>
          </thead>
          <tbody>
            {members.map((m) => (
              <tr key={m.email}>
                <td>{m.name}</td>
                <td>{m.email}</td>
                <td>{m.tenantRole ? TENANT_ROLE[m.tenantRole] : `Admin (as organization ${m.orgRole})`}</td>
                <td>{ORG_ROLE[m.orgRole] ?? m.orgRole}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
