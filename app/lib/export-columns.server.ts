import type { ExportFilters, ExportScope } from "../../db/schema";
import { isUuid } from "./ids";

type Kind = "id" | "number" | "text" | "time" | "json";

interface DataTypeSpec {
  table: string;
  /** The column date ranges apply to. */
  time: string;
  columns: [name: string, kind: Kind][];
}

/**
 * What leaves the database, per data type: an explicit allowlist. A column
 * is exported only once someone adds it here on purpose.
 */
export const DATA_TYPE_SPECS = {
  hsi_records: {
    table: "hsi_record",
    time: "recorded_at",
    columns: [
      ["id", "id"], ["project_id", "id"], ["app_id", "id"], ["participant_id", "id"], ["recorded_at", "time"],
      ["metric", "text"], ["value", "number"], ["unit", "text"], ["payload", "json"],
    ],
  },
  lab_results: {
    table: "lab_result",
    time: "collected_at",
    columns: [
      ["id", "id"], ["project_id", "id"], ["app_id", "id"], ["participant_id", "id"], ["collected_at", "time"],
      ["test_code", "text"], ["test_name", "text"], ["value", "number"], ["unit", "text"],
      ["reference_low", "number"], ["reference_high", "number"], ["payload", "json"],
    ],
  },
} satisfies Record<string, DataTypeSpec>;

export type DataType = keyof typeof DATA_TYPE_SPECS;
export const DATA_TYPES = Object.keys(DATA_TYPE_SPECS) as DataType[];

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
}

/** The WHERE clause selecting a data type's rows for an export's scope and date range. */
export function whereClause(dataType: DataType, target: ExportTarget): string {
  const spec = DATA_TYPE_SPECS[dataType];
  const { scope, filters } = target;
  const parts =
    scope.type === "organization"
      ? [`tenant_id IN (SELECT id FROM tenant WHERE organization_id = ${textId(target.organizationId)})`]
      : [`tenant_id = ${uuid(target.tenantId)}`];
  if (scope.type === "project") parts.push(`project_id = ${uuid(scope.projectId)}`);
  if (scope.type === "app") parts.push(`app_id IN (${scope.appIds.map(uuid).join(", ")})`);
  if (scope.type === "study") {
    parts.push(`project_id = (SELECT project_id FROM study WHERE id = ${uuid(scope.studyId)})`);
    parts.push(
      scope.participantId
        ? `participant_id = ${uuid(scope.participantId)}`
        : `participant_id IN (SELECT participant_id FROM cohort_member WHERE cohort_id = ${uuid(scope.cohortId)})`,
    );
  }
  if (filters.from) parts.push(`${spec.time} >= ${timestamp(filters.from)}`);
  if (filters.to) parts.push(`${spec.time} < ${timestamp(filters.to)}`);
  return parts.join(" AND ");
}

function csvExpression(name: string, kind: Kind): string {
  switch (kind) {
    case "text":
      return `exportal_csv_safe(${name})`;
    case "json":
      return `exportal_csv_safe(${name}::text)`;
    case "time":
      return `to_char(${name} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
    default:
      return name;
  }
}

/**
 * The COPY statement that renders one file. PostgreSQL renders both formats:
 * CSV directly, NDJSON as one JSON object per row, copied in CSV mode with
 * quote and delimiter bytes that JSON text never holds, so it is not re-escaped.
 */
export function copyStatement(dataType: DataType, format: "ndjson" | "csv", target: ExportTarget): string {
  const spec = DATA_TYPE_SPECS[dataType];
  const where = whereClause(dataType, target);
  const order = `ORDER BY ${spec.time}, id`;
  if (format === "csv") {
    const select = spec.columns.map(([name, kind]) => `${csvExpression(name, kind)} AS "${name}"`).join(", ");
    return `COPY (SELECT ${select} FROM ${spec.table} WHERE ${where} ${order}) TO STDOUT WITH (FORMAT csv, HEADER)`;
  }
  const object = spec.columns.map(([name]) => `'${name}', ${name}`).join(", ");
  return `COPY (SELECT json_build_object(${object})::text FROM ${spec.table} WHERE ${where} ${order})
    TO STDOUT WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')`;
}

/** Counts the rows an export of this data type holds (run in the export's snapshot). */
export function countStatement(dataType: DataType, target: ExportTarget): string {
  return `SELECT count(*)::bigint AS n FROM ${DATA_TYPE_SPECS[dataType].table} WHERE ${whereClause(dataType, target)}`;
}
