import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { Time } from "~/components/Time";
import { requireTenant, requesterOf } from "~/auth/access.server";
import { listDashboards } from "~/analytics/dashboards.server";
import { getDb } from "~/lib/db.server";
import { can } from "~/auth/permissions";

export const meta: MetaFunction = () => [{ title: "Dashboards · Exportal" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "dashboards.read");
  const requester = requesterOf(ctx);
  return {
    tenant: ctx.tenant,
    base: `/o/${ctx.org.slug}/t/${ctx.tenant.slug}/dashboards`,
    canImport: can(ctx.ability, "dashboards.import"),
    dashboards: await listDashboards(getDb(), requester),
  };
}

export default function Dashboards() {
  const { tenant, base, canImport, dashboards } = useLoaderData<typeof loader>();
  return (
    <>
      <div className="page-header">
        <div>
          <h1>Dashboards</h1>
          <p className="muted">Grids of widgets over {tenant.name}'s metrics.</p>
        </div>
        {canImport && (
          <div className="actions">
            <Link to={`${base}/import`} className="button secondary">
              Import dashboard
            </Link>
          </div>
        )}
      </div>
      {dashboards.length === 0 ? (
        <div className="empty-state">
          <h2>No dashboards</h2>
          <p className="muted">{canImport ? "Import a dashboard file to start." : `${tenant.name} has no dashboards yet.`}</p>
        </div>
      ) : (
        <ul className="cards">
          {dashboards.map((d) => (
            <li key={d.id} className="card">
              <h2>
                <Link to={`${base}/${d.id}`}>{d.name}</Link>
              </h2>
              <p className="tags">
                <span className="tag">{d.type === "category" ? "Category" : "Custom"}</span>
                {d.isDefault && <span className="badge badge-done">Default</span>}
              </p>
              {d.description && <p>{d.description}</p>}
              <p className="muted small">
                {d.widgetCount} {d.widgetCount === 1 ? "widget" : "widgets"} · updated <Time value={d.updatedAt} />
              </p>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
