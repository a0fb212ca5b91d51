import type { ReactNode } from "react";
import { FieldError } from "~/components/FieldError";
import { dataTypeLabel } from "~/exports/export-labels";
import { DEFAULT_PROFILE, DEIDENTIFICATION_PROFILES, PROFILE_LABELS, PROFILE_PERMISSION, type DeidentificationProfile } from "~/studies/deidentification";

// The New export dialog's fields, one component per fieldset. Each takes the
// server's field errors and the values of a refused submission.
export type FieldErrors = Record<string, string>;

/** A study cohort (or one participant of it) the export is locked to. */
export interface LockedScope {
  studyId: string;
  cohortId: string;
  participantId?: string;
  label: string;
}

export interface DialogProject {
  id: string;
  name: string;
  apps: { id: string; name: string }[];
}

/** The first message among these error keys (a field's errors may sit under sub-paths like `dataTypes.1`). */
export function errorFor(errors: FieldErrors, ...keys: string[]): string | undefined {
  for (const [key, message] of Object.entries(errors)) {
    if (keys.some((k) => key === k || key.startsWith(`${k}.`))) return message;
  }
}

function Fieldset({ legend, children, error, errorId }: { legend: string; children: ReactNode; error?: string; errorId: string }) {
  return (
    <fieldset className="field" aria-describedby={error ? errorId : undefined}>
      <legend>{legend}</legend>
      {children}
      <FieldError id={errorId} message={error} />
    </fieldset>
  );
}

/** The scope: locked to a study cohort, or tenant, project, apps or (for those allowed) the organization. */
export function ScopeFields(props: {
  locked?: LockedScope;
  errors: FieldErrors;
  scope: string;
  onScope: (scope: string) => void;
  canExportOrganization: boolean;
  projects: DialogProject[];
  projectId: string;
  onProject: (projectId: string) => void;
  appIds?: string[];
}) {
  const { locked, errors, scope, projects, projectId } = props;
  if (locked) {
    return (
      <div className="field">
        <span className="label">Scope</span>
        <p className="locked-scope">{locked.label}</p>
        <input type="hidden" name="scope" value="study" />
        <input type="hidden" name="studyId" value={locked.studyId} />
        <input type="hidden" name="cohortId" value={locked.cohortId} />
        {locked.participantId && <input type="hidden" name="participantId" value={locked.participantId} />}
        <input type="hidden" name="scopeLabel" value={locked.label} />
        <FieldError id="scope-error" message={errorFor(errors, "scope")} />
      </div>
    );
  }
  const choices = [
    ["tenant", "Current tenant"],
    ["project", "A project"],
    ["app", "An app"],
    ...(props.canExportOrganization ? [["organization", "Entire organization"]] : []),
  ];
  return (
    <>
      <Fieldset legend="Scope" error={errorFor(errors, "scope.type")} errorId="scope-error">
        {choices.map(([value, label]) => (
          <label key={value} className="choice">
            <input type="radio" name="scope" value={value} checked={scope === value} onChange={() => props.onScope(value)} /> {label}
          </label>
        ))}
      </Fieldset>
      {(scope === "project" || scope === "app") && (
        <div className="field">
          <label htmlFor="export-project">Project</label>
          <select
            id="export-project"
            name="projectId"
            value={projectId}
            onChange={(e) => props.onProject(e.target.value)}
            aria-invalid={!!errors["scope.projectId"]}
            aria-describedby={errors["scope.projectId"] ? "project-error" : undefined}
          >
            {projects.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
          <FieldError id="project-error" message={errors["scope.projectId"]} />
        </div>
      )}
      {scope === "app" && (
        <Fieldset legend="Apps" error={errorFor(errors, "scope.appIds")} errorId="apps-error">
          {(projects.find((p) => p.id === projectId)?.apps ?? []).map((a) => (
            <label key={a.id} className="choice">
              <input type="checkbox" name="appIds" value={a.id} defaultChecked={props.appIds?.includes(a.id)} /> {a.name}
            </label>
          ))}
        </Fieldset>
      )}
    </>
  );
}

/** The data types the scope can hold; which are checked decides whether a profile is asked for. */
export function DataTypeFields({ offered, checked, onChange, errors }: { offered: readonly string[]; checked: string[]; onChange: (types: string[]) => void; errors: FieldErrors }) {
  const toggle = (type: string, on: boolean) => onChange(on ? [...checked, type] : checked.filter((t) => t !== type));
  return (
    <Fieldset legend="Data types" error={errorFor(errors, "dataTypes")} errorId="types-error">
      <input type="hidden" name="dataTypesShown" value="1" />
      {offered.map((value) => (
        <label key={value} className="choice">
          <input type="checkbox" name="dataTypes" value={value} checked={checked.includes(value)} onChange={(e) => toggle(value, e.target.checked)} />{" "}
          {dataTypeLabel(value)}
        </label>
      ))}
    </Fieldset>
  );
}

const PRESETS = [
  ["", "Custom dates"],
  ["last_7_days", "Last 7 days"],
  ["last_30_days", "Last 30 days"],
  ["last_90_days", "Last 90 days"],
  ["last_year", "Last year"],
  ["all_time", "All time"],
] as const;

/** A preset, or custom From and To dates. */
export function DateFields({ preset, onPreset, from, to, errors }: { preset: string; onPreset: (preset: string) => void; from?: string; to?: string; errors: FieldErrors }) {
  const date = (name: "from" | "to", label: string, value?: string) => (
    <div>
      <label htmlFor={`export-${name}`}>{label}</label>
      <input id={`export-${name}`} type="date" name={name} defaultValue={value} aria-invalid={!!errors[`dateRange.${name}`]}
        aria-describedby={errors[`dateRange.${name}`] ? `${name}-error` : undefined} />
      <FieldError id={`${name}-error`} message={errors[`dateRange.${name}`]} />
    </div>
  );
  return (
    <div className="field">
      <label htmlFor="export-preset">Dates (optional)</label>
      <select id="export-preset" name="preset" value={preset} onChange={(e) => onPreset(e.target.value)}>
        {PRESETS.map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </select>
      {preset === "" && (
        <div className="date-row">
          {date("from", "From", from)}
          {date("to", "To", to)}
        </div>
      )}
      <p className="muted small">From is included, To is not. Dates are in UTC.</p>
    </div>
  );
}

/**
 * How participants' rows leave, for any scope whose data types hold them.
 * The profiles the user may not use show disabled, naming the permission.
 */
export function ProfileFields({ allowed = [], value, errors }: { allowed?: DeidentificationProfile[]; value?: string; errors: FieldErrors }) {
  // A refused profile the user may not use comes back unselected: a disabled radio would not be sent again.
  const selected = allowed.includes(value as DeidentificationProfile) ? value : DEFAULT_PROFILE;
  return (
    <Fieldset legend="De-identification" error={errorFor(errors, "deidentification")} errorId="deidentification-error">
      {DEIDENTIFICATION_PROFILES.map((profile) => {
        const { label, hint } = PROFILE_LABELS[profile];
        const may = allowed.includes(profile);
        return (
          <label key={profile} className="choice">
            <input type="radio" name="deidentification" value={profile} disabled={!may} defaultChecked={selected === profile} /> {label}{" "}
            <span className="muted small">({may ? hint : `needs the permission ${PROFILE_PERMISSION[profile]}`})</span>
          </label>
        );
      })}
    </Fieldset>
  );
}

const FORMATS = [
  ["ndjson", "NDJSON", "recommended, lossless"],
  ["csv", "CSV", "flattened, analyst-friendly"],
  ["parquet", "Parquet", "typed columns, for analytics engines"],
  ["xlsx", "Excel", "one sheet per data type, 1,048,575 rows a sheet"],
] as const;

/** Any set of formats; each data type gets one file in each. */
export function FormatFields({ value, errors }: { value?: string[]; errors: FieldErrors }) {
  const checked = value ?? ["ndjson"];
  return (
    <Fieldset legend="Formats" error={errorFor(errors, "format")} errorId="format-error">
      <input type="hidden" name="formatsShown" value="1" />
      {FORMATS.map(([format, label, hint]) => (
        <label key={format} className="choice">
          <input type="checkbox" name="format" value={format} defaultChecked={checked.includes(format)} /> {label}{" "}
          <span className="muted small">({hint})</span>
        </label>
      ))}
    </Fieldset>
  );
}
