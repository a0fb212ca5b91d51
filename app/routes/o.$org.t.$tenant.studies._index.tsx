import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { useState } from "react";
import { CohortTable, type ExportTarget } from "~/studies/CohortTable";
import { StudyExportDialog } from "~/exports/NewExportDialog";
import { ProjectFilter } from "~/components/ProjectFilter";
import { requireTenant, requesterOf } from "~/auth/access.server";
import { getDb } from "~/lib/db.server";
import { allowedProfiles } from "~/studies/deidentification";
import { can } from "~/auth/permissions";
import { listProjects } from "~/tenants/tenant-data.server";
import { listStudies } from "~/studies/studies.server";

export const meta: MetaFunction = () => [{ title: "Studies · Exportal" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "data.read");
  const requester = requesterOf(ctx);
  const projects = await listProjects(getDb(), requester);
  // An unknown project (or another tenant's) filters to nothing, like an empty project.
  const projectId = new URL(request.url).searchParams.get("project") || null;
  const studies = (await listStudies(getDb(), requester)).filter((s) => !projectId || s.projectId === projectId);
  return {
    tenant: ctx.tenant,
    base: `/o/${ctx.org.slug}/t/${ctx.tenant.slug}/studies`,
    exportsPath: `/o/${ctx.org.slug}/t/${ctx.tenant.slug}/exports`,
    canExport: can(ctx.ability, "data.exports.create") && can(ctx.ability, "studies.export"),
    allowedProfiles: allowedProfiles(ctx.ability),
    projectId,
    studies,
    projects,
  };
}

export default function Studies() {
  const { tenant, base, exportsPath, canExport, allowedProfiles, projectId, studies, projects } = useLoaderData<typeof loader>();
  const [exporting, setExporting] = useState<ExportTarget | null>(null);
  const byProject = projects
    .map((p) => ({ project: p, studies: studies.filter((s) => s.projectId === p.id) }))
    .filter((g) => g.studies.length > 0);
  return (
    <>
      <div className="page-header">
        <div>
          <h1>Studies</h1>
          <p className="muted">Research studies in {tenant.name}'s projects and their cohorts.</p>
        </div>
        <ProjectFilter id="studies-project" projects={projects} projectId={projectId} />
      </div>
      {byProject.length === 0 ? (
        <div className="empty-state">
          <p>No studies {projectId ? "in this project" : "yet"}.</p>
        </div>
      ) : (
        byProject.map(({ project, studies }) => (
          <div key={project.id} className="project-group">
            <h2>Project {project.name}</h2>
            {studies.map((study) => (
              <section key={study.id} className="card study">
                <h3>
                  <Link to={`${base}/${study.id}`}>{study.name}</Link>
                </h3>
                <CohortTable study={study} base={base} onExport={canExport ? setExporting : undefined} />
              </section>
            ))}
          </div>
        ))
      )}
      {canExport && (
        <StudyExportDialog target={exporting} onClose={() => setExporting(null)} projects={projects} exportsPath={exportsPath} allowedProfiles={allowedProfiles} />
      )}
    </>
  );
}
