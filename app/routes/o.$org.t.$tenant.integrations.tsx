import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { ProjectFilter } from "~/components/ProjectFilter";
import { Time } from "~/components/Time";
import { ScrollRegion } from "~/components/ScrollRegion";
import { requireTenant, requesterOf } from "~/auth/access.server";
import { getDb } from "~/lib/db.server";
import { listConnections } from "~/analytics/integrations.server";
import { listProjects } from "~/tenants/tenant-data.server";

export const meta: MetaFunction = () => [{ title: "Integrations · Exportal" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "data.read");
  const requester = requesterOf(ctx);
  const projects = await listProjects(getDb(), requester);
  // An unknown project (or another tenant's) filters to nothing, like a project without connections.
  const projectId = new URL(request.url).searchParams.get("project") || null;
  const connections = (await listConnections(getDb(), requester)).filter((c) => !projectId || c.projectId === projectId);
  return { tenant: ctx.tenant, projectId, projects: projects.map((p) => ({ id: p.id, name: p.name })), connections };
}

const SERVICE_NAMES: Record<string, string> = { stripe: "Stripe", github: "GitHub", "google-analytics": "Google Analytics" };
const TYPE_NAMES = { oauth: "OAuth", api_key: "API key", webhook: "Webhook" };
const STATUS_BADGES = { active: "badge-done", error: "badge-failed", paused: "badge-pending", disconnected: "" };

export default function Integrations() {
  const { tenant, projectId, projects, connections } = useLoaderData<typeof loader>();
  const groups = projects.map((p) => ({ project: p, connections: connections.filter((c) => c.projectId === p.id) })).filter((g) => g.connections.length > 0);
  return (
    <>
      <div className="page-header">
        <div>
          <h1>Integrations</h1>
          <p className="muted">Services connected to {tenant.name}'s projects, feeding their metrics. Credentials are stored encrypted and never shown.</p>
        </div>
        <ProjectFilter id="integrations-project" projects={projects} projectId={projectId} />
      </div>
      {groups.length === 0 ? (
        <div className="empty-state">
          <h2>No integrations</h2>
          <p className="muted">{projectId ? "This project has no connected services." : `No project of ${tenant.name} has a connected service yet.`}</p>
        </div>
      ) : (
        groups.map(({ project, connections }) => (
          <section key={project.id} className="study" aria-labelledby={`project-${project.id}`}>
            <h2 id={`project-${project.id}`}>{project.name}</h2>
            <ScrollRegion className="table-wrap" label={`Integrations of ${project.name}`}>
              <table>
                <caption className="visually-hidden">Integrations of {project.name}</caption>
                <thead>
                  <tr>
                    <th scope="col">Service</th>
                    <th scope="col">Account</th>
                    <th scope="col" className="col-secondary">Type</th>
                    <th scope="col">Status</th>
                    <th scope="col" className="col-secondary">Last sync</th>
                    <th scope="col">Metrics</th>
                  </tr>
                </thead>
                <tbody>
                  {connections.map((c) => (
                    <tr key={c.id}>
                      <td>{SERVICE_NAMES[c.service] ?? c.service}</td>
                      <td>{c.account ?? <span className="muted">—</span>}</td>
                      <td className="col-secondary">{TYPE_NAMES[c.type]}</td>
                      <td>
                        <span className={`badge ${STATUS_BADGES[c.status]}`}>{c.status[0].toUpperCase() + c.status.slice(1)}</span>
                        {c.lastError && <p className="error-text small">{c.lastError}</p>}
                      </td>
                      <td className="col-secondary">
                        {c.lastSyncAt ? <Time value={c.lastSyncAt} /> : <span className="muted">Never</span>}
                        {c.syncIntervalMinutes && <p className="muted small">every {c.syncIntervalMinutes} min</p>}
                      </td>
                      <td>
                        <ul className="tags">
                          {c.metrics.map((m) => (
                            <li key={m} className="tag">
                              <code>{m}</code>
                            </li>
                          ))}
                        </ul>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </ScrollRegion>
          </section>
        ))
      )}
    </>
  );
}
