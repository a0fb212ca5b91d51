import type { DeidentificationProfile, ExportFilters, ExportScope } from "../../../db/schema";
import type { Permission } from "../../auth/permissions";
import { DATA_TYPE_SCOPES } from "../export-request";
import { isUuid } from "../../lib/ids";

/**
 * How a column is rendered and de-identified. `participant`: a participant's
 * id, replaced by its pseudonym when pseudonymized. `participant_code`: the
 * participant's id known outside the export (external id), dropped when
 * pseudonymized since the pseudonym stands in for it. `time` and `date`
 * values are shifted by the participant's offset when pseudonymized.
 */
type Kind = "id" | "participant" | "participant_code" | "number" | "boolean" | "text" | "time" | "date" | "json";

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
      ["id", "id"], ["project_id", "id"], ["app_id", "id"], ["participant_id", "participant"], ["recorded_at", "time"],
      ["metric", "text"], ["value", "number"], ["unit", "text"], ["payload", "json"],
    ],
    identifying: ["payload.device.serial"],
  },
  lab_results: {
    table: "lab_result",
    time: "collected_at",
    columns: [
      ["id", "id"], ["project_id", "id"], ["app_id", "id"], ["participant_id", "participant"], ["collected_at", "time"],
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
} satisfies Record<string, DataTypeSpec>;

export type DataType = keyof typeof DATA_TYPE_SPECS;

const TEXT_ID = /^[A-Za-z0-9_-]{1,64}$/;

// COPY takes no bind parameters, so every value in its SQL is checked here
// and written as a literal only after it passed.
function uuid(value: string): string {
  if (!isUuid(value)) throw new Error(`not a uuid: ${value}`);
  return `'${value}'`;
}
function textId(value: string): string {
  if (!TEXT_ID.test(value)) throw new Error(`not an id: ${value}`);
  return `'${value}'`;
}
function timestamp(value: string): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new Error(`not a timestamp: ${value}`);
  return `'${date.toISOString()}'::timestamptz`;
}

export interface ExportTarget {
  tenantId: string;
  organizationId: string;
  scope: ExportScope;
  filters: ExportFilters;
  /** Study exports: how identifiers are handled; none means full data. */
  deidentification?: DeidentificationProfile | null;
}

/**
 * The session setting that holds the pseudonym key (hex) while an export
 * runs: set with a bind parameter in the export's transaction, so the secret
 * is never part of any SQL text, log line or error.
 */
export const PSEUDONYM_KEY_SETTING = "exportal.pseudonym_key";

/** The WHERE clause selecting a data type's rows for an export's scope and date range. */
export function whereClause(dataType: DataType, target: ExportTarget): string {
  const spec: DataTypeSpec = DATA_TYPE_SPECS[dataType];
  const { scope, filters } = target;
  if (spec.cohortRoster && scope.type !== "study") throw new Error(`${dataType} are exported with study scopes only`);
  const parts =
    scope.type === "organization"
      ? [`tenant_id IN (SELECT id FROM tenant WHERE organization_id = ${textId(target.organizationId)})`]
      : [`tenant_id = ${uuid(target.tenantId)}`];
  if (scope.type === "project") parts.push(`project_id = ${uuid(scope.projectId)}`);
  if (scope.type === "app") parts.push(`app_id IN (${scope.appIds.map(uuid).join(", ")})`);
  if (scope.type === "study") {
    parts.push(`project_id = (SELECT project_id FROM study WHERE id = ${uuid(scope.studyId)})`);
    if (spec.cohortRoster) parts.push(`cohort_id = ${uuid(scope.cohortId)}`);
    parts.push(
      scope.participantId
        ? `participant_id = ${uuid(scope.participantId)}`
        : `participant_id IN (SELECT participant_id FROM cohort_member WHERE cohort_id = ${uuid(scope.cohortId)})`,
    );
  }
  if (!(DATA_TYPE_SCOPES[dataType]?.includes(scope.type) ?? true)) throw new Error(`${dataType} are not exported with ${scope.type} scopes`);
  const dated = !spec.cohortRoster && !spec.undated;
  if (dated && filters.from) parts.push(`${spec.time} >= ${timestamp(filters.from)}`);
  if (dated && filters.to) parts.push(`${spec.time} < ${timestamp(filters.to)}`);
  return parts.join(" AND ");
}

const pseudonymized = (target: ExportTarget) => target.scope.type === "study" && target.deidentification === "deidentified";
const identifiersRemoved = (target: ExportTarget) => target.scope.type === "study" && (target.deidentification ?? "full") !== "full";

/**
 * Each cohort member's pseudonym and date offset, keyed HMAC-SHA256 of the
 * study and the participant: stable across exports of one study, different
 * in another. The offset (0–364 days) is the first four bytes of a second
 * HMAC modulo 365.
 */
function pseudonymTable(scope: Extract<ExportScope, { type: "study" }>): string {
  const key = `decode(current_setting('${PSEUDONYM_KEY_SETTING}'), 'hex')`;
  const mac = (purpose: string) =>
    `hmac(convert_to('${purpose}:' || ${uuid(scope.studyId)} || ':' || participant_id::text, 'UTF8'), ${key}, 'sha256')`;
  return `(SELECT pid, 'p_' || left(encode(p, 'hex'), 24) AS pseudonym,
      ((get_byte(o, 0)::bigint * 16777216 + get_byte(o, 1) * 65536 + get_byte(o, 2) * 256 + get_byte(o, 3)) % 365)::int AS offset_days
    FROM (SELECT participant_id AS pid, ${mac("pseudonym")} AS p, ${mac("date-offset")} AS o
      FROM cohort_member WHERE cohort_id = ${uuid(scope.cohortId)}) AS macs) AS deid`;
}

function fromClause(dataType: DataType, target: ExportTarget): string {
  const table = DATA_TYPE_SPECS[dataType].table;
  if (!pseudonymized(target) || target.scope.type !== "study") return table;
  return `${table} JOIN ${pseudonymTable(target.scope)} ON deid.pid = participant_id`;
}

/** `payload.device.serial` → `{device,serial}`, for jsonb's `#-`. */
function jsonPath(path: string[]): string {
  if (!path.every((key) => TEXT_ID.test(key))) throw new Error(`not a json path: ${path.join(".")}`);
  return `'{${path.join(",")}}'`;
}

interface OutputColumn {
  name: string;
  kind: Kind;
  /** The SQL expression of the value as the profile lets it out. */
  value: string;
}

/** The columns an export's profile lets out, each with the expression of its value. */
function outputColumns(dataType: DataType, target: ExportTarget): OutputColumn[] {
  const spec: DataTypeSpec = DATA_TYPE_SPECS[dataType];
  const removing = identifiersRemoved(target);
  const pseudonyms = pseudonymized(target);
  const identifying = spec.identifying ?? [];
  const columns: OutputColumn[] = [];
  for (const [name, kind] of spec.columns) {
    if (removing && identifying.includes(name)) continue;
    if (pseudonyms && kind === "participant_code") continue;
    let value = name;
    if (removing) {
      for (const field of identifying.filter((f) => f.startsWith(`${name}.`))) value = `(${value} #- ${jsonPath(field.split(".").slice(1))})`;
    }
    if (pseudonyms && kind === "participant") value = "deid.pseudonym";
    // Whole days of 24 hours, so every interval between a participant's times is kept exactly.
    if (pseudonyms && kind === "time") value = `(${name} - deid.offset_days * interval '24 hours')`;
    if (pseudonyms && kind === "date") value = `(${name} - deid.offset_days)`;
    columns.push({ name, kind, value });
  }
  return columns;
}

function csvExpression({ value, kind }: OutputColumn): string {
  switch (kind) {
    case "text":
    case "participant_code":
      return `exportal_csv_safe(${value})`;
    case "json":
      return `exportal_csv_safe(${value}::text)`;
    case "boolean":
      return `${value}::text`;
    case "time":
      return `to_char(${value} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
    case "date":
      return `to_char(${value}, 'YYYY-MM-DD')`;
    default:
      return value;
  }
}

/**
 * The COPY statement that renders one file. PostgreSQL renders both formats:
 * CSV directly, NDJSON as one JSON object per row, copied in CSV mode with
 * quote and delimiter bytes that JSON text never holds, so it is not re-escaped.
 * Pseudonymized files are ordered by their shifted times, which reveal nothing.
 */
export function copyStatement(dataType: DataType, format: "ndjson" | "csv", target: ExportTarget): string {
  const spec = DATA_TYPE_SPECS[dataType];
  const columns = outputColumns(dataType, target);
  const from = `${fromClause(dataType, target)} WHERE ${whereClause(dataType, target)}`;
  const time = columns.find((c) => c.name === spec.time)!.value;
  const order = `ORDER BY ${time}, id`;
  if (format === "csv") {
    const select = columns.map((c) => `${csvExpression(c)} AS "${c.name}"`).join(", ");
    return `COPY (SELECT ${select} FROM ${from} ${order}) TO STDOUT WITH (FORMAT csv, HEADER)`;
  }
  const object = columns.map((c) => `'${c.name}', ${c.value}`).join(", ");
  return `COPY (SELECT json_build_object(${object})::text FROM ${from} ${order})
    TO STDOUT WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')`;
}

/** Counts the rows an export of this data type holds (run in the export's snapshot). */
export function countStatement(dataType: DataType, target: ExportTarget): string {
  return `SELECT count(*)::bigint AS n FROM ${fromClause(dataType, target)} WHERE ${whereClause(dataType, target)}`;
}

/** The fields a profile removes from these data types, as `data_type.field`. */
export function removedFields(dataTypes: DataType[], profile: DeidentificationProfile): string[] {
  if (profile === "full") return [];
  return dataTypes.flatMap((type) => {
    const spec: DataTypeSpec = DATA_TYPE_SPECS[type];
    const codes = profile === "deidentified" ? spec.columns.filter(([, kind]) => kind === "participant_code").map(([name]) => name) : [];
    return [...(spec.identifying ?? []), ...codes].map((field) => `${type}.${field}`);
  });
}
