import { Link } from "@remix-run/react";
import { ConfirmAction } from "~/components/ConfirmAction";
import { Time } from "~/components/Time";
import { formatBytes, formatCount } from "~/lib/format";
import { formatsLabel } from "./formats";
import { ExportProgress, QueuePosition, StatusBadge } from "./ExportStatus";

/** One export as the list shows it. */
export interface ExportListItem {
  id: string;
  status: string;
  error: string | null;
  created_at: Date | string;
  expires_at: Date | string | null;
  rows_done: number | string;
  rows_expected: number | string | null;
  archive_bytes: number | string | null;
  formats: string[];
  requestedBy: string | null;
  /** The schedule whose run made it, if one did. */
  schedule: { id: string; name: string; ownerName: string | null } | null;
  /** Whether the archive may be downloaded now, decided by the server's clock. */
  linkLive: boolean;
  /** Whether this requester may download it (the right to download, and to every data type inside). */
  downloadable: boolean;
  secondsLeft: number | null;
  /** 1 for the tenant's next export to run; null unless it waits in line. */
  queuePosition: number | null;
  /** The scope in words, e.g. "Project Cardio Study". */
  scope: string;
}

interface ListProps {
  exports: ExportListItem[];
  /** The tenant's exports path; an export's page and download sit under it. */
  base: string;
  canCancel: boolean;
}

/**
 * The exports of a page, as a table on wide screens and as cards on narrow ones (the stylesheet shows one
 * of the two): a phone shows what one looks for first, status, progress and Download, without scrolling sideways.
 */
export function ExportList(props: ListProps) {
  return (
    <>
      <ExportTable {...props} />
      <ExportCards {...props} />
    </>
  );
}

function ExportTable({ exports, base, canCancel }: ListProps) {
  return (
    <div className="table-wrap export-table">
      <table>
        <thead>
          <tr>
            <th scope="col">Created</th>
            <th scope="col">Scope</th>
            <th scope="col">Requested by</th>
            <th scope="col">Status</th>
            <th scope="col">Rows</th>
            <th scope="col">Size</th>
            <th scope="col">Format</th>
            <th scope="col"><span className="visually-hidden">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          {exports.map((e) => (
            <tr key={e.id} data-export-id={e.id} data-status={e.status}>
              <td>
                <Link to={`${base}/${e.id}`}>
                  <Time value={e.created_at} />
                </Link>
              </td>
              <td>{e.scope}</td>
              <td><RequestedBy exp={e} base={base} /></td>
              <td><Status exp={e} /></td>
              <td>{e.status === "done" ? formatCount(e.rows_done) : "—"}</td>
              <td>{formatBytes(e.archive_bytes)}</td>
              <td>{formatsLabel(e.formats)}</td>
              <td><Actions exp={e} base={base} canCancel={canCancel} /></td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ExportCards({ exports, base, canCancel }: ListProps) {
  return (
    <ul className="export-cards" aria-label="Exports">
      {exports.map((e) => (
        <li key={e.id} className="export-card" data-export-id={e.id} data-status={e.status}>
          <div className="export-card-status">
            <Status exp={e} />
          </div>
          <Actions exp={e} base={base} canCancel={canCancel} primary />
          <dl className="export-card-facts">
            <dt>Created</dt>
            <dd>
              <Link to={`${base}/${e.id}`}>
                <Time value={e.created_at} />
              </Link>
            </dd>
            <dt>Scope</dt>
            <dd>{e.scope}</dd>
            <dt>Requested by</dt>
            <dd><RequestedBy exp={e} base={base} /></dd>
            <dt>Format</dt>
            <dd>{formatsLabel(e.formats)}</dd>
            {e.status === "done" && (
              <>
                <dt>Rows</dt>
                <dd>{formatCount(e.rows_done)}</dd>
              </>
            )}
            <dt>Size</dt>
            <dd>{formatBytes(e.archive_bytes)}</dd>
          </dl>
        </li>
      ))}
    </ul>
  );
}

function Status({ exp }: { exp: ExportListItem }) {
  return (
    <>
      <StatusBadge status={exp.status} />
      {exp.status === "pending" && <QueuePosition position={exp.queuePosition} />}
      {exp.status === "running" && <ExportProgress done={exp.rows_done} expected={exp.rows_expected} secondsLeft={exp.secondsLeft} />}
      {exp.status === "failed" && exp.error && <p className="error-text small">{exp.error}</p>}
    </>
  );
}

/** Download while the link lives, Cancel while it runs; on a card, Download is a full button to tap. */
function Actions({ exp, base, canCancel, primary = false }: Omit<ListProps, "exports"> & { exp: ExportListItem; primary?: boolean }) {
  const download = exp.downloadable && exp.linkLive;
  const cancel = canCancel && (exp.status === "pending" || exp.status === "running");
  if (!download && !cancel) return null;
  return (
    <div className="export-actions">
      {download && (
        <>
          <a href={`${base}/${exp.id}/download`} download className={primary ? "button primary" : undefined}>
            Download
          </a>
          <span className="muted small block">
            expires <Time value={exp.expires_at!} />
          </span>
        </>
      )}
      {cancel && <CancelButton exportId={exp.id} />}
    </div>
  );
}

/** Cancels after the user confirms; the row updates with the next poll. */
function CancelButton({ exportId }: { exportId: string }) {
  return (
    <ConfirmAction
      label="Cancel"
      accessibleLabel={`Cancel export ${exportId}`}
      title="Cancel this export?"
      consequence="Its progress is discarded and no archive is kept. Anyone waiting for it gets nothing."
      confirmLabel="Cancel export"
      pendingLabel="Cancelling…"
      dismissLabel="Keep it running"
      fields={{ intent: "cancel", exportId }}
    />
  );
}

/** Who asked for an export: a person or key, or for a schedule's run "Scheduled by <owner>, schedule <name>" linking to it. */
export function RequestedBy({ exp, base }: { exp: Pick<ExportListItem, "requestedBy" | "schedule">; base: string }) {
  if (!exp.schedule) return <>{exp.requestedBy ?? "—"}</>;
  const schedules = base.replace(/\/exports$/, "/schedules");
  return (
    <>
      Scheduled by {exp.schedule.ownerName ?? "a former member"}, schedule{" "}
      <Link to={`${schedules}/${exp.schedule.id}`}>{exp.schedule.name}</Link>
    </>
  );
}
