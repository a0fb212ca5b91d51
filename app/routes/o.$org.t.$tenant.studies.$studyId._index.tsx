import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { useState } from "react";
import { CohortTable, type ExportTarget } from "~/studies/CohortTable";
import { StudyExportDialog } from "~/exports/NewExportDialog";
import { notFound, requireTenant, requesterOf } from "~/auth/access.server";
import { getDb } from "~/lib/db.server";
import { allowedProfiles } from "~/studies/deidentification";
import { can } from "~/auth/permissions";
import { getStudy } from "~/studies/studies.server";
import { listProjects } from "~/tenants/tenant-data.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.study.name ?? "Study"} · Exportal` }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "data.read");
  const requester = requesterOf(ctx);
  const study = await getStudy(getDb(), requester, params.studyId ?? "");
  if (!study) throw notFound();
  return {
    study,
    base: `/o/${ctx.org.slug}/t/${ctx.tenant.slug}/studies`,
    exportsPath: `/o/${ctx.org.slug}/t/${ctx.tenant.slug}/exports`,
    canExport: can(ctx.ability, "data.exports.create") && can(ctx.ability, "studies.export"),
    allowedProfiles: allowedProfiles(ctx.ability),
    projects: await listProjects(getDb(), requester),
  };
}

export default function Study() {
  const { study, base, exportsPath, canExport, allowedProfiles, projects } = useLoaderData<typeof loader>();
  const [exporting, setExporting] = useState<ExportTarget | null>(null);
  return (
    <>
      <nav aria-label="Breadcrumb" className="muted small">
        <Link to={base}>Studies</Link> / <Link to={`${base}?project=${study.projectId}`}>Project {study.projectName}</Link>
      </nav>
      <h1>Study {study.name}</h1>
      {study.cohorts.length === 0 ? (
        <div className="empty-state">
          <p>This study has no cohorts yet.</p>
        </div>
      ) : (
        <CohortTable study={study} base={base} onExport={canExport ? setExporting : undefined} />
      )}
      {canExport && (
        <StudyExportDialog target={exporting} onClose={() => setExporting(null)} projects={projects} exportsPath={exportsPath} allowedProfiles={allowedProfiles} />
      )}
    </>
  );
}
