import type { DeidentificationProfile, ExportFilters, ExportScope } from "../../../db/schema";
import { DATA_TYPE_SCOPES } from "../export-request";
import { isUuid } from "../../lib/ids";
import { DATA_TYPE_SPECS, DELTA_DATA_TYPES, participantLinked, withoutSecretKeys, type DataType, type DataTypeSpec, type Kind } from "./columns.server";

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
const SNAPSHOT = /^(\d{1,20}):(\d{1,20}):(\d{1,20}(,\d{1,20})*)?$/;

/**
 * The rows of a delta: written (or last updated) by a transaction the base's
 * snapshot did not see. Below its xmin every transaction had ended, so the
 * range bound is exact, and lets the partial (tenant_id, ingest_xid) indexes
 * find the rows; NULL (rows older than delta exports) is in every base.
 */
export function deltaCondition(baseSnapshot: string, column = "ingest_xid"): string {
  const match = SNAPSHOT.exec(baseSnapshot);
  if (!match) throw new Error(`not a snapshot: ${baseSnapshot}`);
  return `${column} >= '${match[1]}'::xid8 AND NOT pg_visible_in_snapshot(${column}, '${baseSnapshot}'::pg_snapshot)`;
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
  /** How participants' rows are handled; none (exports without them) means as recorded. */
  deidentification?: DeidentificationProfile | null;
  /** A delta: its base's snapshot (pg_snapshot text); the delta data types hold only rows that snapshot did not see. */
  sinceSnapshot?: string | null;
}

/**
 * The session setting that holds the pseudonym key (hex) while an export
 * runs: set with a bind parameter in the export's transaction, so the secret
 * is never part of any SQL text, log line or error.
 */
export const PSEUDONYM_KEY_SETTING = "exportal.pseudonym_key";

/** The tenants an export reads: its own, or every tenant of its organization. */
function tenantFilter(target: ExportTarget): string {
  return target.scope.type === "organization"
    ? `tenant_id IN (SELECT id FROM tenant WHERE organization_id = ${textId(target.organizationId)})`
    : `tenant_id = ${uuid(target.tenantId)}`;
}

/**
 * The events of an organization: those placed in it (any tenant or none),
 * and the sign-ins (placed nowhere) its members made or that were tried on
 * their email. The audit log's organization view (app/audit/audit-log.server.ts) reads the same.
 */
function organizationEventsFilter(target: ExportTarget): string {
  const org = textId(target.organizationId);
  return `(organization_id = ${org} OR (organization_id IS NULL AND action LIKE 'auth.%' AND (
    actor_user_id IN (SELECT "userId" FROM member WHERE "organizationId" = ${org})
    OR (subject_type = 'account' AND lower(subject_id) IN (SELECT lower(u.email) FROM member m JOIN "user" u ON u.id = m."userId" WHERE m."organizationId" = ${org})))))`;
}

/** The WHERE clause selecting a data type's rows for an export's scope and date range. */
export function whereClause(dataType: DataType, target: ExportTarget): string {
  const spec: DataTypeSpec = DATA_TYPE_SPECS[dataType];
  const { scope, filters } = target;
  if (spec.cohortRoster && scope.type !== "study") throw new Error(`${dataType} are exported with study scopes only`);
  const parts = [spec.organizationEvents && scope.type === "organization" ? organizationEventsFilter(target) : tenantFilter(target)];
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
  if (target.sinceSnapshot && DELTA_DATA_TYPES.includes(dataType)) parts.push(deltaCondition(target.sinceSnapshot));
  return parts.join(" AND ");
}

// The profile applies in every scope; pseudonyms and date shifts only to participants' rows.
const pseudonymized = (dataType: DataType, target: ExportTarget) => target.deidentification === "deidentified" && participantLinked(dataType);
const identifiersRemoved = (target: ExportTarget) => (target.deidentification ?? "full") !== "full";

/**
 * Each participant's pseudonym and date offset, keyed HMAC-SHA256: per study
 * in a study scope (the cohort's members, over the study and participant
 * ids), per project elsewhere (the scope's participants, over their project
 * and participant ids). Stable across exports of one study or project,
 * different in another. The offset (1–365 days, never none) is the first four
 * bytes of a second HMAC modulo 365, with 0 taken as 365.
 */
function pseudonymTable(target: ExportTarget): string {
  const { scope } = target;
  const members =
    scope.type === "study"
      ? `SELECT participant_id AS pid, ${uuid(scope.studyId)} AS keyed_by FROM cohort_member WHERE cohort_id = ${uuid(scope.cohortId)}`
      : `SELECT id AS pid, 'project:' || project_id::text AS keyed_by FROM participant WHERE ${tenantFilter(target)}`;
  const key = `decode(current_setting('${PSEUDONYM_KEY_SETTING}'), 'hex')`;
  const mac = (purpose: string) => `hmac(convert_to('${purpose}:' || keyed_by || ':' || pid::text, 'UTF8'), ${key}, 'sha256')`;
  const days = `(get_byte(o, 0)::bigint * 16777216 + get_byte(o, 1) * 65536 + get_byte(o, 2) * 256 + get_byte(o, 3)) % 365`;
  return `(SELECT pid, 'p_' || left(encode(p, 'hex'), 24) AS pseudonym, coalesce(nullif(${days}, 0), 365)::int AS offset_days
    FROM (SELECT pid, ${mac("pseudonym")} AS p, ${mac("date-offset")} AS o FROM (${members}) AS members) AS macs) AS deid`;
}

function fromClause(dataType: DataType, target: ExportTarget): string {
  const table = DATA_TYPE_SPECS[dataType].table;
  if (!pseudonymized(dataType, target)) return table;
  return `${table} JOIN ${pseudonymTable(target)} ON deid.pid = participant_id`;
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
  const pseudonyms = pseudonymized(dataType, target);
  const identifying = spec.identifying ?? [];
  const columns: OutputColumn[] = [];
  for (const [name, kind] of spec.columns) {
    if (removing && identifying.includes(name)) continue;
    if (pseudonyms && (kind === "participant_code" || kind === "row_id")) continue;
    let value = kind === "json" ? withoutSecretKeys(name) : name;
    if (removing) {
      const paths = identifying.filter((f) => f.startsWith(`${name}.`)).map((f) => jsonPath(f.split(".").slice(1)));
      // `#-` fails on a number or string and takes keys for indexes in an array; only an object has the field.
      const removed = paths.reduce((v, path) => `(${v} #- ${path})`, value);
      if (paths.length) value = `(CASE WHEN jsonb_typeof(${name}) = 'object' THEN ${removed} ELSE ${value} END)`;
    }
    if (pseudonyms && kind === "participant") value = "deid.pseudonym";
    // Whole days of 24 hours, so every interval between a participant's times is kept exactly.
    if (pseudonyms && kind === "time") value = `(${name} - deid.offset_days * interval '24 hours')`;
    if (pseudonyms && kind === "date") value = `(${name} - deid.offset_days)`;
    columns.push({ name, kind, value });
  }
  return columns;
}

function csvExpression({ name, value, kind }: OutputColumn): string {
  switch (kind) {
    case "text":
    case "participant_code":
      return `exportal_csv_safe(${value})`;
    case "json":
      // JSON text starts with a formula character only as a negative number
      // (objects, arrays, strings, true, false, null start with {, [, ", t, f, n),
      // and dropping secret keys leaves a number as it is. So the function,
      // which PostgreSQL does not inline for so costly an argument, runs for numbers only.
      return `CASE WHEN jsonb_typeof(${name}) = 'number' THEN exportal_csv_safe(${value}::text) ELSE ${value}::text END`;
    case "boolean":
      return `${value}::text`;
    // to_char gives NULL for 'infinity' and '-infinity': those are written as PostgreSQL spells them, as in NDJSON.
    case "time":
      return `coalesce(to_char(${value} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), ${value}::text)`;
    case "date":
      return `coalesce(to_char(${value}, 'YYYY-MM-DD'), ${value}::text)`;
    default:
      return value;
  }
}

/** The columns, FROM … WHERE and ORDER BY that every file of a data type is read with. */
function selectParts(dataType: DataType, target: ExportTarget) {
  const columns = outputColumns(dataType, target);
  const from = `${fromClause(dataType, target)} WHERE ${whereClause(dataType, target)}`;
  const time = columns.find((c) => c.name === DATA_TYPE_SPECS[dataType].time)!.value;
  const order = `ORDER BY ${time}, ${pseudonymized(dataType, target) ? "deid.pseudonym, " : ""}id`;
  return { columns, from, order };
}

/**
 * The rows of a typed file (Parquet, Excel): the NDJSON file's values, in its
 * order, as PostgreSQL's own types, read with COPY in binary format.
 */
export function rowsStatement(dataType: DataType, target: ExportTarget): string {
  const { columns, from, order } = selectParts(dataType, target);
  return `SELECT ${columns.map((c) => `${c.value} AS "${c.name}"`).join(", ")} FROM ${from} ${order}`;
}

/**
 * The COPY statement that renders one file. PostgreSQL renders both formats:
 * CSV directly, NDJSON as one JSON object per row, copied in CSV mode with
 * quote and delimiter bytes that JSON text never holds, so it is not re-escaped.
 * Pseudonymized files are ordered by their shifted times and pseudonyms, which reveal nothing.
 */
export function copyStatement(dataType: DataType, format: "ndjson" | "csv", target: ExportTarget): string {
  const { columns, from, order } = selectParts(dataType, target);
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
