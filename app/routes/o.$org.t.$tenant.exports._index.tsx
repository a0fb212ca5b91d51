import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { useActionData, useLoaderData, useRevalidator } from "@remix-run/react";
import { useState } from "react";
import { usePollWhile } from "~/components/usePollWhile";
import { NewExportDialog, type SubmittedValues } from "~/exports/NewExportDialog";
import { ExportList } from "~/exports/ExportList";
import { lastPageHref, Pagination, pageParam } from "~/components/Pagination";
import { requesterOf, requirePermission, requireTenant } from "~/auth/access.server";
import type { Requester } from "~/auth/requester";
import { getDb } from "~/lib/db.server";
import { AppError } from "~/lib/errors";
import { refused } from "~/lib/action-result.server";
import { linkIsLive, mayDownload } from "~/exports/download.server";
import { exportRequestFromForm } from "~/exports/export-request";
import { cancelExport, createExport } from "~/exports/exports.server";
import { listExports, PAGE_SIZE, type ExportListItem } from "~/exports/export-queries.server";
import { scopeLabel } from "~/exports/export-labels";
import { estimatedSecondsLeft } from "~/exports/time-left";
import { listProjects } from "~/tenants/tenant-data.server";
import { studyScopeNames } from "~/studies/studies.server";
import { can } from "~/auth/permissions";
import { allowedProfiles } from "~/studies/deidentification";

export const meta: MetaFunction = () => [{ title: "Exports · Exportal" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "data.exports.read");
  const requester = requesterOf(ctx);
  const url = new URL(request.url);
  const page = pageParam(url);
  const projectsRead = listProjects(getDb(), requester);
  // Settled by the await below; a redirect or failure before it must not leave an unhandled rejection.
  projectsRead.catch(() => undefined);
  const { exports, total } = await listExports(getDb(), requester, page);
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const last = lastPageHref(url, page, pages);
  if (last) throw redirect(last);
  const now = new Date();
  return {
    page,
    pages,
    total,
    base: `/o/${ctx.org.slug}/t/${ctx.tenant.slug}/exports`,
    tenant: ctx.tenant,
    // An archived tenant is read-only: its banner says so, and there is nothing to start.
    canCreate: can(ctx.ability, "data.exports.create") && !ctx.tenant.archived,
    canCancel: can(ctx.ability, "data.exports.cancel"),
    canExportOrganization: can(ctx.ability, "org.exports.create"),
    allowedProfiles: allowedProfiles(ctx.ability),
    exports: exports.map((e) => listed(e, requester, now)),
    projects: await projectsRead,
    names: await studyScopeNames(getDb(), requester, exports.map((e) => e.scope)),
  };
}

/**
 * An export as the list shows it, and no more: the page is polled every 1.5 s while an export runs, and
 * the rest of a row (its manifest, filters, snapshot, archive key) is neither shown nor the browser's business.
 * Whether a link is live and the time left are decided here from the whole row, so the page does not depend
 * on the browser's clock.
 */
function listed(e: ExportListItem, requester: Requester, now: Date) {
  return {
    id: e.id,
    status: e.status,
    error: e.error,
    created_at: e.created_at,
    expires_at: e.expires_at,
    rows_done: e.rows_done,
    rows_expected: e.rows_expected,
    archive_bytes: e.archive_bytes,
    formats: e.formats,
    scope: e.scope,
    requestedBy: e.requestedBy,
    schedule: e.schedule,
    queuePosition: e.queuePosition,
    linkLive: linkIsLive(e, now),
    downloadable: mayDownload(requester, e),
    secondsLeft: estimatedSecondsLeft(e, now),
  };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const ctx = await requireTenant(request, params);
  const requester = requesterOf(ctx);
  const form = await request.formData().catch(() => null);
  const intent = form?.get("intent") ?? "create";
  requirePermission(ctx, intent === "cancel" ? "data.exports.cancel" : "data.exports.create");
  if (!form) return data({ ok: false as const, error: "Send the form as a web form.", fieldErrors: {}, exportId: undefined }, { status: 400 });
  try {
    if (intent === "cancel") {
      const cancelled = await cancelExport(getDb(), requester, String(form.get("exportId") ?? ""));
      return data({ ok: true as const, exportId: cancelled.id }, { status: 200 });
    }
    const created = await createExport(getDb(), requester, exportRequestFromForm(form));
    return data({ ok: true as const, exportId: created.id }, { status: 201 });
  } catch (error) {
    const exportId = error instanceof AppError ? (error.details.exportId as string | undefined) : undefined;
    return refused(error, { exportId, values: submittedValues(form) });
  }
}

/** The dialog's fields as sent, so a refused form reopens as the user left it. */
function submittedValues(form: FormData): SubmittedValues {
  const one = (name: string) => (typeof form.get(name) === "string" ? (form.get(name) as string) : undefined);
  const all = (name: string) => form.getAll(name).filter((v): v is string => typeof v === "string");
  return {
    scope: one("scope"),
    studyId: one("studyId"),
    cohortId: one("cohortId"),
    participantId: one("participantId"),
    scopeLabel: one("scopeLabel"),
    projectId: one("projectId"),
    appIds: all("appIds"),
    dataTypes: form.has("dataTypesShown") ? all("dataTypes") : undefined,
    preset: one("preset"),
    from: one("from"),
    to: one("to"),
    format: form.has("formatsShown") || form.has("format") ? all("format") : undefined,
    deidentification: one("deidentification"),
  };
}

type ActionResult = NonNullable<ReturnType<typeof useActionData<typeof action>>>;
type Refused = Extract<ActionResult, { values: SubmittedValues }>;

export default function Exports() {
  const { base, tenant, canCreate, canCancel, canExportOrganization, allowedProfiles, exports, projects, names, page, pages, total } =
    useLoaderData<typeof loader>();
  const revalidator = useRevalidator();
  const result = useActionData<typeof action>();
  // The dialog, and the refused request it shows again. A refused request keeps it open with its errors
  // until the user closes it, even when polling revalidates the page and the action's data is gone; an
  // accepted one closes it.
  const [dialog, setDialog] = useState<{ open: boolean; refused?: Refused }>({ open: false });
  const [seenResult, setSeenResult] = useState(result);
  if (result !== seenResult) {
    setSeenResult(result);
    if (result?.ok) setDialog({ open: false });
    else if (result && "values" in result) setDialog({ open: true, refused: result });
  }
  usePollWhile(exports.some((e) => e.status === "pending" || e.status === "running"));

  return (
    <>
      <div className="page-header">
        <div>
          <h1>Exports</h1>
          <p className="muted">Archives of {tenant.name}'s data, built in the background.</p>
        </div>
        <div className="actions">
          <button type="button" className="button secondary" onClick={() => revalidator.revalidate()} disabled={revalidator.state !== "idle"}>
            {revalidator.state === "idle" ? "Refresh" : "Refreshing…"}
          </button>
          {canCreate && (
            <button type="button" className="button primary" onClick={() => setDialog({ open: true })}>
              New export
            </button>
          )}
        </div>
      </div>
      {!canCreate && !tenant.archived && (
        <p className="notice" role="note">You don't have permission to create exports. Ask an organization or tenant admin.</p>
      )}
      {canCreate && (
        <NewExportDialog
          open={dialog.open}
          onClose={() => setDialog({ open: false })}
          projects={projects}
          canExportOrganization={canExportOrganization}
          result={dialog.refused}
          exportsPath={base}
          allowedProfiles={allowedProfiles}
        />
      )}
      {exports.length === 0 ? (
        <div className="empty-state">
          <p>No exports yet.</p>
          <p className="muted">{canCreate ? "Start one with “New export”; it appears here while it runs." : "Exports that members start appear here."}</p>
        </div>
      ) : (
        <ExportList
          exports={exports.map((e) => ({ ...e, scope: scopeLabel(e.scope, tenant.name, projects, names) }))}
          base={base}
          canCancel={canCancel}
        />
      )}
      <Pagination page={page} pages={pages} total={total} noun="exports" href={(n) => `?page=${n}`} labels={["← Newer", "Older →"]} />
    </>
  );
}
