import { z } from "zod";
import { DEIDENTIFICATION_PROFILES } from "../studies/deidentification";
import { FILE_FORMATS, formatsOf } from "./formats";

export const DATA_TYPE_NAMES = ["hsi_records", "lab_results", "metrics", "integration_connections", "dashboards", "audit_events"] as const;
type ScopeType = "tenant" | "organization" | "project" | "app" | "study";
const TENANT_WIDE: ScopeType[] = ["tenant", "organization"];
const PROJECT_WIDE: ScopeType[] = [...TENANT_WIDE, "project"];

/**
 * The scopes each data type can be exported with; absent means all. Metrics
 * and integration connections belong to projects (not apps or participants),
 * dashboards to the whole tenant, audit events to the tenant or the organization.
 */
export const DATA_TYPE_SCOPES: Record<string, ScopeType[] | undefined> = {
  metrics: PROJECT_WIDE,
  integration_connections: PROJECT_WIDE,
  dashboards: TENANT_WIDE,
  dashboard_widgets: TENANT_WIDE,
  audit_events: TENANT_WIDE,
};

/**
 * The data types whose rows belong to participants. An export holding any of
 * them (and every study export, which adds its participants) is made with a
 * de-identification profile; other exports have none.
 */
export const PARTICIPANT_DATA_TYPES = ["hsi_records", "lab_results"] as const satisfies readonly (typeof DATA_TYPE_NAMES)[number][];

export const holdsParticipants = (scope: ScopeType, dataTypes: readonly string[]) =>
  scope === "study" || dataTypes.some((type) => (PARTICIPANT_DATA_TYPES as readonly string[]).includes(type));

/** The data types one may ask for with a scope. */
export const dataTypesFor = (scope: ScopeType) => DATA_TYPE_NAMES.filter((type) => DATA_TYPE_SCOPES[type]?.includes(scope) ?? true);

/** A value a client sent, for an error message: strings quoted, anything else as JSON (never its own toString). */
function describeInput(value: unknown): string {
  return typeof value === "string" ? `"${value}"` : (JSON.stringify(value) ?? typeof value);
}

export const DATE_PRESETS = ["last_7_days", "last_30_days", "last_90_days", "last_year", "all_time"] as const;
const FORMAT_ERROR = `Choose formats: any of ${FILE_FORMATS.join(", ")} (or both, for ndjson and csv).`;

const id = (what: string) => z.string({ error: `Choose ${what}.` }).min(1, `Choose ${what}.`);
export const dateOrTime = z
  .string()
  .refine((s) => /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(s) && !Number.isNaN(new Date(s).getTime()), {
    error: "Enter a date as YYYY-MM-DD or an ISO 8601 date and time.",
  });

/**
 * An export request, as the portal's form and the API send it. Field paths
 * in validation errors (`scope.projectId`, `dateRange.to`, `dataTypes`, …)
 * name the field at fault.
 */
export const exportRequestSchema = z.object({
  scope: z
    .discriminatedUnion(
      "type",
      [
        z.object({ type: z.literal("tenant") }),
        z.object({ type: z.literal("project"), projectId: id("a project") }),
        z.object({
          type: z.literal("app"),
          projectId: id("a project"),
          appIds: z.array(z.string(), { error: "Choose at least one app." }).min(1, "Choose at least one app."),
        }),
        z.object({ type: z.literal("organization") }),
        z.object({
          type: z.literal("study"),
          studyId: id("a study"),
          cohortId: id("a cohort"),
          participantId: z.string().optional(),
        }),
      ],
      { error: "Choose a scope: tenant, project, app, organization or study." },
    )
    .default({ type: "tenant" }),
  dateRange: z
    .object({
      preset: z.enum(DATE_PRESETS, { error: `Choose a preset: ${DATE_PRESETS.join(", ")}.` }).optional(),
      from: dateOrTime.optional(),
      to: dateOrTime.optional(),
    })
    .default({}),
  dataTypes: z
    .array(z.enum(DATA_TYPE_NAMES, { error: (issue) => `Unknown data type ${describeInput(issue.input)}. Choose from ${DATA_TYPE_NAMES.join(", ")}.` }), {
      error: "Choose at least one data type.",
    })
    .min(1, "Choose at least one data type.")
    .default(["hsi_records", "lab_results"])
    .describe(
      "`metrics` and `integration_connections` need a tenant, organization or project scope; `dashboards` and `audit_events` a tenant or organization scope. " +
        "`audit_events` (the audit trail; needs `audit.read`) holds the tenant's events, or with an organization scope every event of the organization and its members' sign-ins.",
    ),
  format: z
    .union(
      [
        z.enum([...FILE_FORMATS, "both"]),
        z.array(z.enum(FILE_FORMATS, { error: FORMAT_ERROR }), { error: FORMAT_ERROR }).min(1, "Choose at least one format."),
      ],
      { error: FORMAT_ERROR },
    )
    .default("ndjson")
    .transform(formatsOf)
    .describe(
      "The files each data type gets: one format (`ndjson`, `csv`, `parquet`, `xlsx`), a list of them (`[\"ndjson\", \"parquet\"]`), " +
        "or `both` (NDJSON and CSV). Parquet files have typed columns (zstd); Excel workbooks hold 1,048,575 rows a sheet and continue on `name (2)`.",
    ),
  deidentification: z
    .enum(DEIDENTIFICATION_PROFILES, { error: `Choose a de-identification profile: ${DEIDENTIFICATION_PROFILES.join(", ")}.` })
    .optional()
    .describe(
      "How participants' rows (HSI records, lab results, a study's participants) leave, in every scope: `deidentified` (the default) " +
        "drops identifying fields and record ids, replaces participant ids by keyed pseudonyms and shifts each participant's dates; " +
        "`identifiers_removed` drops identifying fields; `full` (needs `studies.export.full`) keeps everything. Not allowed for exports without such rows.",
    ),
  since: z
    .object({ exportId: id("the export this one holds the changes since") })
    .optional()
    .describe(
      "A delta export: only the changes since an earlier export (the base), which must be a finished export of this tenant (done, or expired: only its snapshot is needed) with the same " +
        "scope, data types and de-identification profile (a delta can be the base of the next one). `hsi_records`, `lab_results`, " +
        "`metrics` and `audit_events` then hold the rows written or corrected after the base's snapshot up to this export's, so a " +
        "full export and its chain of deltas hold every row exactly once; a corrected row appears again with its current values " +
        "(replace by id); deleted rows are not carried. Other data types are exported in full. The manifest's `delta` says which and the range.",
    ),
});

export type ExportRequest = z.input<typeof exportRequestSchema>;
export type ValidExportRequest = z.output<typeof exportRequestSchema>;

/** The portal form's fields as an export request; absent fields take the defaults. */
export function exportRequestFromForm(form: FormData): ExportRequest {
  const text = (name: string) => {
    const value = form.get(name);
    return typeof value === "string" && value !== "" ? value : undefined;
  };
  const list = (name: string) => form.getAll(name).filter((v): v is string => typeof v === "string" && v !== "");
  const scopeType = text("scope") ?? "tenant";
  const request: Record<string, unknown> = {
    scope: {
      type: scopeType,
      projectId: text("projectId"),
      appIds: scopeType === "app" ? list("appIds") : undefined,
      studyId: text("studyId"),
      cohortId: text("cohortId"),
      participantId: text("participantId"),
    },
    dateRange: { preset: text("preset"), from: text("from"), to: text("to") },
    deidentification: text("deidentification"),
  };
  // Formats are checkboxes, marked as shown like the data types; an older form sends one value.
  if (form.has("formatsShown")) request.format = list("format");
  else if (text("format")) request.format = text("format");
  // The dialog marks its checkboxes as shown, so none checked is an error, not "use the default".
  if (form.has("dataTypes") || form.has("dataTypesShown")) request.dataTypes = list("dataTypes");
  return request as ExportRequest;
}
