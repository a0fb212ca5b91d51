import { redirect, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { AppShell } from "~/components/AppShell";
import { listTenantChoices, onlyTenantPath, requireUser } from "~/auth/access.server";

export const meta: MetaFunction = () => [{ title: "Exports · Exportal" }];

/** The exports page before any organization and tenant is chosen; with only one to choose, that one. */
export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  const choices = await listTenantChoices(user.id);
  const only = onlyTenantPath(choices);
  if (only) throw redirect(only);
  return { shell: { user, choices, current: null } };
}

export default function ExportsWithoutTenant() {
  const { shell } = useLoaderData<typeof loader>();
  return (
    <AppShell shell={shell} section="exports">
      <h1>Exports</h1>
      <div className="empty-state">
        <p>Select an organization and tenant to view and create exports.</p>
        {shell.choices.length === 0 && <p className="muted">You are not a member of any tenant yet. Ask an organization admin to add you.</p>}
      </div>
    </AppShell>
  );
}
