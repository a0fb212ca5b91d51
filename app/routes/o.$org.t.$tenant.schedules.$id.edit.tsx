import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import type { ExportScope } from "../../db/schema";
import { requesterOf, requireTenant } from "~/auth/access.server";
import type { Requester } from "~/auth/requester";
import { orPageError, refused } from "~/lib/action-result.server";
import { getDb } from "~/lib/db.server";
import { scopeLabel } from "~/exports/export-labels";
import { studyScopeNames } from "~/studies/studies.server";
import { scheduleFormChoices } from "~/schedules/form-data.server";
import { scheduleFormValues, scheduleInputFromForm, submittedScheduleValues } from "~/schedules/schedule-form";
import { ScheduleForm } from "~/schedules/ScheduleForm";
import { getSchedule, updateSchedule } from "~/schedules/schedules.server";

export const meta: MetaFunction = () => [{ title: "Edit schedule · Exportal" }];

/** A study scope's words, for the form that keeps it locked; other scopes are chosen in the form. */
async function studyLabel(requester: Requester, tenantName: string, scope: ExportScope): Promise<string | undefined> {
  return scope.type === "study" ? scopeLabel(scope, tenantName, [], await studyScopeNames(getDb(), requester, [scope])) : undefined;
}

export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "data.exports.schedule");
  const requester = requesterOf(ctx);
  const schedule = await orPageError(getSchedule(getDb(), requester, params.id ?? ""));
  return {
    tenantBase: `/o/${ctx.org.slug}/t/${ctx.tenant.slug}`,
    schedule: { id: schedule.id, name: schedule.name, ownerName: schedule.ownerName, ownedByMe: schedule.owner_user_id === ctx.user.id },
    values: { ...scheduleFormValues(schedule), scopeLabel: await studyLabel(requester, ctx.tenant.name, schedule.request.scope) },
    choices: await scheduleFormChoices(getDb(), requester, ctx.ability),
  };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const ctx = await requireTenant(request, params, "data.exports.schedule");
  const form = (await request.formData().catch(() => null)) ?? new FormData();
  try {
    const schedule = await updateSchedule(getDb(), requesterOf(ctx), params.id ?? "", scheduleInputFromForm(form));
    return redirect(`/o/${ctx.org.slug}/t/${ctx.tenant.slug}/schedules/${schedule.id}`);
  } catch (error) {
    return refused(error, { values: submittedScheduleValues(form) });
  }
}

export default function EditSchedule() {
  const { tenantBase, schedule, values: saved, choices } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const values = result?.values ?? saved;
  const detail = `${tenantBase}/schedules/${schedule.id}`;
  return (
    <>
      <p><Link to={detail}>← {schedule.name}</Link></p>
      <h1>Edit schedule</h1>
      {!schedule.ownedByMe && (
        <p className="notice" role="note">
          Saving makes you this schedule’s owner{schedule.ownerName ? ` instead of ${schedule.ownerName}` : ""}: its runs are then made with your rights.
        </p>
      )}
      <ScheduleForm
        key={JSON.stringify(values)}
        values={values}
        errors={result?.fieldErrors ?? {}}
        error={result?.error}
        choices={choices}
        submitLabel="Save schedule"
        pendingLabel="Saving…"
        cancelHref={detail}
        deliveryHref={`${tenantBase}/delivery`}
      />
    </>
  );
}
