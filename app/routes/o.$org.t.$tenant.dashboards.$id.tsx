import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { LineChart } from "~/analytics/LineChart";
import { ScrollRegion } from "~/components/ScrollRegion";
import { notFound, requireTenant, requesterOf } from "~/auth/access.server";
import { formatValue } from "~/analytics/chart";
import { widgetContent, type WidgetContent } from "~/analytics/dashboard-widgets.server";
import { getDashboard } from "~/analytics/dashboards.server";
import { getDb } from "~/lib/db.server";
import { listMetrics } from "~/analytics/metric-points.server";
import { can } from "~/auth/permissions";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.dashboard.name ?? "Dashboard"} · Exportal` }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "dashboards.read");
  const requester = requesterOf(ctx);
  const dashboard = await getDashboard(getDb(), requester, params.id ?? "");
  if (!dashboard) throw notFound();
  // Only the metrics the widgets name, not the tenant's whole catalogue.
  const named = [...new Set(dashboard.widgets.map((w) => w.config.metricId).filter((m): m is string => typeof m === "string"))];
  const metrics = new Map((await listMetrics(getDb(), requester, named)).map((m) => [m.metricId, m]));
  const widgets = await Promise.all(dashboard.widgets.map(async (w) => ({ ...w, content: await widgetContent(getDb(), requester, w, metrics) })));
  return {
    dashboard: { ...dashboard, widgets: widgets.filter((w) => w.content.kind !== "hidden") },
    hiddenCount: widgets.filter((w) => w.content.kind === "hidden").length,
    base: `/o/${ctx.org.slug}/t/${ctx.tenant.slug}/dashboards`,
    canImport: can(ctx.ability, "dashboards.import"),
    canExport: can(ctx.ability, "dashboards.export"),
  };
}

function WidgetBody({ content, title }: { content: WidgetContent; title: string }) {
  switch (content.kind) {
    case "hidden":
      return null;
    case "problem":
      return <p className="widget-problem">{content.message}</p>;
    case "metric":
      return (
        <p className="widget-value">
          {content.value === null ? "—" : formatValue(content.value)} <span className="muted small">{content.unit}</span>
          <span className="block muted small">{content.caption}</span>
        </p>
      );
    case "chart":
      return content.points.length === 0 ? (
        <p className="muted">No points in this range.</p>
      ) : (
        <LineChart points={content.points} title={title} unit={content.unit} from={content.from} to={content.to} height={200} compact />
      );
    case "table":
      return content.rows.length === 0 ? (
        <p className="muted">No points yet.</p>
      ) : (
        <ScrollRegion className="widget-table" label={title}>
          <table>
            <caption className="visually-hidden">{title}</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Value{content.unit ? ` (${content.unit})` : ""}</th>
              </tr>
            </thead>
            <tbody>
              {content.rows.map((r, i) => (
                <tr key={i}>
                  <td>{r.at.slice(0, 16).replace("T", " ")}</td>
                  <td>{formatValue(r.value)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      );
  }
}

export default function Dashboard() {
  const { dashboard, hiddenCount, base, canImport, canExport } = useLoaderData<typeof loader>();
  return (
    <>
      <nav aria-label="Breadcrumb" className="muted">
        <Link to={base}>Dashboards</Link> / {dashboard.name}
      </nav>
      <div className="page-header">
        <div>
          <h1>
            {dashboard.name} {dashboard.isDefault && <span className="badge badge-done">Default</span>}
          </h1>
          {dashboard.description && <p className="muted">{dashboard.description}</p>}
        </div>
        <div className="actions">
          {/* A plain link: the browser downloads the attachment instead of the router fetching it. */}
          {canExport && (
            <a href={`${base}/${dashboard.id}/export`} className="button secondary" download>
              Export dashboard
            </a>
          )}
          {canImport && (
            <Link to={`${base}/import`} className="button secondary">
              Import dashboard
            </Link>
          )}
        </div>
      </div>
      {dashboard.widgets.length === 0 ? (
        <div className="empty-state">
          <p>This dashboard has no visible widgets.</p>
        </div>
      ) : (
        <div className="dashboard-grid">
          {dashboard.widgets.map((w) => (
            <section
              key={w.id}
              className={`widget widget-${w.type}${w.warning ? " widget-flagged" : ""}`}
              style={{ gridColumn: `${w.position.x + 1} / span ${w.position.w}`, gridRow: `${w.position.y + 1} / span ${w.position.h}` }}
              aria-labelledby={`widget-${w.id}`}
            >
              <h2 id={`widget-${w.id}`}>{w.title}</h2>
              {w.warning && (
                <p className="widget-problem" role="note">
                  Imported: {w.warning}
                </p>
              )}
              <WidgetBody content={w.content} title={w.title} />
            </section>
          ))}
        </div>
      )}
      {hiddenCount > 0 && (
        <p className="muted small">
          {hiddenCount} hidden {hiddenCount === 1 ? "widget is" : "widgets are"} not shown.
        </p>
      )}
    </>
  );
}
