import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { getDb } from "~/lib/db.server";
import { requireTenant, requesterOf } from "~/auth/access.server";
import { listProjects } from "~/tenants/tenant-data.server";

export const meta: MetaFunction = () => [{ title: "Projects · Exportal" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "data.read");
  const requester = requesterOf(ctx);
  return { tenant: ctx.tenant, projects: await listProjects(getDb(), requester) };
}

export default function Projects() {
  const { tenant, projects } = useLoaderData<typeof loader>();
  return (
    <>
      <h1>Projects</h1>
      <p className="muted">Projects in {tenant.name} and the apps that send their data.</p>
      {projects.length === 0 ? (
        <div className="empty-state">
          <p>This tenant has no projects yet.</p>
        </div>
      ) : (
        <ul className="cards">
          {projects.map((p) => (
            <li key={p.id} className="card">
              <h2>{p.name}</h2>
              <p className="muted">{p.description}</p>
              <p>{p.participants.toLocaleString()} participants</p>
              <h3 className="small-heading">Apps</h3>
              <ul className="tags" aria-label={`Apps of ${p.name}`}>
                {p.apps.map((a) => (
                  <li key={a.id} className="tag">
                    {a.name} <span className="muted">· {a.platform}</span>
                  </li>
                ))}
              </ul>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
