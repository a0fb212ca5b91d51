import { Form, Link, useNavigation } from "@remix-run/react";
import { useState } from "react";
import { useModal } from "~/components/ModalDialog";
import { dataTypesFor, holdsParticipants } from "~/exports/export-request";
import { useTenantPermissions } from "~/components/tenant-permissions";
import { DataTypeFields, DateFields, FormatFields, ProfileFields, ScopeFields, type DialogProject, type LockedScope } from "~/exports/ExportDialogFields";
import type { DeidentificationProfile } from "~/studies/deidentification";

export type { DialogProject };

const DEFAULT_TYPES = ["hsi_records", "lab_results"];

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
  format?: string[];
  deidentification?: string;
}

export interface DialogResult {
  error?: string;
  fieldErrors?: Record<string, string>;
  exportId?: string;
  values?: SubmittedValues;
}

/**
 * The New export dialog: a native modal <dialog>, so focus stays inside and
 * Escape closes it. Errors from the server appear next to their fields, and
 * the fields keep what the user entered. Whenever the chosen data types hold
 * participants' rows, in any scope, it asks for a de-identification profile.
 */
export function NewExportDialog(props: {
  open: boolean;
  onClose: () => void;
  projects: DialogProject[];
  canExportOrganization: boolean;
  result?: DialogResult;
  exportsPath: string;
  /** A study cohort (or one participant of it) the export is locked to. */
  locked?: LockedScope;
  /** The de-identification profiles the user may choose; the others show disabled. */
  allowedProfiles?: DeidentificationProfile[];
}) {
  const { open, onClose, projects, canExportOrganization, result, exportsPath } = props;
  const ref = useModal(open);
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
  const [dataTypes, setDataTypes] = useState(values.dataTypes ?? DEFAULT_TYPES);
  const permissions = useTenantPermissions();

  // A refused submission reopens the form as it was sent.
  const [seenResult, setSeenResult] = useState(result);
  if (result !== seenResult) {
    setSeenResult(result);
    if (result?.values) {
      setScope(result.values.scope ?? "tenant");
      setProjectId(result.values.projectId ?? projects[0]?.id ?? "");
      setPreset(result.values.preset ?? "");
      setDataTypes(result.values.dataTypes ?? DEFAULT_TYPES);
    }
  }

  const scopeType = (locked ? "study" : scope) as Parameters<typeof dataTypesFor>[0];
  // The audit trail is offered to those who may read it; createExport refuses it to anyone else.
  const offered = dataTypesFor(scopeType).filter((type) => type !== "audit_events" || permissions.includes("audit.read"));
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
        <ScopeFields
          locked={locked}
          errors={errors}
          scope={scope}
          onScope={setScope}
          canExportOrganization={canExportOrganization}
          projects={projects}
          projectId={projectId}
          onProject={setProjectId}
          appIds={values.appIds}
        />
        <DataTypeFields offered={offered} checked={dataTypes} onChange={setDataTypes} errors={errors} />
        <DateFields preset={preset} onPreset={setPreset} from={values.from} to={values.to} errors={errors} />
        {holdsParticipants(scopeType, dataTypes.filter((t) => offered.includes(t as (typeof offered)[number]))) && (
          <ProfileFields allowed={props.allowedProfiles} value={values.deidentification} errors={errors} />
        )}
        <FormatFields value={values.format} errors={errors} />
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
  target: LockedScope | null;
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
