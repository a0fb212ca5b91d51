import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { useState } from "react";
import { NewExportDialog } from "~/components/NewExportDialog";
import { requireTenant } from "~/lib/access.server";
import { getDb } from "~/lib/db.server";
import { can } from "~/lib/permissions";
import { listProjects, listStudies } from "~/lib/tenant-data.server";

export const meta: MetaFunction = () => [{ title: "Studies · Exportal" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "data.read");
  return {
    tenant: ctx.tenant,
    exportsPath: `/o/${ctx.org.slug}/t/${ctx.tenant.slug}/exports`,
    canExport: can(ctx.ability, "data.exports.create") && can(ctx.ability, "studies.export"),
    studies: await listStudies(getDb(), ctx.tenant.id),
    projects: await listProjects(getDb(), ctx.tenant.id),
  };
}

export default function Studies() {
  const { tenant, exportsPath, canExport, studies, projects } = useLoaderData<typeof loader>();
  const [exporting, setExporting] = useState<{ studyId: string; cohortId: string; label: string } | null>(null);
  return (
    <>
      <h1>Studies</h1>
      <p className="muted">Research studies in {tenant.name}'s projects and their cohorts.</p>
      {studies.length === 0 ? (
        <div className="empty-state">
          <p>No studies yet.</p>
        </div>
      ) : (
        studies.map((study) => (
          <section key={study.id} className="card study">
            <h2>{study.name}</h2>
            <p className="muted">Project {study.projectName}</p>
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Cohort</th>
                    <th scope="col">Participants</th>
                    <th scope="col"><span className="visually-hidden">Actions</span></th>
                  </tr>
                </thead>
                <tbody>
                  {study.cohorts.map((cohort) => (
                    <tr key={cohort.id}>
                      <td>{cohort.name}</td>
                      <td>{cohort.participants.toLocaleString()}</td>
                      <td>
                        {canExport && (
                          <button
                            type="button"
                            className="button secondary"
                            onClick={() => setExporting({ studyId: study.id, cohortId: cohort.id, label: `Study ${study.name}, ${cohort.name}` })}
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
          </section>
        ))
      )}
      {canExport && exporting && (
        <NewExportDialog
          open
          onClose={() => setExporting(null)}
          projects={projects}
          canExportOrganization={false}
          exportsPath={exportsPath}
          locked={exporting}
        />
      )}
    </>
  );
}
