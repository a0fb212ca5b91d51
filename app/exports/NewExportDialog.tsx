import { Form, Link, useNavigation } from "@remix-run/react";
import { useEffect, useRef, useState, type ReactNode } from "react";
import { dataTypeLabel } from "~/exports/export-labels";
import { dataTypesFor } from "~/exports/export-request";
import { FieldError } from "~/components/FieldError";
import { DEFAULT_PROFILE, DEIDENTIFICATION_PROFILES, PROFILE_LABELS, PROFILE_PERMISSION, type DeidentificationProfile } from "~/studies/deidentification";

export interface DialogProject {
  id: string;
  name: string;
  apps: { id: string; name: string }[];
}

/** What the user sent, handed back by the action so a refused form keeps it. */
export interface SubmittedValues {
  scope?: string;
  studyId?: string;
  cohortId?: string;
  participantId?: string;
  scopeLabel?: string;
  projectId?: string;
  appIds?: string[];
  dataTypes?: string[];
  preset?: string;
  from?: string;
  to?: string;
  format?: string;
  deidentification?: string;
}

export interface DialogResult {
  error?: string;
  fieldErrors?: Record<string, string>;
  exportId?: string;
  values?: SubmittedValues;
}

const PRESETS = [
  ["", "Custom dates"],
  ["last_7_days", "Last 7 days"],
  ["last_30_days", "Last 30 days"],
  ["last_90_days", "Last 90 days"],
  ["last_year", "Last year"],
  ["all_time", "All time"],
] as const;

/** The first message among these error keys (a field's errors may sit under sub-paths like `dataTypes.1`). */
function errorFor(errors: Record<string, string>, ...keys: string[]): string | undefined {
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

/**
 * The New export dialog: a native modal <dialog>, so focus stays inside and
 * Escape closes it. Errors from the server appear next to their fields, and
 * the fields keep what the user entered.
 */
export function NewExportDialog(props: {
  open: boolean;
  onClose: () => void;
  projects: DialogProject[];
  canExportOrganization: boolean;
  result?: DialogResult;
  exportsPath: string;
  /** A study cohort (or one participant of it) the export is locked to. */
  locked?: { studyId: string; cohortId: string; participantId?: string; label: string };
  /** The de-identification profiles the user may choose for a study export; the others show disabled. */
  allowedProfiles?: DeidentificationProfile[];
}) {
  const { open, onClose, projects, canExportOrganization, result, exportsPath } = props;
  const ref = useRef<HTMLDialogElement>(null);
  const submitting = useNavigation().formMethod === "POST";
  const values = result?.values ?? {};
  // A refused study export comes back to the exports page: keep it locked to its cohort.
  const locked =
    props.locked ??
    (values.scope === "study" && values.studyId && values.cohortId
      ? { studyId: values.studyId, cohortId: values.cohortId, participantId: values.participantId, label: values.scopeLabel ?? "Study cohort" }
      : undefined);
  const errors = result?.fieldErrors ?? {};
  const [scope, setScope] = useState(values.scope ?? "tenant");
  const [projectId, setProjectId] = useState(values.projectId ?? projects[0]?.id ?? "");
  const [preset, setPreset] = useState(values.preset ?? "");

  useEffect(() => {
    const dialog = ref.current;
    if (open && dialog && !dialog.open) dialog.showModal();
    if (!open && dialog?.open) dialog.close();
  }, [open]);
  // A refused submission reopens the form as it was sent.
  const [seenResult, setSeenResult] = useState(result);
  if (result !== seenResult) {
    setSeenResult(result);
    if (result?.values) {
      setScope(result.values.scope ?? "tenant");
      setProjectId(result.values.projectId ?? projects[0]?.id ?? "");
      setPreset(result.values.preset ?? "");
    }
  }

  const project = projects.find((p) => p.id === projectId);
  const checkedTypes = values.dataTypes ?? ["hsi_records", "lab_results"];
  const key = JSON.stringify(values); // remount inputs with the values of each refused submission
  const general = result?.error && Object.keys(errors).length === 0 ? result.error : undefined;

  return (
    <dialog ref={ref} className="dialog" aria-labelledby="new-export-title" onClose={onClose}>
      <Form method="post" action={exportsPath} key={key} className="dialog-form">
        <header className="dialog-header">
          <h2 id="new-export-title">New export</h2>
          <button type="button" className="icon-button" aria-label="Close" onClick={onClose}>
            ×
          </button>
        </header>
        <p className="muted">
          Export HSI and Lab data{locked ? ", with a file of the participants exported," : ""} as a downloadable archive. Large exports run in the background. Track progress and download from
          the Exports page.
        </p>
        {general && (
          <p className="form-error" role="alert">
            {general}
            {result?.exportId && (
              <>
                {" "}
                <Link to={`${exportsPath}/${result.exportId}`}>View that export</Link>
              </>
            )}
          </p>
        )}
        <input type="hidden" name="intent" value="create" />

        {locked ? (
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
        ) : (
          <Fieldset legend="Scope" error={errorFor(errors, "scope.type")} errorId="scope-error">
            {[
              ["tenant", "Current tenant"],
              ["project", "A project"],
              ["app", "An app"],
              ...(canExportOrganization ? [["organization", "Entire organization"]] : []),
            ].map(([value, label]) => (
              <label key={value} className="choice">
                <input type="radio" name="scope" value={value} checked={scope === value} onChange={() => setScope(value)} /> {label}
              </label>
            ))}
          </Fieldset>
        )}

        {!locked && (scope === "project" || scope === "app") && (
          <div className="field">
            <label htmlFor="export-project">Project</label>
            <select
              id="export-project"
              name="projectId"
              value={projectId}
              onChange={(e) => setProjectId(e.target.value)}
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

        {!locked && scope === "app" && (
          <Fieldset legend="Apps" error={errorFor(errors, "scope.appIds")} errorId="apps-error">
            {(project?.apps ?? []).map((a) => (
              <label key={a.id} className="choice">
                <input type="checkbox" name="appIds" value={a.id} defaultChecked={values.appIds?.includes(a.id)} /> {a.name}
              </label>
            ))}
          </Fieldset>
        )}

        <Fieldset legend="Data types" error={errorFor(errors, "dataTypes")} errorId="types-error">
          <input type="hidden" name="dataTypesShown" value="1" />
          {dataTypesFor(locked ? "study" : (scope as Parameters<typeof dataTypesFor>[0])).map((value) => (
            <label key={value} className="choice">
              <input type="checkbox" name="dataTypes" value={value} defaultChecked={checkedTypes.includes(value)} /> {dataTypeLabel(value)}
            </label>
          ))}
        </Fieldset>

        <div className="field">
          <label htmlFor="export-preset">Dates (optional)</label>
          <select id="export-preset" name="preset" value={preset} onChange={(e) => setPreset(e.target.value)}>
            {PRESETS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
          {preset === "" && (
            <div className="date-row">
              <div>
                <label htmlFor="export-from">From</label>
                <input id="export-from" type="date" name="from" defaultValue={values.from} aria-invalid={!!errors["dateRange.from"]}
                  aria-describedby={errors["dateRange.from"] ? "from-error" : undefined} />
                <FieldError id="from-error" message={errors["dateRange.from"]} />
              </div>
              <div>
                <label htmlFor="export-to">To</label>
                <input id="export-to" type="date" name="to" defaultValue={values.to} aria-invalid={!!errors["dateRange.to"]}
                  aria-describedby={errors["dateRange.to"] ? "to-error" : undefined} />
                <FieldError id="to-error" message={errors["dateRange.to"]} />
              </div>
            </div>
          )}
          <p className="muted small">From is included, To is not. Dates are in UTC.</p>
        </div>

        {locked && (
          <Fieldset legend="De-identification" error={errorFor(errors, "deidentification")} errorId="deidentification-error">
            {DEIDENTIFICATION_PROFILES.map((profile) => {
              // A refused profile the user may not use comes back unselected: a disabled radio would not be sent again.
              const allowed = props.allowedProfiles?.includes(profile) ?? false;
              const { label, hint } = PROFILE_LABELS[profile];
              return (
                <label key={profile} className="choice">
                  <input
                    type="radio"
                    name="deidentification"
                    value={profile}
                    disabled={!allowed}
                    defaultChecked={(props.allowedProfiles?.includes(values.deidentification as DeidentificationProfile) ? values.deidentification : DEFAULT_PROFILE) === profile}
                  />{" "}
                  {label} <span className="muted small">({allowed ? hint : `needs the permission ${PROFILE_PERMISSION[profile]}`})</span>
                </label>
              );
            })}
          </Fieldset>
        )}

        <Fieldset legend="Format" error={errorFor(errors, "format")} errorId="format-error">
          {[
            ["ndjson", "NDJSON", "recommended, lossless"],
            ["csv", "CSV", "flattened, analyst-friendly"],
            ["both", "Both", "NDJSON and CSV"],
          ].map(([value, label, hint]) => (
            <label key={value} className="choice">
              <input type="radio" name="format" value={value} defaultChecked={(values.format ?? "ndjson") === value} /> {label}{" "}
              <span className="muted small">({hint})</span>
            </label>
          ))}
        </Fieldset>

        <footer className="dialog-footer">
          <button type="button" className="button secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button primary" disabled={submitting}>
            {submitting ? "Starting…" : "Start export"}
          </button>
        </footer>
      </Form>
    </dialog>
  );
}

/** The dialog locked to one study cohort or participant, as the study pages open it; nothing while `target` is null. */
export function StudyExportDialog({ target, onClose, projects, exportsPath, allowedProfiles }: {
  target: { studyId: string; cohortId: string; participantId?: string; label: string } | null;
  onClose: () => void;
  projects: DialogProject[];
  exportsPath: string;
  allowedProfiles: DeidentificationProfile[];
}) {
  if (!target) return null;
  return (
    <NewExportDialog open onClose={onClose} projects={projects} canExportOrganization={false} exportsPath={exportsPath} locked={target} allowedProfiles={allowedProfiles} />
  );
}
