import { Form, Link, useNavigation } from "@remix-run/react";
import { useState } from "react";
import { useHydrated } from "~/components/Time";
import { FieldError } from "~/components/FieldError";
import { useTenantPermissions } from "~/components/tenant-permissions";
import { DataTypeFields, errorFor, FormatFields, ProfileFields, ScopeFields, type DialogProject } from "~/exports/ExportDialogFields";
import { dataTypesFor, holdsParticipants } from "~/exports/export-request";
import { ORG_ROLE_LABELS, TENANT_ROLE_LABELS } from "~/members/RoleFields";
import type { DeidentificationProfile } from "~/studies/deidentification";
import { isTimeZone, nextSlot, WEEKDAYS, type Cadence } from "./cadence";
import { requestErrors, type ScheduleFormValues } from "./schedule-form";
import { formatSlot, useReaderTimeZone } from "./SlotTime";

export interface ScheduleFormChoices {
  projects: DialogProject[];
  canExportOrganization: boolean;
  allowedProfiles: DeidentificationProfile[];
  people: { id: string; name: string; email: string; orgRole: string; tenantRole: string | null }[];
  targets: { webhooks: { id: string; label: string }[]; buckets: { id: string; label: string }[] };
}

const RANGES = [
  ["interval", "Since the previous run"],
  ["last_7_days", "Last 7 days"],
  ["last_30_days", "Last 30 days"],
  ["last_90_days", "Last 90 days"],
  ["last_year", "Last year"],
  ["all_time", "All time"],
] as const;

const KINDS = [
  ["daily", "Daily"],
  ["weekly", "Weekly"],
  ["monthly", "Monthly"],
  ["cron", "Cron expression"],
] as const;

const DAYS = [...Array.from({ length: 28 }, (_, i) => [String(i + 1), String(i + 1)]), ["last", "Last day"]];

let zoneList: string[] | undefined;
/** The time zones the browser knows, for the time zone field's suggestions; none while the server renders. */
function useTimeZones(): string[] {
  if (!useHydrated()) return [];
  zoneList ??= ["UTC", ...(typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : []).filter((z) => z !== "UTC")];
  return zoneList;
}

/** The next three slots of what the form says now, or nothing while it says something that cannot run. */
function previewSlots(cadence: Cadence, timeZone: string): Date[] {
  if (!isTimeZone(timeZone)) return [];
  if (cadence.kind !== "cron" && !/^([01]\d|2[0-3]):[0-5]\d$/.test(cadence.time)) return [];
  try {
    const slots: Date[] = [];
    for (let at = new Date(); slots.length < 3; ) {
      const next = nextSlot(cadence, timeZone, at);
      if (!next) break;
      slots.push(next);
      at = next;
    }
    return slots;
  } catch {
    return [];
  }
}

function roleLabel(p: ScheduleFormChoices["people"][number]): string {
  return p.tenantRole ? TENANT_ROLE_LABELS[p.tenantRole] ?? p.tenantRole : `Admin (as organization ${(ORG_ROLE_LABELS as Record<string, string>)[p.orgRole]?.toLowerCase() ?? p.orgRole})`;
}

function Described({ id, error }: { id: string; error?: string }) {
  return <FieldError id={id} message={error} />;
}

/**
 * The new and edit schedule form: what to export (the export form's own
 * fields), its date range relative to each run, the cadence in a named time
 * zone, and who and where each run goes. Errors show next to their fields
 * and the fields keep what was sent.
 */
export function ScheduleForm(props: {
  values: ScheduleFormValues;
  errors: Record<string, string>;
  error?: string;
  choices: ScheduleFormChoices;
  submitLabel: string;
  pendingLabel: string;
  cancelHref: string;
  deliveryHref: string;
}) {
  const { values, errors, choices } = props;
  const submitting = useNavigation().formMethod === "POST";
  const permissions = useTenantPermissions();
  const reqErrors = requestErrors(errors);

  const [scope, setScope] = useState(values.scope);
  const [projectId, setProjectId] = useState(values.projectId ?? choices.projects[0]?.id ?? "");
  const [dataTypes, setDataTypes] = useState(values.dataTypes);
  const [kind, setKind] = useState(values.cadenceKind);
  const [time, setTime] = useState(values.time);
  const [weekday, setWeekday] = useState(values.weekday);
  const [dayOfMonth, setDayOfMonth] = useState(values.dayOfMonth);
  const [expression, setExpression] = useState(values.expression);
  // A new schedule starts in the reader's time zone until one is typed; a refused or saved one keeps its own.
  const [typedZone, setTimeZone] = useState(values.timeZone);
  const readerZone = useReaderTimeZone();
  const timeZone = typedZone ?? readerZone;
  const zones = useTimeZones();

  const scopeType = scope as Parameters<typeof dataTypesFor>[0];
  const offered = dataTypesFor(scopeType).filter((type) => type !== "audit_events" || permissions.includes("audit.read"));
  const cadence = (
    kind === "weekly" ? { kind, weekday: Number(weekday), time }
    : kind === "monthly" ? { kind, dayOfMonth: dayOfMonth === "last" ? "last" : Number(dayOfMonth), time }
    : kind === "cron" ? { kind, expression }
    : { kind: "daily", time }
  ) as Cadence;
  // Counted from now, so only once the page runs in the browser: the server's moment could differ.
  const preview = useHydrated() ? previewSlots(cadence, timeZone) : [];
  const general = props.error && Object.keys(errors).length === 0 ? props.error : undefined;
  const err = (key: string) => errorFor(errors, key);
  const invalid = (key: string, id: string) => ({ "aria-invalid": !!err(key), "aria-describedby": err(key) ? id : undefined });
  const { webhooks, buckets } = choices.targets;

  return (
    <Form method="post" className="card schedule-form" noValidate>
      {general && <p className="form-error" role="alert">{general}</p>}
      {Object.keys(errors).length > 0 && (
        <p className="form-error" role="alert">The schedule was not saved: correct the fields marked below.</p>
      )}
      <div className="field">
        <label htmlFor="schedule-name">Name</label>
        <input id="schedule-name" name="name" maxLength={100} defaultValue={values.name} {...invalid("name", "name-error")} />
        <Described id="name-error" error={err("name")} />
      </div>

      <section aria-labelledby="what-title" className="schedule-section">
        <h2 id="what-title">What to export</h2>
        <ScopeFields
          locked={values.scope === "study" && values.studyId && values.cohortId
            ? { studyId: values.studyId, cohortId: values.cohortId, participantId: values.participantId, label: values.scopeLabel ?? "Study cohort" }
            : undefined}
          errors={reqErrors}
          scope={scope}
          onScope={setScope}
          canExportOrganization={choices.canExportOrganization}
          projects={choices.projects}
          projectId={projectId}
          onProject={setProjectId}
          appIds={values.appIds}
        />
        <DataTypeFields offered={offered} checked={dataTypes} onChange={setDataTypes} errors={reqErrors} />
        {holdsParticipants(scopeType, dataTypes.filter((t) => (offered as readonly string[]).includes(t))) && (
          <ProfileFields allowed={choices.allowedProfiles} value={values.deidentification} errors={reqErrors} />
        )}
        <FormatFields value={values.format} errors={reqErrors} />
        <div className="field">
          <label htmlFor="schedule-range">Date range of each run</label>
          <select id="schedule-range" name="range" defaultValue={values.range} {...invalid("request.dateRange", "range-error")}>
            {RANGES.map(([value, label]) => (
              <option key={value} value={value}>{label}</option>
            ))}
          </select>
          <p className="muted small">“Since the previous run” exports the data from one run’s time to the next; a preset counts back from each run’s time.</p>
          <Described id="range-error" error={err("request.dateRange")} />
        </div>
        <label className="choice">
          <input type="checkbox" name="delta" defaultChecked={values.delta} /> Only what changed since the previous run
        </label>
      </section>

      <section aria-labelledby="when-title" className="schedule-section">
        <h2 id="when-title">When</h2>
        <fieldset className="field" aria-describedby={err("cadence") && !err("cadence.time") ? "cadence-error" : undefined}>
          <legend>Repeats</legend>
          <div className="choice-row">
            {KINDS.map(([value, label]) => (
              <label key={value} className="choice">
                <input type="radio" name="cadenceKind" value={value} checked={kind === value} onChange={() => setKind(value)} /> {label}
              </label>
            ))}
          </div>
          {!err("cadence.time") && !err("cadence.weekday") && !err("cadence.dayOfMonth") && !err("cadence.expression") && <Described id="cadence-error" error={err("cadence")} />}
        </fieldset>
        <div className="cadence-row">
          {kind === "weekly" && (
            <div className="field">
              <label htmlFor="schedule-weekday">Weekday</label>
              <select id="schedule-weekday" name="weekday" value={weekday} onChange={(e) => setWeekday(e.target.value)} {...invalid("cadence.weekday", "weekday-error")}>
                {WEEKDAYS.map((day, i) => (
                  <option key={day} value={i}>{day}</option>
                ))}
              </select>
              <Described id="weekday-error" error={err("cadence.weekday")} />
            </div>
          )}
          {kind === "monthly" && (
            <div className="field">
              <label htmlFor="schedule-day">Day of the month</label>
              <select id="schedule-day" name="dayOfMonth" value={dayOfMonth} onChange={(e) => setDayOfMonth(e.target.value)} {...invalid("cadence.dayOfMonth", "day-error")}>
                {DAYS.map(([value, label]) => (
                  <option key={value} value={value}>{label}</option>
                ))}
              </select>
              <Described id="day-error" error={err("cadence.dayOfMonth")} />
            </div>
          )}
          {kind === "cron" ? (
            <div className="field cron-field">
              <label htmlFor="schedule-expression">Cron expression</label>
              <input id="schedule-expression" name="expression" value={expression} onChange={(e) => setExpression(e.target.value)} spellCheck={false}
                aria-invalid={!!err("cadence.expression")} aria-describedby={err("cadence.expression") ? "expression-hint expression-error" : "expression-hint"} />
              <p className="muted small" id="expression-hint">Five fields: minute hour day-of-month month weekday, e.g. <code>0 9 * * 1-5</code>.</p>
              <Described id="expression-error" error={err("cadence.expression")} />
            </div>
          ) : (
            <div className="field">
              <label htmlFor="schedule-time">Time (HH:MM, 24-hour)</label>
              <input id="schedule-time" name="time" value={time} onChange={(e) => setTime(e.target.value)} inputMode="numeric" placeholder="09:00" maxLength={5} size={6}
                {...invalid("cadence.time", "time-error")} />
              <Described id="time-error" error={err("cadence.time")} />
            </div>
          )}
          <div className="field zone-field">
            <label htmlFor="schedule-zone">Time zone</label>
            <input id="schedule-zone" name="timeZone" list="schedule-zones" value={timeZone} onChange={(e) => setTimeZone(e.target.value)} autoComplete="off" spellCheck={false}
              {...invalid("timeZone", "zone-error")} />
            <datalist id="schedule-zones">
              {zones.map((z) => (
                <option key={z} value={z} />
              ))}
            </datalist>
            <Described id="zone-error" error={err("timeZone")} />
          </div>
        </div>
        <div className="schedule-preview">
          <h3 id="preview-title">Next runs</h3>
          {preview.length ? (
            <ul aria-labelledby="preview-title">
              {preview.map((slot) => (
                <li key={slot.toISOString()}><time dateTime={slot.toISOString()}>{formatSlot(slot, timeZone)}</time> ({timeZone})</li>
              ))}
            </ul>
          ) : (
            <p className="muted small">Shown once the cadence, time and time zone are complete.</p>
          )}
        </div>
      </section>

      <section aria-labelledby="who-title" className="schedule-section">
        <h2 id="who-title">Delivery</h2>
        <fieldset className="field" aria-describedby={err("recipients") ? "recipients-error" : "recipients-hint"}>
          <legend>Recipients</legend>
          <p className="muted small" id="recipients-hint">Each recipient gets each run by email, with what their own role allows.</p>
          {choices.people.map((p) => (
            <label key={p.id} className="choice">
              <input type="checkbox" name="recipients" value={p.id} defaultChecked={values.recipients.includes(p.id)} /> {p.name}{" "}
              <span className="muted small">({roleLabel(p)}, {p.email})</span>
            </label>
          ))}
          <Described id="recipients-error" error={err("recipients")} />
        </fieldset>
        {webhooks.length === 0 && buckets.length === 0 ? (
          <p className="muted">
            No webhooks or buckets yet. <Link to={props.deliveryHref}>Set them up on the Delivery page</Link> to deliver runs there.
          </p>
        ) : (
          <>
            {webhooks.length > 0 && (
              <fieldset className="field" aria-describedby={err("webhookIds") ? "webhooks-error" : undefined}>
                <legend>Webhooks</legend>
                {webhooks.map((w) => (
                  <label key={w.id} className="choice">
                    <input type="checkbox" name="webhookIds" value={w.id} defaultChecked={values.webhookIds.includes(w.id)} /> {w.label}
                  </label>
                ))}
                <Described id="webhooks-error" error={err("webhookIds")} />
              </fieldset>
            )}
            {buckets.length > 0 && (
              <fieldset className="field" aria-describedby={err("bucketIds") ? "buckets-error" : undefined}>
                <legend>Buckets</legend>
                {buckets.map((b) => (
                  <label key={b.id} className="choice">
                    <input type="checkbox" name="bucketIds" value={b.id} defaultChecked={values.bucketIds.includes(b.id)} /> {b.label}
                  </label>
                ))}
                <Described id="buckets-error" error={err("bucketIds")} />
              </fieldset>
            )}
          </>
        )}
      </section>

      <div className="form-actions">
        <Link to={props.cancelHref} className="button secondary">Cancel</Link>
        <button type="submit" className="button primary" disabled={submitting}>{submitting ? props.pendingLabel : props.submitLabel}</button>
      </div>
    </Form>
  );
}
