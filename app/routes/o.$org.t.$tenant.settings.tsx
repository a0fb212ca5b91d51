import { type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { requirePermission, requireTenant, requesterOf } from "~/auth/access.server";
import { getApiLimits, LIMIT_DEFAULTS, setApiLimits } from "~/api/limits.server";
import { getDb } from "~/lib/db.server";
import { refused } from "~/lib/action-result.server";
import { retentionConfig } from "~/lib/config.server";
import { DAY_MS, HOUR_MS } from "~/lib/dates";
import { can, PERMISSION_LABELS, PERMISSIONS } from "~/auth/permissions";
import { Time } from "~/components/Time";
import { scopeLabel } from "~/exports/export-labels";
import { QueuePosition, StatusBadge } from "~/exports/ExportStatus";
import { organizationQueues, tenantJobs } from "~/exports/jobs.server";
import { listProjects } from "~/tenants/tenant-data.server";
import { studyScopeNames } from "~/studies/studies.server";

export const meta: MetaFunction = () => [{ title: "Settings · Exportal" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "data.read");
  const requester = requesterOf(ctx);
  const { linkTtlMs, historyMs } = retentionConfig();
  const jobs = can(ctx.ability, "data.exports.read") ? await tenantJobs(getDb(), requester) : null;
  const names = jobs ? await studyScopeNames(getDb(), requester, jobs.map((j) => j.scope)) : {};
  const projects = jobs ? await listProjects(getDb(), requester) : [];
  return {
    org: ctx.org,
    tenant: ctx.tenant,
    orgRole: ctx.orgRole,
    tenantRole: ctx.tenantRole,
    granted: PERMISSIONS.filter((p) => ctx.permissions.includes(p)).map((p) => PERMISSION_LABELS[p]),
    linkHours: linkTtlMs / HOUR_MS,
    historyDays: historyMs / DAY_MS,
    apiLimits: await getApiLimits(getDb(), requester),
    limitDefaults: LIMIT_DEFAULTS,
    canSetLimits: can(ctx.ability, "tenants.manage"),
    jobs: jobs?.map((j) => ({
      id: j.id,
      status: j.status,
      queuePosition: j.queuePosition,
      requestedBy: j.requestedBy,
      created_at: j.created_at,
      scope: scopeLabel(j.scope, ctx.tenant.name, projects, names),
    })),
    orgQueues: await organizationQueues(getDb(), requester),
    base: `/o/${ctx.org.slug}/t`,
  };
}

/** Organization owners and admins set the tenant's API limits. */
export async function action({ request, params }: ActionFunctionArgs) {
  const ctx = await requireTenant(request, params, "data.read");
  const requester = requesterOf(ctx);
  requirePermission(ctx, "tenants.manage");
  const form = Object.fromEntries(await request.formData());
  try {
    await setApiLimits(getDb(), requester, form);
    return { saved: true as const };
  } catch (error) {
    return refused(error, { values: form as Record<string, string> });
  }
}

const LIMIT_FIELDS = [
  ["api_requests_per_hour", "API requests per hour"],
  ["api_exports_per_hour", "Exports created through the API per hour"],
  ["api_export_burst", "Exports created at once (burst)"],
] as const;

type LimitName = (typeof LIMIT_FIELDS)[number][0];

function ApiLimits({ limits, defaults, canEdit }: { limits: Record<LimitName, number | null>; defaults: Record<LimitName, number>; canEdit: boolean }) {
  const result = useActionData<typeof action>();
  const busy = useNavigation().state !== "idle";
  const errors: Record<string, string> = result && "fieldErrors" in result ? result.fieldErrors : {};
  const values: Record<string, string> | undefined = result && "values" in result ? result.values : undefined;
  if (!canEdit) {
    return (
      <dl className="details">
        {LIMIT_FIELDS.map(([name, label]) => (
          <div key={name} style={{ display: "contents" }}>
            <dt>{label}</dt>
            <dd>{(limits[name] ?? defaults[name]).toLocaleString("en")}{limits[name] === null && <span className="muted"> (default)</span>}</dd>
          </div>
        ))}
      </dl>
    );
  }
  return (
    <Form method="post" className="card limits-form" noValidate>
      {result && "saved" in result && <p role="status" className="notice">Limits saved. They apply from the next request.</p>}
      {LIMIT_FIELDS.map(([name, label]) => (
        <div className="field" key={name}>
          <label htmlFor={name}>{label}</label>
          <input
            id={name}
            name={name}
            inputMode="numeric"
            defaultValue={values ? values[name] : (limits[name] ?? "").toString()}
            placeholder={`${defaults[name].toLocaleString("en")} (default)`}
            aria-invalid={errors[name] ? true : undefined}
            aria-describedby={errors[name] ? `${name}-error` : undefined}
          />
          {errors[name] && <p id={`${name}-error`} className="field-error">{errors[name]}</p>}
        </div>
      ))}
      <p className="muted small">Leave a field empty for the default.</p>
      <div>
        <button type="submit" className="button primary" disabled={busy}>{busy ? "Saving…" : "Save limits"}</button>
      </div>
    </Form>
  );
}

/** The tenant's running and waiting exports, and, for organization owners and admins, every tenant's counts. */
function JobsPanel() {
  const { jobs, orgQueues, base, tenant, org } = useLoaderData<typeof loader>();
  if (!jobs && !orgQueues) return null;
  return (
    <section aria-labelledby="jobs-heading">
      <h2 id="jobs-heading">Jobs</h2>
      {jobs && (
        <>
          <p className="muted">Exports of {tenant.name} running or waiting for a worker, in the order they will run.</p>
          {jobs.length === 0 ? (
            <p className="empty-state">No export is running or waiting in {tenant.name}.</p>
          ) : (
            <div className="table-wrap">
              <table aria-label={`Jobs of ${tenant.name}`}>
                <thead>
                  <tr>
                    <th scope="col">Export</th>
                    <th scope="col">Status</th>
                    <th scope="col">Requested by</th>
                    <th scope="col">Created</th>
                  </tr>
                </thead>
                <tbody>
                  {jobs.map((j) => (
                    <tr key={j.id} data-export-id={j.id}>
                      <td><Link to={`${base}/${tenant.slug}/exports/${j.id}`}>{j.scope}</Link></td>
                      <td>
                        <StatusBadge status={j.status} />
                        {j.status === "pending" && <QueuePosition position={j.queuePosition} />}
                      </td>
                      <td>{j.requestedBy ?? "—"}</td>
                      <td><Time value={j.created_at} /></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
      {orgQueues && (
        <>
          <h3>Every tenant of {org.name}</h3>
          <p className="muted">Each tenant&apos;s exports take turns with the others&apos;, so one tenant&apos;s backlog does not hold up another&apos;s.</p>
          <div className="table-wrap">
            <table aria-label={`Jobs per tenant of ${org.name}`}>
              <thead>
                <tr>
                  <th scope="col">Tenant</th>
                  <th scope="col">Running</th>
                  <th scope="col">Queued</th>
                </tr>
              </thead>
              <tbody>
                {orgQueues.map((t) => (
                  <tr key={t.id} data-tenant={t.slug}>
                    <td><Link to={`${base}/${t.slug}/exports`}>{t.name}</Link></td>
                    <td>{t.running}</td>
                    <td>{t.queued}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

export default function Settings() {
  const { org, tenant, orgRole, tenantRole, granted, linkHours, historyDays, apiLimits, limitDefaults, canSetLimits } = useLoaderData<typeof loader>();
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
      <JobsPanel />
      <h2>API limits</h2>
      <p className="muted">How much programs with this tenant's API keys may ask for. Counted per tenant across all keys.</p>
      <ApiLimits limits={apiLimits} defaults={limitDefaults} canEdit={canSetLimits} />
    </>
  );
}
