import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { ExportProgress, QueuePosition, StatusBadge } from "~/exports/ExportStatus";
import { RequestedBy } from "~/exports/ExportList";
import { Time } from "~/components/Time";
import { CopyButton } from "~/components/CopyButton";
import { publicOrigin } from "~/api/export-json.server";
import { ScrollRegion } from "~/components/ScrollRegion";
import { notFound, requesterOf, requireTenant } from "~/auth/access.server";
import { getDb } from "~/lib/db.server";
import { listExportEvents } from "~/audit/audit.server";
import { dataTypeLabel, scopeLabel } from "~/exports/export-labels";
import { formatsLabel } from "~/exports/formats";
import { PROFILE_LABELS } from "~/studies/deidentification";
import { getExport } from "~/exports/export-queries.server";
import { linkIsLive, mayDownload, signedLinkPath } from "~/exports/download.server";
import { listProjects } from "~/tenants/tenant-data.server";
import { studyScopeNames } from "~/studies/studies.server";
import { formatBytes, formatCount } from "~/lib/format";
import { estimatedSecondsLeft } from "~/exports/time-left";
import { can } from "~/auth/permissions";

export const meta: MetaFunction = () => [{ title: "Export · Exportal" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "data.exports.read");
  const requester = requesterOf(ctx);
  const exp = await getExport(getDb(), requesterOf(ctx), params.id ?? "");
  if (!exp) throw notFound();
  const canDownload = mayDownload(requester, exp);
  return {
    base: `/o/${ctx.org.slug}/t/${ctx.tenant.slug}/exports`,
    tenant: ctx.tenant,
    exp,
    secondsLeft: estimatedSecondsLeft(exp),
    canDownload,
    signedLink: canDownload && linkIsLive(exp) ? new URL(signedLinkPath(exp), request.url).href : null,
    // The file name is the one the download gives the archive.
    verifyCommand: `npm run verify -- export-${exp.id}.zip --key ${publicOrigin(request)}/api/v1/manifest-key`,
    events: await listExportEvents(getDb(), ctx.tenant.id, exp.id),
    auditHref: can(ctx.ability, "audit.read") ? `/o/${ctx.org.slug}/t/${ctx.tenant.slug}/audit?${new URLSearchParams({ subject: `export:${exp.id}` })}` : null,
    scope: scopeLabel(exp.scope, ctx.tenant.name, await listProjects(getDb(), requester), await studyScopeNames(getDb(), requester, [exp.scope])),
  };
}

export default function ExportDetail() {
  const { base, exp, secondsLeft, canDownload, signedLink, verifyCommand, events, auditHref, scope } = useLoaderData<typeof loader>();
  return (
    <>
      <p>
        <Link to={base}>← All exports</Link>
      </p>
      <div className="page-header">
        <h1>Export: {scope}</h1>
        {canDownload && exp.status === "done" && (
          <a className="button primary" href={`${base}/${exp.id}/download`} download>
            Download
          </a>
        )}
      </div>
      <dl className="details">
        <dt>Status</dt>
        <dd>
          <StatusBadge status={exp.status} />
          {exp.status === "pending" && <QueuePosition position={exp.queuePosition} />}
          {exp.status === "running" && <ExportProgress done={exp.rows_done} expected={exp.rows_expected} secondsLeft={secondsLeft} />}
          {exp.error && <p className="error-text">{exp.error}</p>}
        </dd>
        <dt>Data types</dt>
        <dd>{exp.data_types.map(dataTypeLabel).join(", ")}</dd>
        {exp.since_snapshot && (
          <>
            <dt>Delta</dt>
            <dd>
              Changes since export{" "}
              {exp.since_export_id ? <Link to={`${base}/${exp.since_export_id}`}>{exp.since_export_id}</Link> : "(since deleted)"}
              {exp.since_snapshot_at && (
                <>
                  {" "}
                  of <Time value={String(exp.since_snapshot_at)} relative={false} />
                </>
              )}
            </dd>
          </>
        )}
        <dt>Dates</dt>
        <dd>
          {exp.filters.from || exp.filters.to ? (
            <>
              {exp.filters.from ? <Time value={exp.filters.from} relative={false} /> : "the beginning"} up to{" "}
              {exp.filters.to ? <Time value={exp.filters.to} relative={false} /> : "the export"} (From included, To not)
            </>
          ) : (
            "All time"
          )}
        </dd>
        <dt>Format</dt>
        <dd>{formatsLabel(exp.formats)}</dd>
        {exp.deidentification && (
          <>
            <dt>De-identification</dt>
            <dd>{PROFILE_LABELS[exp.deidentification].label}</dd>
          </>
        )}
        <dt>Requested by</dt>
        <dd><RequestedBy exp={exp} base={base} /></dd>
        <dt>Created</dt>
        <dd><Time value={exp.created_at} relative={false} /></dd>
        <dt>Started</dt>
        <dd>{exp.started_at ? <Time value={exp.started_at} relative={false} /> : "—"}</dd>
        <dt>Finished</dt>
        <dd>{exp.finished_at ? <Time value={exp.finished_at} relative={false} /> : "—"}</dd>
        {exp.status === "done" && (
          <>
            <dt>Rows</dt>
            <dd>
              {formatCount(exp.rows_done)}
              {exp.formats.length > 1 && <span className="muted small"> records, each in {formatsLabel(exp.formats)}</span>}
            </dd>
          </>
        )}
        <dt>Archive</dt>
        <dd>{formatBytes(exp.archive_bytes)}</dd>
        {exp.expires_at && (
          <>
            <dt>{exp.status === "expired" ? "Expired" : "Link expires"}</dt>
            <dd><Time value={exp.expires_at} relative={false} /></dd>
          </>
        )}
        {signedLink && (
          <>
            <dt>Shareable link</dt>
            <dd>
              <input className="link-field" readOnly value={signedLink} aria-label="Signed download link" onFocus={(e) => e.target.select()} />
              <p className="muted small">Anyone with this link can download the archive until it expires.</p>
            </dd>
          </>
        )}
      </dl>
      {exp.manifest && (
        <>
          <h2>Files</h2>
          <p className="muted small">Snapshot taken at <Time value={exp.manifest.snapshotAt} relative={false} />.</p>
          <ScrollRegion className="table-wrap" label="Files">
            <table>
              <thead>
                <tr>
                  <th scope="col">File</th>
                  <th scope="col">Rows</th>
                  <th scope="col">Size</th>
                  <th scope="col">SHA-256</th>
                </tr>
              </thead>
              <tbody>
                {exp.manifest.files.map((f) => (
                  <tr key={f.name}>
                    <td>
                      {f.name}
                      {f.sheets && f.sheets.length > 1 && (
                        <span className="muted small"> (sheets {f.sheets.map((sheet) => `${sheet.name}: ${formatCount(sheet.rows)}`).join(", ")})</span>
                      )}
                    </td>
                    <td>{formatCount(f.rows)}</td>
                    <td>{formatBytes(f.bytes)}</td>
                    <td><code className="hash">{f.sha256}</code></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
          <h3 className="small-heading">Verify the archive</h3>
          <p className="muted small">
            <code>manifest.sig</code> in the archive signs <code>manifest.json</code>, which holds the hashes above. In a checkout of Exportal, this checks every file&apos;s
            hash, size and rows and the signature, and exits 0 only when all hold:
          </p>
          <div className="code-with-copy">
            <ScrollRegion as="pre" className="code-block" label="Command to verify the archive"><code>{verifyCommand}</code></ScrollRegion>
            <CopyButton value={verifyCommand} label="Copy command" />
          </div>
        </>
      )}
      <h2>Activity</h2>
      {auditHref && (
        <p>
          <Link to={auditHref}>All events of this export</Link> <span className="muted small">in the audit log, with addresses and user agents</span>
        </p>
      )}
      <ol className="events">
        {events.map((e, i) => (
          <li key={i}>
            <Time value={e.created_at} relative={false} /> · {e.action.replace("export.", "").replace("_", " ")} · {e.actor_label}
            {e.client_ip && <span className="muted small"> from {e.client_ip}</span>}
          </li>
        ))}
      </ol>
    </>
  );
}
