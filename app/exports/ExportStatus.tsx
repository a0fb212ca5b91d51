import { formatCount, percent } from "~/lib/format";
import { queueLabel } from "./queue-label";
import { timeLeftLabel } from "./time-left";

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

/** A waiting export's place in its tenant's line, when it has one. */
export function QueuePosition({ position }: { position: number | null }) {
  return position ? <span className="muted small block queue-position">{queueLabel(position)}</span> : null;
}

/**
 * Records done of records expected, as a bar with its percentage and, once
 * there is an estimate, the time left, in text and in the bar's accessible value.
 */
export function ExportProgress({ done, expected, secondsLeft }: { done: number | string; expected: number | string | null; secondsLeft?: number | null }) {
  const pct = percent(done, expected) ?? 0;
  const rows = `${formatCount(done)} of ${expected === null ? "…" : formatCount(expected)} rows`;
  const left = secondsLeft === null || secondsLeft === undefined ? null : timeLeftLabel(secondsLeft);
  return (
    <div className="progress-cell">
      <div
        className="progress"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        aria-valuetext={[`${pct}%`, rows, left].filter(Boolean).join(", ")}
        aria-label="Export progress"
      >
        <div className="progress-bar" style={{ width: `${pct}%` }} />
      </div>
      <span className="muted small">{`${pct}% · ${rows}`}</span>
      {left && <span className="muted small">{` · ${left}`}</span>}
    </div>
  );
}
