import type { DeidentificationProfile } from "../../../db/schema";
import type { Permission } from "../../auth/permissions";

/**
 * How a column is rendered and de-identified. `participant`: a participant's
 * id, replaced by its pseudonym when pseudonymized. `participant_code`: the
 * participant's id known outside the export (external id), dropped when
 * pseudonymized since the pseudonym stands in for it. `row_id`: the row's own
 * database id, dropped when pseudonymized, since it would join the file back
 * to an identified export of the same rows. `time` and `date` values are
 * shifted by the participant's offset when pseudonymized. `json` values lose
 * every key that looks like a secret (SECRET_KEY_PATTERN).
 */
export type Kind = "id" | "row_id" | "participant" | "participant_code" | "number" | "boolean" | "text" | "time" | "date" | "json";

export interface DataTypeSpec {
  table: string;
  /** The column date ranges apply to. */
  time: string;
  columns: [name: string, kind: Kind][];
  /**
   * The identifying fields, dropped by every profile but `full`: column
   * names, or `column.key.key` for a key inside a jsonb column.
   */
  identifying?: string[];
  /** Study scope only: one row per member of the exported cohort, whatever the date range. */
  cohortRoster?: true;
  /** Settings rather than events: every row in scope, whatever the date range; `time` only orders them. */
  undated?: true;
  /** What the requester needs besides the export permissions. */
  permission?: Permission;
  /**
   * Rows placed by organization, some in no tenant: an organization export
   * takes the organization's rows and its members' sign-ins, as the audit
   * log's organization view shows them, not the rows of its tenants.
   */
  organizationEvents?: true;
}

/**
 * What leaves the database, per data type: an explicit allowlist. A column
 * is exported only once someone adds it here on purpose, and says here
 * whether it identifies a person.
 */
export const DATA_TYPE_SPECS = {
  hsi_records: {
    table: "hsi_record",
    time: "recorded_at",
    columns: [
      ["id", "row_id"], ["project_id", "id"], ["app_id", "id"], ["participant_id", "participant"], ["recorded_at", "time"],
      ["metric", "text"], ["value", "number"], ["unit", "text"], ["payload", "json"],
    ],
    identifying: ["payload.device.serial"],
  },
  lab_results: {
    table: "lab_result",
    time: "collected_at",
    columns: [
      ["id", "row_id"], ["project_id", "id"], ["app_id", "id"], ["participant_id", "participant"], ["collected_at", "time"],
      ["test_code", "text"], ["test_name", "text"], ["value", "number"], ["unit", "text"],
      ["reference_low", "number"], ["reference_high", "number"], ["payload", "json"],
    ],
    // A specimen's accession number finds the person in the lab's own records.
    identifying: ["payload.lab.accession"],
  },
  participants: {
    // Study exports add this file themselves.
    table: `(SELECT m.tenant_id, p.project_id, m.cohort_id, m.participant_id, m.participant_id AS id, p.external_id,
      c.name AS cohort, m.enrolled_at, p.name, p.email, p.date_of_birth, p.notes, p.device_serial
      FROM cohort_member m JOIN participant p ON p.id = m.participant_id JOIN cohort c ON c.id = m.cohort_id) AS participants`,
    time: "enrolled_at",
    cohortRoster: true,
    columns: [
      ["participant_id", "participant"], ["external_id", "participant_code"], ["cohort", "text"], ["enrolled_at", "time"],
      ["name", "text"], ["email", "text"], ["date_of_birth", "date"], ["notes", "text"], ["device_serial", "text"],
    ],
    identifying: ["name", "email", "date_of_birth", "notes", "device_serial"],
  },
  metrics: {
    table: "metric_point",
    time: "recorded_at",
    permission: "metrics.read",
    columns: [
      ["id", "id"], ["project_id", "id"], ["connection_id", "id"], ["metric_id", "text"], ["metric_name", "text"],
      ["value", "number"], ["unit", "text"], ["recorded_at", "time"], ["service", "text"], ["quality", "text"], ["metadata", "json"],
    ],
  },
  integration_connections: {
    // The credentials live in integration_credential, which no export reads.
    table: "integration_connection",
    time: "created_at",
    undated: true,
    permission: "data.read",
    columns: [
      ["id", "id"], ["project_id", "id"], ["service", "text"], ["type", "text"], ["status", "text"], ["last_sync_at", "time"],
      ["account_info", "json"], ["configuration", "json"], ["created_at", "time"],
    ],
  },
  dashboards: {
    table: "dashboard",
    time: "created_at",
    undated: true,
    permission: "dashboards.read",
    columns: [
      ["id", "id"], ["name", "text"], ["slug", "text"], ["type", "text"], ["is_default", "boolean"], ["description", "text"],
      ["created_by_user_id", "id"], ["created_at", "time"], ["updated_at", "time"],
    ],
  },
  dashboard_widgets: {
    // Dashboard exports add this file themselves.
    table: "dashboard_widget",
    time: "created_at",
    undated: true,
    permission: "dashboards.read",
    columns: [
      ["id", "id"], ["dashboard_id", "id"], ["type", "text"], ["title", "text"], ["x", "number"], ["y", "number"], ["w", "number"],
      ["h", "number"], ["visible", "boolean"], ["config", "json"], ["created_at", "time"],
    ],
  },
  audit_events: {
    // The trail as recorded; an export only reads it (the table refuses UPDATE, DELETE and TRUNCATE).
    table: `(SELECT id, created_at AS occurred_at, organization_id, tenant_id, actor_user_id, actor_api_key_id, actor_label,
      client_ip, user_agent, action, subject_type, subject_id, details, ingest_xid FROM audit_event) AS audit_events`,
    time: "occurred_at",
    permission: "audit.read",
    organizationEvents: true,
    columns: [
      ["id", "id"], ["occurred_at", "time"], ["organization_id", "id"], ["tenant_id", "id"], ["actor_user_id", "id"], ["actor_api_key_id", "id"],
      ["actor_label", "text"], ["client_ip", "text"], ["user_agent", "text"], ["action", "text"], ["subject_type", "text"], ["subject_id", "text"],
      ["details", "json"],
    ],
  },
} satisfies Record<string, DataTypeSpec>;

export type DataType = keyof typeof DATA_TYPE_SPECS;

/**
 * The data types a delta export holds changes of: rows whose ingest_xid its
 * base's snapshot did not see. The others (integration connections,
 * dashboards and their widgets, a study's participants) are few, are edited
 * and deleted in place, and are exported in full in a delta too; its manifest says so.
 */
export const DELTA_DATA_TYPES: readonly DataType[] = ["hsi_records", "lab_results", "metrics", "audit_events"];

/**
 * JSON keys that never leave, at any depth of any exported JSON column
 * (payloads, metadata, account info, configuration, widget config): a key
 * whose name contains one of these, case-insensitively, is removed with its
 * value. Credentials live in integration_credential, which no export reads;
 * this catches the ones that end up in JSON anyway (`token`, `accessToken`,
 * `client_secret`, `password`, `apiKey`, `api-key`, `privateKey`, …).
 */
export const SECRET_KEY_PATTERN =
  "token|secret|passw|passphrase|pwd|api[-_. ]?key|private[-_. ]?key|access[-_. ]?key|credential|authorization|cookie";

/**
 * The first literal word of each alternative of SECRET_KEY_PATTERN
 * (`api[-_. ]?key` → `api`): any text the pattern matches holds one of them,
 * in some ASCII case.
 */
const SECRET_KEY_WORDS = SECRET_KEY_PATTERN.split("|").map((alternative) => alternative.split(/\[[^\]]*\]\??/)[0]);
if (!SECRET_KEY_WORDS.every((word) => /^[a-z]+$/.test(word))) throw new Error("SECRET_KEY_PATTERN's alternatives must start with a lowercase word");

/**
 * The SQL of a JSON value without its secret-looking keys. The text tests are
 * cheap, sound filters (a matching key is in the value's text as written), so
 * only values that might hold one are rebuilt. The LIKE test comes first: on
 * ASCII-lowercased text it is about twice as fast as the case-insensitive
 * regular expression, and lets through every text holding one of its words
 * in any ASCII case (lower() folds ASCII letters only in the "C" collation, so
 * no locale turns an `I` into something else).
 */
export function withoutSecretKeys(value: string): string {
  const pattern = `'${SECRET_KEY_PATTERN}'`;
  const words = SECRET_KEY_WORDS.map((word) => `'%${word}%'`).join(", ");
  return `(CASE WHEN lower(${value}::text COLLATE "C") LIKE ANY (ARRAY[${words}]) AND ${value}::text ~* ${pattern}
    THEN exportal_jsonb_drop_keys(${value}, ${pattern}) ELSE ${value} END)`;
}

/** Whether a data type's rows belong to participants: pseudonyms and date shifts apply to it. */
export const participantLinked = (dataType: DataType) => (DATA_TYPE_SPECS[dataType] as DataTypeSpec).columns.some(([, kind]) => kind === "participant");

/** The fields a profile removes from these data types, as `data_type.field`. */
export function removedFields(dataTypes: DataType[], profile: DeidentificationProfile): string[] {
  if (profile === "full") return [];
  const dropped: Kind[] = profile === "deidentified" ? ["participant_code", "row_id"] : [];
  return dataTypes.flatMap((type) => {
    const spec: DataTypeSpec = DATA_TYPE_SPECS[type];
    const columns = spec.columns.filter(([, kind]) => dropped.includes(kind)).map(([name]) => name);
    return [...(spec.identifying ?? []), ...columns].map((field) => `${type}.${field}`);
  });
}
