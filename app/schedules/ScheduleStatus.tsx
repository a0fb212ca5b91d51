/** Active, or paused with why (by someone, or after failed runs). */
export function ScheduleStatus({ status, reason }: { status: string; reason: string | null }) {
  return status === "active" ? (
    <span className="badge badge-done">Active</span>
  ) : (
    <>
      <span className="badge badge-pending">Paused</span>
      {reason && <span className="muted small block">{reason}</span>}
    </>
  );
}
