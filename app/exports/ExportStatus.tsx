import { formatCount, percent } from "~/lib/format";

const LABEL: Record<string, string> = {
  pending: "Pending",
  running: "Running",
  done: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
  expired: "Expired",
};

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status}`}>{LABEL[status] ?? status}</span>;
}

/** Rows done of rows expected, as a bar with its percentage, while an export runs. */
export function ExportProgress({ done, expected }: { done: number | string; expected: number | string | null }) {
  const pct = percent(done, expected) ?? 0;
  return (
    <div className="progress-cell">
      <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} aria-label="Export progress">
        <div className="progress-bar" style={{ width: `${pct}%` }} />
      </div>
      <span className="muted small">
        {pct}% · {formatCount(done)} of {expected === null ? "…" : formatCount(expected)} rows
      </span>
    </div>
  );
}
