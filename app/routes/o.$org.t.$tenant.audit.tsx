import { data, redirect, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData, useNavigation } from "@remix-run/react";
import type { ReactNode } from "react";
import { requesterOf, requireTenant, type PermissionDenied } from "~/auth/access.server";
import { AUDIT_PAGE_SIZE, auditFilterChoices, listAuditEvents, readsOrganization } from "~/audit/audit-log.server";
import { parseAuditFilters, type AuditView } from "~/audit/audit-filters";
import { actionLabel, detailLines } from "~/audit/audit-labels";
import { shortUserAgent } from "~/lib/user-agent";
import { FieldError } from "~/components/FieldError";
import { lastPageHref, pageParam, Pagination } from "~/components/Pagination";
import { Time } from "~/components/Time";
import { getDb } from "~/lib/db.server";

export const meta: MetaFunction = () => [{ title: "Audit log · Exportal" }];

const FILTER_NAMES = ["actor", "action", "subject", "from", "to"] as const;

/** A subject in words, and the page it is about when there is one to open. */
function subjectOf(e: { subject_type: string; subject_id: string; tenant_slug: string | null }, orgSlug: string) {
  const text = `${e.subject_type.replace(/_/g, " ")} ${e.subject_id}`;
  const href = e.subject_type === "export" && e.tenant_slug ? `/o/${orgSlug}/t/${e.tenant_slug}/exports/${e.subject_id}` : null;
  return { text, href };
}

export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "audit.read");
  const requester = requesterOf(ctx);
  const url = new URL(request.url);
  const wholeOrganization = readsOrganization(requester);
  const view: AuditView = url.searchParams.get("view") === "organization" ? "organization" : "tenant";
  if (view === "organization" && !wholeOrganization) {
    const body: PermissionDenied = {
      denied: true,
      title: "You don't have permission to do this",
      message: `Only organization owners and admins read the whole organization's audit log. Your role shows ${ctx.tenant.name}'s events.`,
    };
    throw data(body, { status: 403 });
  }
  const { filters, fieldErrors } = parseAuditFilters(url.searchParams);
  const page = pageParam(url);
  const db = getDb();
  const [{ events, total }, choices] = await Promise.all([listAuditEvents(db, requester, view, filters, page), auditFilterChoices(db, requester, view)]);
  const pages = Math.max(1, Math.ceil(total / AUDIT_PAGE_SIZE));
  const last = lastPageHref(url, page, pages);
  if (last) throw redirect(last);
  const values = Object.fromEntries(FILTER_NAMES.map((name) => [name, url.searchParams.get(name) ?? ""]));
  return data(
    {
      base: `/o/${ctx.org.slug}/t/${ctx.tenant.slug}/audit`,
      org: ctx.org,
      tenant: ctx.tenant,
      view,
      wholeOrganization,
      values,
      filtered: FILTER_NAMES.some((name) => values[name] !== ""),
      fieldErrors,
      choices: { actors: choices.actors, actions: choices.actions.map((action) => ({ value: action, label: actionLabel(action) })) },
      page,
      pages,
      total,
      events: events.map((e) => ({
        id: e.id,
        at: e.created_at,
        tenant: e.tenant_name,
        actor: e.actor_label,
        action: actionLabel(e.action),
        actionName: e.action,
        subject: subjectOf(e, ctx.org.slug),
        ip: e.client_ip,
        userAgent: e.user_agent ? { short: shortUserAgent(e.user_agent), full: e.user_agent } : null,
        changes: detailLines(e.details),
      })),
    },
    // Filters that cannot be used are named next to their fields, and the page shows what the others find.
    { status: Object.keys(fieldErrors).length ? 400 : 200 },
  );
}

function Filters() {
  const { view, values, fieldErrors, choices } = useLoaderData<typeof loader>();
  const busy = useNavigation().state === "loading";
  const control = (name: string) => ({
    id: `audit-${name}`,
    name,
    defaultValue: values[name],
    "aria-invalid": fieldErrors[name] ? true : undefined,
    "aria-describedby": fieldErrors[name] ? `audit-${name}-error` : undefined,
  });
  const field = (name: string, label: string, input: ReactNode) => (
    <div className="field">
      <label htmlFor={`audit-${name}`}>{label}</label>
      {input}
      <FieldError id={`audit-${name}-error`} message={fieldErrors[name]} />
    </div>
  );
  return (
    <Form method="get" className="card audit-filters" aria-label="Filter events">
      {view === "organization" && <input type="hidden" name="view" value="organization" />}
      {field(
        "actor",
        "Actor",
        <select {...control("actor")}>
          <option value="">Anyone</option>
          {choices.actors.map((a) => (
            <option key={a.value} value={a.value}>{a.label}</option>
          ))}
        </select>,
      )}
      {field(
        "action",
        "Action",
        <select {...control("action")}>
          <option value="">Any action</option>
          {choices.actions.map((a) => (
            <option key={a.value} value={a.value}>{a.label}</option>
          ))}
        </select>,
      )}
      {field("subject", "Subject", <input {...control("subject")} type="search" placeholder="export:… or text" />)}
      {field("from", "From", <input {...control("from")} type="date" />)}
      {field("to", "To (included)", <input {...control("to")} type="date" />)}
      <div className="field">
        <span aria-hidden="true">&nbsp;</span>
        <button type="submit" className="button primary" disabled={busy}>{busy ? "Filtering…" : "Filter"}</button>
      </div>
      <p className="muted small audit-hint">Subject: a type and id such as <code>export:…</code> or <code>account:someone@example.com</code>, or any part of an id. Dates are in UTC.</p>
    </Form>
  );
}

function ViewSwitch() {
  const { base, view } = useLoaderData<typeof loader>();
  const views: [AuditView, string, string][] = [
    ["tenant", "This tenant", base],
    ["organization", "Whole organization", `${base}?view=organization`],
  ];
  return (
    <nav className="audit-views" aria-label="Which events">
      {views.map(([value, label, href]) => (
        <Link key={value} to={href} className={view === value ? "active" : undefined} aria-current={view === value ? "page" : undefined}>
          {label}
        </Link>
      ))}
    </nav>
  );
}

export default function AuditLog() {
  const { base, tenant, view, wholeOrganization, filtered, page, pages, total, events, values } = useLoaderData<typeof loader>();
  const reset = view === "organization" ? `${base}?view=organization` : base;
  const pageHref = (n: number) => {
    const params = new URLSearchParams(Object.entries(values).filter(([, v]) => v !== ""));
    if (view === "organization") params.set("view", "organization");
    params.set("page", String(n));
    return `${base}?${params}`;
  };
  return (
    <>
      <div className="page-header">
        <h1>Audit log</h1>
        {wholeOrganization && <ViewSwitch />}
      </div>
      <p className="muted">
        {view === "organization"
          ? "Every event of the organization, in any tenant, and its members' sign-ins. Newest first."
          : `What happened in ${tenant.name}: who did it, from where, and what changed. Newest first.`}
      </p>
      <Filters />
      {events.length === 0 ? (
        <div className="empty-state">
          {filtered ? (
            <>
              <p>No events match these filters.</p>
              <Link to={reset}>Clear the filters</Link>
            </>
          ) : (
            <p>No events yet.</p>
          )}
        </div>
      ) : (
        <>
          <div className="table-wrap">
            <table className="audit-table">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Action</th>
                  <th scope="col">Subject</th>
                  <th scope="col">IP</th>
                  <th scope="col" className="col-secondary">User agent</th>
                  <th scope="col">What changed</th>
                </tr>
              </thead>
              <tbody>
                {events.map((e) => (
                  <tr key={e.id}>
                    <td><Time value={e.at} /></td>
                    <td>{e.actor}</td>
                    <td title={e.actionName}>{e.action}</td>
                    <td className="audit-subject">
                      {e.subject.href ? <Link to={e.subject.href}>{e.subject.text}</Link> : e.subject.text}
                      {view === "organization" && e.tenant && <span className="muted small block">in {e.tenant}</span>}
                    </td>
                    <td>{e.ip ?? <span className="muted">—</span>}</td>
                    <td className="col-secondary">{e.userAgent ? <span title={e.userAgent.full}>{e.userAgent.short}</span> : <span className="muted">—</span>}</td>
                    <td>
                      {e.changes.length > 0 && (
                        <ul className="audit-changes">
                          {e.changes.map((line, i) => (
                            <li key={i}>{line}</li>
                          ))}
                        </ul>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pagination page={page} pages={pages} total={total} noun="events" href={pageHref} />
        </>
      )}
    </>
  );
}
