import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { ScrollRegion } from "~/components/ScrollRegion";
import { Time } from "~/components/Time";
import { requesterOf, requireTenant } from "~/auth/access.server";
import { can } from "~/auth/permissions";
import { getDb } from "~/lib/db.server";
import { StatusBadge } from "~/exports/ExportStatus";
import { describeCadence } from "~/schedules/cadence";
import { lastRuns } from "~/schedules/run-history.server";
import { listSchedules } from "~/schedules/schedules.server";
import { ScheduleStatus } from "~/schedules/ScheduleStatus";
import { SlotTime } from "~/schedules/SlotTime";

export const meta: MetaFunction = () => [{ title: "Schedules · Exportal" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "data.exports.read");
  const requester = requesterOf(ctx);
  const schedules = await listSchedules(getDb(), requester);
  const last = await lastRuns(getDb(), requester, schedules.map((s) => s.id));
  return {
    base: `/o/${ctx.org.slug}/t/${ctx.tenant.slug}/schedules`,
    tenant: ctx.tenant,
    canManage: can(ctx.ability, "data.exports.schedule") && !ctx.tenant.archived,
    schedules: schedules.map((s) => {
      const run = last.get(s.id);
      return {
        id: s.id,
        name: s.name,
        cadence: describeCadence(s.cadence),
        timeZone: s.time_zone,
        nextSlotAt: s.next_slot_at,
        status: s.status,
        pausedReason: s.paused_reason,
        ownerName: s.ownerName,
        lastRun: run ? { status: run.status, at: run.finished_at ?? run.created_at } : null,
      };
    }),
  };
}

export default function Schedules() {
  const { base, tenant, canManage, schedules } = useLoaderData<typeof loader>();
  return (
    <>
      <div className="page-header">
        <div>
          <h1>Schedules</h1>
          <p className="muted">Exports of {tenant.name}'s data that run on their own, daily, weekly, monthly or on a cron expression, and go to the people and places you choose.</p>
        </div>
        {canManage && schedules.length > 0 && <Link className="button primary" to={`${base}/new`}>New schedule</Link>}
      </div>
      {schedules.length === 0 ? (
        <div className="empty-state">
          <p>No schedules yet.</p>
          {canManage ? (
            <>
              <p className="muted">A schedule makes the same export every day, week or month, and sends it to its recipients.</p>
              <p><Link className="button primary" to={`${base}/new`}>New schedule</Link></p>
            </>
          ) : (
            <p className="muted">Schedules that editors and admins set up appear here.</p>
          )}
        </div>
      ) : (
        <ScrollRegion className="table-wrap" label="Schedules">
          <table className="schedule-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Runs</th>
                <th scope="col">Next run</th>
                <th scope="col">Status</th>
                <th scope="col" className="col-secondary">Owner</th>
                <th scope="col" className="col-secondary">Last run</th>
              </tr>
            </thead>
            <tbody>
              {schedules.map((s) => (
                <tr key={s.id} data-schedule-id={s.id}>
                  <td><Link to={`${base}/${s.id}`}>{s.name}</Link></td>
                  <td>{s.cadence} <span className="muted small">({s.timeZone})</span></td>
                  <td>{s.nextSlotAt ? <SlotTime value={s.nextSlotAt} timeZone={s.timeZone} /> : "—"}</td>
                  <td><ScheduleStatus status={s.status} reason={s.pausedReason} /></td>
                  <td className="col-secondary">{s.ownerName ?? "—"}</td>
                  <td className="col-secondary">
                    {s.lastRun ? <><StatusBadge status={s.lastRun.status} /> <Time value={s.lastRun.at} /></> : "Not run yet"}
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
