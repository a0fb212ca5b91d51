import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { requesterOf, requireTenant } from "~/auth/access.server";
import { refused } from "~/lib/action-result.server";
import { getDb } from "~/lib/db.server";
import { scheduleFormChoices } from "~/schedules/form-data.server";
import { NEW_SCHEDULE, scheduleInputFromForm, submittedScheduleValues } from "~/schedules/schedule-form";
import { ScheduleForm } from "~/schedules/ScheduleForm";
import { createSchedule } from "~/schedules/schedules.server";

export const meta: MetaFunction = () => [{ title: "New schedule · Exportal" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "data.exports.schedule");
  const tenantBase = `/o/${ctx.org.slug}/t/${ctx.tenant.slug}`;
  return { tenantBase, choices: await scheduleFormChoices(getDb(), requesterOf(ctx), ctx.ability) };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const ctx = await requireTenant(request, params, "data.exports.schedule");
  const form = (await request.formData().catch(() => null)) ?? new FormData();
  try {
    const schedule = await createSchedule(getDb(), requesterOf(ctx), scheduleInputFromForm(form));
    return redirect(`/o/${ctx.org.slug}/t/${ctx.tenant.slug}/schedules/${schedule.id}`);
  } catch (error) {
    return refused(error, { values: submittedScheduleValues(form) });
  }
}

export default function NewSchedule() {
  const { tenantBase, choices } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const values = result?.values ?? NEW_SCHEDULE;
  return (
    <>
      <p><Link to={`${tenantBase}/schedules`}>← All schedules</Link></p>
      <h1>New schedule</h1>
      <ScheduleForm
        key={JSON.stringify(values)}
        values={values}
        errors={result?.fieldErrors ?? {}}
        error={result?.error}
        choices={choices}
        submitLabel="Create schedule"
        pendingLabel="Creating…"
        cancelHref={`${tenantBase}/schedules`}
        deliveryHref={`${tenantBase}/delivery`}
      />
    </>
  );
}
