import { redirect, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { useState } from "react";
import { StudyExportDialog } from "~/exports/NewExportDialog";
import { lastPageHref, Pagination, pageParam } from "~/components/Pagination";
import { Time } from "~/components/Time";
import { notFound, requireTenant, requesterOf } from "~/auth/access.server";
import { getDb } from "~/lib/db.server";
import { allowedProfiles } from "~/studies/deidentification";
import { can } from "~/auth/permissions";
import { getCohort, listCohortParticipants, PARTICIPANTS_PAGE_SIZE } from "~/studies/studies.server";
import { listProjects } from "~/tenants/tenant-data.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.cohort.name ?? "Cohort"} · Exportal` }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "data.read");
  const requester = requesterOf(ctx);
  const cohort = await getCohort(getDb(), requester, params.studyId ?? "", params.cohortId ?? "");
  if (!cohort) throw notFound();
  const url = new URL(request.url);
  const page = pageParam(url);
  // PostgreSQL text cannot hold U+0000, and no participant id has one.
  const q = url.searchParams.get("q")?.replaceAll("\0", "").trim().slice(0, 64) ?? "";
  // Everyone who may see data sees external ids and enrolment; names, emails and the
  // like only those who may also export them in full.
  const identifying = can(ctx.ability, "studies.export.full");
  const { participants, total } = await listCohortParticipants(getDb(), requester, cohort.id, { q, page, identifying });
  const pages = Math.max(1, Math.ceil(total / PARTICIPANTS_PAGE_SIZE));
  const last = lastPageHref(url, page, pages);
  if (last) throw redirect(last);
  return {
    cohort,
    q,
    page,
    pages,
    total,
    participants,
    identifying,
    base: `/o/${ctx.org.slug}/t/${ctx.tenant.slug}/studies`,
    exportsPath: `/o/${ctx.org.slug}/t/${ctx.tenant.slug}/exports`,
    canExport: can(ctx.ability, "data.exports.create") && can(ctx.ability, "studies.export"),
    allowedProfiles: allowedProfiles(ctx.ability),
    projects: await listProjects(getDb(), requester),
  };
}

type Locked = { studyId: string; cohortId: string; participantId?: string; label: string };

export default function Cohort() {
  const { cohort, q, page, pages, total, participants, identifying, base, exportsPath, canExport, allowedProfiles, projects } =
    useLoaderData<typeof loader>();
  const [exporting, setExporting] = useState<Locked | null>(null);
  const label = `Study ${cohort.studyName}, ${cohort.name}`;
  const pageLink = (n: number) => `?${new URLSearchParams({ ...(q && { q }), page: String(n) })}`;
  return (
    <>
      <nav aria-label="Breadcrumb" className="muted small">
        <Link to={base}>Studies</Link> / <Link to={`${base}/${cohort.studyId}`}>Study {cohort.studyName}</Link>
      </nav>
      <div className="page-header">
        <div>
          <h1>{cohort.name}</h1>
          <p className="muted">Participants of study {cohort.studyName} in this cohort.</p>
        </div>
        {canExport && (
          <div className="actions">
            <button type="button" className="button primary" onClick={() => setExporting({ studyId: cohort.studyId, cohortId: cohort.id, label })}>
              Export cohort
            </button>
          </div>
        )}
      </div>
      <Form method="get" role="search" className="search">
        <label htmlFor="participant-search">Participant id</label>
        <input id="participant-search" type="search" name="q" defaultValue={q} placeholder="P-0042" />
        <button type="submit" className="button secondary">
          Search
        </button>
      </Form>
      {participants.length === 0 ? (
        <div className="empty-state">
          <p>{q ? `No participant of this cohort has an id containing “${q}”.` : "No participants are enrolled in this cohort yet."}</p>
          {q && <Link to="?">Show all participants</Link>}
        </div>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Participant</th>
                <th scope="col">Enrolled</th>
                {identifying && (
                  <>
                    <th scope="col">Name</th>
                    <th scope="col">Email</th>
                    <th scope="col">Date of birth</th>
                    <th scope="col">Device serial</th>
                    <th scope="col">Notes</th>
                  </>
                )}
                <th scope="col"><span className="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {participants.map((p) => (
                <tr key={p.id} data-participant-id={p.externalId}>
                  <td>{p.externalId}</td>
                  <td>
                    <Time value={p.enrolledAt} relative={false} />
                  </td>
                  {p.identifying && (
                    <>
                      <td>{p.identifying.name ?? "—"}</td>
                      <td>{p.identifying.email ?? "—"}</td>
                      <td>{p.identifying.dateOfBirth ?? "—"}</td>
                      <td>{p.identifying.deviceSerial ?? "—"}</td>
                      <td>{p.identifying.notes ?? ""}</td>
                    </>
                  )}
                  <td>
                    {canExport && (
                      <button
                        type="button"
                        className="button secondary"
                        aria-label={`Export participant ${p.externalId}`}
                        onClick={() => setExporting({ studyId: cohort.studyId, cohortId: cohort.id, participantId: p.id, label: `${label}, participant ${p.externalId}` })}
                      >
                        Export
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pagination page={page} pages={pages} total={total} noun="participants" href={pageLink} />
      {canExport && (
        <StudyExportDialog target={exporting} onClose={() => setExporting(null)} projects={projects} exportsPath={exportsPath} allowedProfiles={allowedProfiles} />
      )}
    </>
  );
}
