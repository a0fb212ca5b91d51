import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { ConfirmAction } from "~/components/ConfirmAction";
import { FieldError } from "~/components/FieldError";
import { ScrollRegion } from "~/components/ScrollRegion";
import { usePollWhile } from "~/components/usePollWhile";
import { requesterOf, requirePermission, requireTenant } from "~/auth/access.server";
import { can } from "~/auth/permissions";
import { orPageError, refused } from "~/lib/action-result.server";
import { getDb } from "~/lib/db.server";
import { dataTypeLabel, scopeLabel } from "~/exports/export-labels";
import { formatsLabel } from "~/exports/formats";
import { errorFor } from "~/exports/ExportDialogFields";
import { StatusBadge } from "~/exports/ExportStatus";
import { describeCadence } from "~/schedules/cadence";
import { runExports } from "~/schedules/run-history.server";
import { retryRun, runNow, startBackfill } from "~/schedules/runs.server";
import { ScheduleStatus } from "~/schedules/ScheduleStatus";
import { deleteSchedule, getSchedule, listRuns, pauseSchedule, resumeSchedule } from "~/schedules/schedules.server";
import { formatSlot, SlotTime } from "~/schedules/SlotTime";
import { PROFILE_LABELS } from "~/studies/deidentification";
import { studyScopeNames } from "~/studies/studies.server";
import { listProjects } from "~/tenants/tenant-data.server";

export const meta: MetaFunction = () => [{ title: "Schedule · Exportal" }];

const RANGE_LABELS: Record<string, string> = {
  last_7_days: "The 7 days before each run",
  last_30_days: "The 30 days before each run",
  last_90_days: "The 90 days before each run",
  last_year: "The year before each run",
  all_time: "All time",
};
const KIND_LABELS: Record<string, string> = { scheduled: "Scheduled", manual: "Run now", backfill: "Backfill", retry: "Retry" };

export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "data.exports.read");
  const requester = requesterOf(ctx);
  const db = getDb();
  const schedule = await orPageError(getSchedule(db, requester, params.id ?? ""));
  const runs = await listRuns(db, requester, schedule.id);
  const exportsByRun = await runExports(db, requester, runs.map((r) => r.id));
  const { scope, dataTypes, format, deidentification, dateRange } = schedule.request;
  const tenantBase = `/o/${ctx.org.slug}/t/${ctx.tenant.slug}`;
  return {
    tenantBase,
    canManage: can(ctx.ability, "data.exports.schedule") && !ctx.tenant.archived,
    schedule: {
      id: schedule.id,
      name: schedule.name,
      status: schedule.status,
      pausedReason: schedule.paused_reason,
      failuresInARow: schedule.failures_in_a_row,
      nextSlotAt: schedule.next_slot_at,
      timeZone: schedule.time_zone,
      cadence: describeCadence(schedule.cadence),
      scope: scopeLabel(scope, ctx.tenant.name, await listProjects(db, requester), await studyScopeNames(db, requester, [scope])),
      dataTypes: dataTypes.map(dataTypeLabel).join(", "),
      format: formatsLabel(format),
      deidentification: deidentification ? PROFILE_LABELS[deidentification].label : null,
      range: "preset" in dateRange ? RANGE_LABELS[dateRange.preset] ?? dateRange.preset : "Since the previous run",
      delta: schedule.delta,
      ownerName: schedule.ownerName,
      recipients: schedule.recipients.map((r) => r.name),
      targets: schedule.webhookIds.length + schedule.bucketIds.length,
    },
    runs: runs.map((r) => ({
      id: r.id,
      kind: r.kind,
      status: r.status,
      error: r.error,
      slotAt: r.slot_at,
      from: r.interval_from,
      to: r.interval_to,
      exports: exportsByRun[r.id] ?? [],
    })),
  };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const ctx = await requireTenant(request, params);
  requirePermission(ctx, "data.exports.schedule");
  const requester = requesterOf(ctx);
  const db = getDb();
  const id = params.id ?? "";
  const form = (await request.formData().catch(() => null)) ?? new FormData();
  const str = (name: string) => String(form.get(name) ?? "");
  const done = (message: string) => data({ ok: true as const, message });
  try {
    switch (str("intent")) {
      case "pause":
        await pauseSchedule(db, requester, id, `Paused by ${ctx.user.name}`);
        return done("Paused. No run starts until it is resumed.");
      case "resume":
        await resumeSchedule(db, requester, id);
        return done("Resumed. It runs again from its next slot.");
      case "run-now":
        await runNow(db, requester, id);
        return done("Run started. It appears in the history below.");
      case "retry":
        await orPageError(getSchedule(db, requester, id));
        await retryRun(db, requester, str("runId"));
        return done("Retry started. It appears in the history below.");
      case "backfill": {
        const { runs } = await startBackfill(db, requester, id, { from: str("from"), to: str("to") });
        return done(`Backfill queued: ${runs} run${runs === 1 ? "" : "s"}, behind the live ones.`);
      }
      case "delete":
        await deleteSchedule(db, requester, id);
        return redirect(`/o/${ctx.org.slug}/t/${ctx.tenant.slug}/schedules`);
      default:
        return data({ ok: false as const, error: "Unknown action.", fieldErrors: { intent: "Unknown action." } as Record<string, string>, intent: str("intent"), from: "", to: "" }, { status: 400 });
    }
  } catch (error) {
    return refused(error, { intent: str("intent"), from: str("from"), to: str("to") });
  }
}

function IntervalText({ from, to, timeZone }: { from: Date | string | null; to: Date | string | null; timeZone: string }) {
  if (!from && !to) return <>—</>;
  return (
    <>
      {from ? formatSlot(from, timeZone) : "the beginning"} to {to ? formatSlot(to, timeZone) : "the run"}
    </>
  );
}

export default function ScheduleDetail() {
  const { tenantBase, canManage, schedule: s, runs } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const busy = navigation.state !== "idle" && navigation.formMethod === "POST";
  usePollWhile(runs.some((r) => r.status === "pending" || r.status === "running"));
  const base = `${tenantBase}/schedules`;
  const refusal = result && !result.ok ? result : undefined;
  const backfillErrors = refusal?.intent === "backfill" ? refusal.fieldErrors : {};
  const actionButton = (intent: string, label: string, className = "button secondary") => (
    <button type="submit" name="intent" value={intent} className={className} disabled={busy}>{label}</button>
  );

  return (
    <>
      <p><Link to={base}>← All schedules</Link></p>
      <div className="page-header">
        <div>
          <h1>{s.name}</h1>
          <p className="muted">{s.cadence} ({s.timeZone})</p>
        </div>
        {canManage && (
          <div className="actions schedule-actions">
            <Form method="post" className="row-actions">
              {s.status === "active" ? actionButton("pause", "Pause") : actionButton("resume", "Resume")}
              {actionButton("run-now", "Run now")}
            </Form>
            <Link className="button secondary" to={`${base}/${s.id}/edit`}>Edit</Link>
            <ConfirmAction
              label="Delete"
              accessibleLabel={`Delete schedule ${s.name}`}
              title={`Delete “${s.name}”?`}
              consequence="No more runs start, and its run history goes. The exports its runs made stay, as ordinary exports, until their retention ends."
              confirmLabel="Delete schedule"
              pendingLabel="Deleting…"
              dismissLabel="Keep the schedule"
              fields={{ intent: "delete" }}
              buttonClassName="button danger"
            />
          </div>
        )}
      </div>
      <div role="status" aria-live="polite" className="status-line">
        {result?.ok && <p className="notice success">{result.message}</p>}
      </div>
      {refusal && refusal.intent !== "backfill" && <p className="form-error" role="alert">{refusal.error}</p>}

      <dl className="details">
        <dt>Status</dt>
        <dd>
          <ScheduleStatus status={s.status} reason={s.pausedReason} />
          {s.failuresInARow > 0 && <span className="muted small block">{s.failuresInARow} failed run{s.failuresInARow === 1 ? "" : "s"} in a row</span>}
        </dd>
        <dt>Next run</dt>
        <dd>{s.nextSlotAt ? <SlotTime value={s.nextSlotAt} timeZone={s.timeZone} /> : s.status === "paused" ? "None while paused" : "None: the cron expression does not fire again"}</dd>
        <dt>Exports</dt>
        <dd>{s.scope}</dd>
        <dt>Data types</dt>
        <dd>{s.dataTypes}</dd>
        <dt>Date range</dt>
        <dd>{s.range}{s.delta && <span className="block">Only what changed since the previous run</span>}</dd>
        <dt>Format</dt>
        <dd>{s.format}</dd>
        {s.deidentification && (
          <>
            <dt>De-identification</dt>
            <dd>{s.deidentification}</dd>
          </>
        )}
        <dt>Recipients</dt>
        <dd>{s.recipients.length ? s.recipients.join(", ") : "None"}</dd>
        <dt>Webhooks and buckets</dt>
        <dd>{s.targets || "None"}</dd>
        <dt>Owner</dt>
        <dd>{s.ownerName ?? "—"} <span className="muted small block">Runs are made with the owner’s rights; each recipient gets what their own role allows.</span></dd>
      </dl>

      {canManage && (
        <Form method="post" className="card backfill-form" aria-labelledby="backfill-title">
          <h2 id="backfill-title">Backfill</h2>
          <p className="muted small">Runs each period of the cadence between these dates, behind the live runs.</p>
          {refusal?.intent === "backfill" && Object.keys(backfillErrors).length === 0 && <p className="form-error" role="alert">{refusal.error}</p>}
          <input type="hidden" name="intent" value="backfill" />
          <div className="date-row">
            <div className="field">
              <label htmlFor="backfill-from">From</label>
              <input id="backfill-from" type="date" name="from" required defaultValue={refusal?.from}
                aria-invalid={!!errorFor(backfillErrors, "from")} aria-describedby={errorFor(backfillErrors, "from") ? "backfill-from-error" : undefined} />
              <FieldError id="backfill-from-error" message={errorFor(backfillErrors, "from")} />
            </div>
            <div className="field">
              <label htmlFor="backfill-to">To</label>
              <input id="backfill-to" type="date" name="to" required defaultValue={refusal?.to}
                aria-invalid={!!errorFor(backfillErrors, "to")} aria-describedby={errorFor(backfillErrors, "to") ? "backfill-to-error" : undefined} />
              <FieldError id="backfill-to-error" message={errorFor(backfillErrors, "to")} />
            </div>
          </div>
          <div><button type="submit" className="button secondary" disabled={busy}>Start backfill</button></div>
        </Form>
      )}

      <h2>Run history</h2>
      {runs.length === 0 ? (
        <div className="empty-state"><p>No runs yet.</p></div>
      ) : (
        <ScrollRegion className="table-wrap" label="Run history">
          <table className="run-table">
            <thead>
              <tr>
                <th scope="col">Slot</th>
                <th scope="col" className="col-secondary">Data interval ({s.timeZone})</th>
                <th scope="col" className="col-secondary">Kind</th>
                <th scope="col">Status</th>
                <th scope="col">Exports</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.id} data-run-id={r.id}>
                  <td><SlotTime value={r.slotAt} timeZone={s.timeZone} /></td>
                  <td className="col-secondary"><IntervalText from={r.from} to={r.to} timeZone={s.timeZone} /></td>
                  <td className="col-secondary">{KIND_LABELS[r.kind] ?? r.kind}</td>
                  <td>
                    <StatusBadge status={r.status} />
                    {r.error && <span className="error-text block">{r.error}</span>}
                    {r.status === "failed" && canManage && (
                      <Form method="post" className="inline-form">
                        <input type="hidden" name="runId" value={r.id} />
                        <button type="submit" name="intent" value="retry" className="link-button retry-button" disabled={busy}
                          aria-label={`Retry the run of ${formatSlot(r.slotAt, s.timeZone)}`}>
                          Retry
                        </button>
                      </Form>
                    )}
                  </td>
                  <td>
                    {r.exports.length === 0 ? "—" : (
                      <ul className="plain-list">
                        {r.exports.map((e, i) => (
                          <li key={e.id}>
                            <Link to={`${tenantBase}/exports/${e.id}`}>
                              Export {i + 1}{e.deidentification ? ` (${PROFILE_LABELS[e.deidentification as keyof typeof PROFILE_LABELS]?.label ?? e.deidentification})` : ""}
                            </Link>{" "}
                            <StatusBadge status={e.status} />
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
    </>
  );
}
