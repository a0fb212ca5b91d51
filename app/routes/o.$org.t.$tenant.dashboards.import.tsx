import {
  data,
  MaxPartSizeExceededError,
  unstable_createMemoryUploadHandler,
  unstable_parseMultipartFormData,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { requirePermission, requireTenant, requesterOf } from "~/auth/access.server";
import { importDashboards, parseDashboardFileText, type ImportedDashboard } from "~/analytics/dashboard-file.server";
import { getDb } from "~/lib/db.server";
import { AppError } from "~/lib/errors";

export const meta: MetaFunction = () => [{ title: "Import dashboard · Exportal" }];

const MAX_FILE_BYTES = 1_000_000;

export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "dashboards.import");
  return { tenant: ctx.tenant, dashboardsPath: `/o/${ctx.org.slug}/t/${ctx.tenant.slug}/dashboards` };
}

type Problem = { path: string; message: string };

export async function action({ request, params }: ActionFunctionArgs) {
  const ctx = await requireTenant(request, params);
  requirePermission(ctx, "dashboards.import");
  const refused = (error: string, problems: Problem[] = [], fileName = "", status = 400) => data({ error, problems, fileName }, { status });
  let form: FormData;
  try {
    form = await unstable_parseMultipartFormData(request, unstable_createMemoryUploadHandler({ maxPartSize: MAX_FILE_BYTES }));
  } catch (error) {
    if (error instanceof MaxPartSizeExceededError) return refused("The file is larger than 1 MB; a dashboard file is a few kilobytes. Choose the file \"Export dashboard\" wrote.");
    return refused("The upload could not be read. Choose the file again.");
  }
  const file = form.get("file");
  if (!(file instanceof Blob) || file.size === 0) return refused("Choose a dashboard file to import.");
  const fileName = "name" in file ? String(file.name) : "";
  try {
    const { dashboards } = await importDashboards(getDb(), requesterOf(ctx), parseDashboardFileText(await file.text()));
    return data({ imported: dashboards.map(({ dashboard: _dashboard, ...d }) => d), fileName }, { status: 201 });
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    // A bad file answers 400; an archived tenant 409, as its service says.
    return refused(error.message, (error.details.problems as Problem[] | undefined) ?? [], fileName, error.status);
  }
}

/** What became of one dashboard of the file: its slug, whether it is the default, and widgets flagged for a missing metric. */
function Imported({ dashboard: d, dashboardsPath }: { dashboard: ImportedDashboard; dashboardsPath: string }) {
  return (
    <>
      <p>
        Imported <strong>{d.name}</strong> with {d.widgetCount} {d.widgetCount === 1 ? "widget" : "widgets"}
        {d.slug ? ` as “${d.slug}”` : ""}
        {d.isDefault ? ", the tenant's default dashboard" : ""}.
      </p>
      {d.flaggedWidgets.length > 0 && (
        <>
          <p>
            {d.flaggedWidgets.length} {d.flaggedWidgets.length === 1 ? "widget shows a metric" : "widgets show metrics"} this tenant does not have:
          </p>
          <ul>
            {d.flaggedWidgets.map((w, i) => (
              <li key={i}>
                {w.title}: {w.metricId}
              </li>
            ))}
          </ul>
        </>
      )}
      <p>
        <Link className="button" to={`${dashboardsPath}/${d.id}`} aria-label={`Open the dashboard ${d.name}`}>
          Open the dashboard
        </Link>
      </p>
    </>
  );
}

export default function ImportDashboard() {
  const { tenant, dashboardsPath } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state === "submitting";
  const failed = result && "error" in result ? result : undefined;
  const imported = result && "imported" in result ? result.imported : undefined;
  return (
    <>
      <nav aria-label="Breadcrumb" className="muted">
        <Link to={dashboardsPath}>Dashboards</Link> / Import
      </nav>
      <h1>Import dashboard</h1>
      <p className="muted">
        Recreates a dashboard from a file written by “Export dashboard”, or every dashboard in an export's dashboards.json, in {tenant.name}, with
        new ids. Widgets whose metric {tenant.name} does not have are imported and flagged.
      </p>

      {imported && (
        <div className="notice" role="status">
          {imported.length === 1 ? (
            <Imported dashboard={imported[0]} dashboardsPath={dashboardsPath} />
          ) : (
            <>
              <p>Imported {imported.length} dashboards from {result && "fileName" in result && result.fileName ? result.fileName : "the file"}:</p>
              <ul>
                {imported.map((d) => (
                  <li key={d.id}>
                    <Imported dashboard={d} dashboardsPath={dashboardsPath} />
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}

      <Form method="post" encType="multipart/form-data" className="card" aria-labelledby="import-title">
        <h2 id="import-title">Dashboard file</h2>
        <div className="field">
          <label htmlFor="dashboard-file">File (dashboard-….json, or an export's dashboards.json)</label>
          <input
            id="dashboard-file"
            name="file"
            type="file"
            accept=".json,application/json"
            required
            aria-invalid={!!failed}
            aria-describedby={failed ? "dashboard-file-error" : undefined}
          />
          {failed && (
            <div className="field-error" id="dashboard-file-error" role="alert">
              <p>
                {failed.fileName ? `${failed.fileName}: ` : ""}
                {failed.error}
              </p>
              {failed.problems.length > 1 && (
                <ul>
                  {failed.problems.slice(0, 10).map((p, i) => (
                    <li key={i}>
                      <code>{p.path}</code> {p.message}
                    </li>
                  ))}
                </ul>
              )}
            </div>
          )}
        </div>
        <div className="actions">
          <button type="submit" className="button" disabled={busy}>
            {busy ? "Importing…" : "Import"}
          </button>
          <Link to={dashboardsPath} className="button secondary">
            Cancel
          </Link>
        </div>
      </Form>
    </>
  );
}
