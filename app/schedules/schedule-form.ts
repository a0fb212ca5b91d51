import { DATE_PRESETS, exportRequestFromForm } from "../exports/export-request";
import { formatsOf } from "../exports/formats";
import type { ExportSchedule } from "../../db/schema";
import type { ScheduleInput } from "./schedule-input";

/** The schedule form's fields as the user left them: what a refused form shows again, and what the edit form starts from. */
export interface ScheduleFormValues {
  name: string;
  scope: string;
  projectId?: string;
  /** A study scope (made through the API) stays locked to its cohort, under this label. */
  studyId?: string;
  cohortId?: string;
  participantId?: string;
  scopeLabel?: string;
  appIds: string[];
  dataTypes: string[];
  format: string[];
  deidentification?: string;
  /** "interval" (since the previous run) or a date preset. */
  range: string;
  cadenceKind: string;
  weekday: string;
  dayOfMonth: string;
  time: string;
  expression: string;
  timeZone?: string;
  delta: boolean;
  recipients: string[];
  webhookIds: string[];
  bucketIds: string[];
}

function reader(form: FormData) {
  const text = (name: string) => {
    const value = form.get(name);
    return typeof value === "string" && value !== "" ? value : undefined;
  };
  const list = (name: string) => form.getAll(name).filter((v): v is string => typeof v === "string" && v !== "");
  return { text, list };
}

/** The portal form's fields as a schedule; what it exports is read by the export form's own reader. */
export function scheduleInputFromForm(form: FormData): ScheduleInput {
  const { text, list } = reader(form);
  const { dateRange: _ignored, ...request } = exportRequestFromForm(form);
  const range = text("range") ?? "interval";
  const kind = text("cadenceKind");
  const time = text("time");
  const cadence =
    kind === "weekly" ? { kind, weekday: text("weekday"), time }
    : kind === "monthly" ? { kind, dayOfMonth: text("dayOfMonth") === "last" ? "last" : text("dayOfMonth"), time }
    : kind === "cron" ? { kind, expression: text("expression") }
    : { kind, time };
  return {
    name: text("name"),
    request: { ...request, dateRange: range === "interval" ? { relative: "interval" } : { preset: range } },
    cadence,
    timeZone: text("timeZone"),
    delta: form.get("delta") === "on",
    recipients: list("recipients"),
    webhookIds: list("webhookIds"),
    bucketIds: list("bucketIds"),
  } as ScheduleInput;
}

/** What a submitted form held, to fill the form again after a refusal. */
export function submittedScheduleValues(form: FormData): ScheduleFormValues {
  const { text, list } = reader(form);
  return {
    name: String(form.get("name") ?? ""),
    scope: text("scope") ?? "tenant",
    projectId: text("projectId"),
    studyId: text("studyId"),
    cohortId: text("cohortId"),
    participantId: text("participantId"),
    scopeLabel: text("scopeLabel"),
    appIds: list("appIds"),
    dataTypes: list("dataTypes"),
    format: list("format"),
    deidentification: text("deidentification"),
    range: text("range") ?? "interval",
    cadenceKind: text("cadenceKind") ?? "daily",
    weekday: text("weekday") ?? "1",
    dayOfMonth: text("dayOfMonth") ?? "1",
    time: String(form.get("time") ?? ""),
    expression: String(form.get("expression") ?? ""),
    timeZone: String(form.get("timeZone") ?? ""),
    delta: form.get("delta") === "on",
    recipients: list("recipients"),
    webhookIds: list("webhookIds"),
    bucketIds: list("bucketIds"),
  };
}

/** A new schedule's starting values; its time zone is the browser's, chosen once the page runs there. */
export const NEW_SCHEDULE: ScheduleFormValues = {
  name: "",
  scope: "tenant",
  appIds: [],
  dataTypes: ["hsi_records", "lab_results"],
  format: ["ndjson"],
  range: "interval",
  cadenceKind: "daily",
  weekday: "1",
  dayOfMonth: "1",
  time: "09:00",
  expression: "",
  delta: false,
  recipients: [],
  webhookIds: [],
  bucketIds: [],
};

/** A saved schedule as the edit form's values. */
export function scheduleFormValues(s: Pick<ExportSchedule, "name" | "request" | "cadence" | "time_zone" | "delta"> & { recipients: { userId: string }[]; webhookIds: string[]; bucketIds: string[] }): ScheduleFormValues {
  const { scope, dataTypes, format, deidentification, dateRange } = s.request;
  const c = s.cadence;
  return {
    name: s.name,
    scope: scope.type,
    projectId: "projectId" in scope ? scope.projectId : undefined,
    studyId: scope.type === "study" ? scope.studyId : undefined,
    cohortId: scope.type === "study" ? scope.cohortId : undefined,
    participantId: scope.type === "study" ? scope.participantId : undefined,
    appIds: "appIds" in scope ? scope.appIds : [],
    dataTypes,
    format: formatsOf(format),
    deidentification,
    range: "preset" in dateRange && (DATE_PRESETS as readonly string[]).includes(dateRange.preset) ? dateRange.preset : "interval",
    cadenceKind: c.kind,
    weekday: c.kind === "weekly" ? String(c.weekday) : "1",
    dayOfMonth: c.kind === "monthly" ? String(c.dayOfMonth) : "1",
    time: c.kind === "cron" ? "09:00" : c.time,
    expression: c.kind === "cron" ? c.expression : "",
    timeZone: s.time_zone,
    delta: s.delta,
    recipients: s.recipients.map((r) => r.userId),
    webhookIds: s.webhookIds,
    bucketIds: s.bucketIds,
  };
}

/** The errors under `request.` with that prefix dropped, as the export form's fields name them. */
export function requestErrors(errors: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(errors).filter(([k]) => k.startsWith("request.")).map(([k, v]) => [k.slice("request.".length), v]));
}
