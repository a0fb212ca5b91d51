import { sql } from "kysely";
import type { DB } from "../../db/client";
import { ACTIVE_EXPORT_STATUSES, type DeidentificationProfile, type Export, type ExportFilters, type ExportScope } from "../../db/schema";
import { recordExportEvent, type AuditActor } from "../audit/audit.server";
import { AppError } from "../lib/errors";
import { enqueueExportRun } from "./engine/queue.server";
import { DAY_MS, utcInstant } from "../lib/dates";
import { fieldErrors } from "../lib/validation";
import { DATA_TYPE_SCOPES, exportRequestSchema, type ExportRequest, type ValidExportRequest } from "./export-request";
import { can, type AppAbility } from "../auth/permissions";
import { DEFAULT_PROFILE, PROFILE_LABELS, PROFILE_PERMISSION } from "../studies/deidentification";
import { isUuid } from "../lib/ids";
import { DATA_TYPE_SPECS, type DataTypeSpec } from "./engine/columns.server";
import { dataTypeLabel } from "./export-labels";

export interface Requester {
  tenantId: string;
  organizationId: string;
  actor: AuditActor;
  ability: AppAbility;
}

const PRESET_DAYS: Record<string, number> = { last_7_days: 7, last_30_days: 30, last_90_days: 90, last_year: 365 };

function invalid(field: string, message: string): AppError {
  return new AppError("INVALID_REQUEST", message, { fieldErrors: { [field]: message } });
}

/** Resolves a preset to dates at request time; explicit dates win over a preset. `to` is exclusive. */
export function resolveDateRange(range: ValidExportRequest["dateRange"], now = new Date()): ExportFilters {
  const filters: ExportFilters = {};
  if (range.preset) {
    filters.preset = range.preset;
    const days = PRESET_DAYS[range.preset];
    if (days) filters.from = new Date(now.getTime() - days * DAY_MS).toISOString();
  }
  if (range.from) filters.from = utcInstant(range.from).toISOString();
  if (range.to) filters.to = utcInstant(range.to).toISOString();
  if (filters.from && filters.to && filters.from >= filters.to) {
    throw invalid("dateRange.to", "“To” must be after “From” (From is included, To is not).");
  }
  return filters;
}

/** Checks that the scope's project and apps exist in the requester's tenant. */
async function checkScope(db: DB, requester: Requester, scope: ValidExportRequest["scope"]): Promise<ExportScope> {
  if (scope.type === "organization") {
    if (!can(requester.ability, "org.exports.create")) {
      throw new AppError("FORBIDDEN", "Only organization owners and admins may export the entire organization.");
    }
    return scope;
  }
  if (scope.type === "tenant") return scope;
  if (scope.type === "study") return checkStudyScope(db, requester, scope);
  const project = isUuid(scope.projectId)
    ? await db.selectFrom("project").select("id").where("tenant_id", "=", requester.tenantId).where("id", "=", scope.projectId).executeTakeFirst()
    : undefined;
  if (!project) throw invalid("scope.projectId", "That project is not in this tenant.");
  if (scope.type === "project") return { type: "project", projectId: project.id };

  const appIds = [...new Set(scope.appIds)];
  const found = appIds.every(isUuid)
    ? await db.selectFrom("app").select("id").where("project_id", "=", project.id).where("id", "in", appIds).execute()
    : [];
  if (found.length !== appIds.length) throw invalid("scope.appIds", "One or more of the apps are not in that project.");
  return { type: "app", projectId: project.id, appIds: appIds.sort() };
}

/** Checks that the study is in the tenant, the cohort in the study and the participant in the cohort. */
async function checkStudyScope(
  db: DB,
  requester: Requester,
  scope: Extract<ValidExportRequest["scope"], { type: "study" }>,
): Promise<ExportScope> {
  if (!can(requester.ability, "studies.export")) {
    throw new AppError("FORBIDDEN", "Your role does not include exporting study data. Ask an organization or tenant admin.");
  }
  const study = isUuid(scope.studyId)
    ? await db.selectFrom("study").select("id").where("tenant_id", "=", requester.tenantId).where("id", "=", scope.studyId).executeTakeFirst()
    : undefined;
  if (!study) throw invalid("scope.studyId", "That study is not in this tenant.");
  const cohort = isUuid(scope.cohortId)
    ? await db.selectFrom("cohort").select("id").where("study_id", "=", study.id).where("id", "=", scope.cohortId).executeTakeFirst()
    : undefined;
  if (!cohort) throw invalid("scope.cohortId", "That cohort is not part of the study.");
  if (scope.participantId === undefined) return { type: "study", studyId: study.id, cohortId: cohort.id };
  const member = isUuid(scope.participantId)
    ? await db.selectFrom("cohort_member").select("participant_id").where("cohort_id", "=", cohort.id).where("participant_id", "=", scope.participantId).executeTakeFirst()
    : undefined;
  if (!member) throw invalid("scope.participantId", "That participant is not enrolled in the cohort.");
  return { type: "study", studyId: study.id, cohortId: cohort.id, participantId: member.participant_id };
}

/**
 * The de-identification profile of a study export: the one asked for, else
 * the most protective. Each profile needs its permission; other scopes take none.
 */
function checkProfile(requester: Requester, scope: ExportScope, asked: DeidentificationProfile | undefined): DeidentificationProfile | null {
  if (scope.type !== "study") {
    if (asked) throw invalid("deidentification", "De-identification applies to study exports only.");
    return null;
  }
  const profile = asked ?? DEFAULT_PROFILE;
  const permission = PROFILE_PERMISSION[profile];
  if (!can(requester.ability, permission)) {
    const message = `Exporting “${PROFILE_LABELS[profile].label}” needs the permission ${permission}, which your role does not include. Choose “Identifiers removed” or “De-identified”, or ask a tenant admin.`;
    throw new AppError("FORBIDDEN", message, { fieldErrors: { deidentification: message } });
  }
  return profile;
}

const SCOPE_NOUNS: Record<ExportScope["type"], string> = {
  tenant: "the whole tenant",
  organization: "the entire organization",
  project: "a project",
  app: "chosen apps",
  study: "a study cohort",
};

/**
 * Each data type asked for must fit the scope (metrics belong to projects,
 * not apps; dashboards to the whole tenant) and its permission must be held.
 */
function checkDataTypes(requester: Requester, scope: ExportScope, dataTypes: ValidExportRequest["dataTypes"]): void {
  for (const type of dataTypes) {
    const spec: DataTypeSpec = DATA_TYPE_SPECS[type];
    const scopes = DATA_TYPE_SCOPES[type];
    if (scopes && !scopes.includes(scope.type)) {
      const choices = scopes.map((s) => SCOPE_NOUNS[s]);
      throw invalid(
        "dataTypes",
        `${dataTypeLabel(type)} cannot be exported for ${SCOPE_NOUNS[scope.type]}. Choose ${choices.slice(0, -1).join(", ")} or ${choices.at(-1)} as the scope, or leave ${dataTypeLabel(type)} out.`,
      );
    }
    if (spec.permission && !can(requester.ability, spec.permission)) {
      const message = `Exporting ${dataTypeLabel(type)} needs the permission ${spec.permission}, which you do not have.`;
      throw new AppError("FORBIDDEN", message, { permission: spec.permission, fieldErrors: { dataTypes: message } });
    }
  }
}

/** The projects an export of this scope covers, for the one-active-export-per-project rule. */
function coveredProjects(db: DB, requester: Requester, scope: ExportScope) {
  let query = db.selectFrom("project").select("id");
  if (scope.type === "organization") {
    query = query.where("tenant_id", "in", db.selectFrom("tenant").select("id").where("organization_id", "=", requester.organizationId));
  } else {
    query = query.where("tenant_id", "=", requester.tenantId);
  }
  if (scope.type === "project" || scope.type === "app") query = query.where("id", "=", scope.projectId);
  if (scope.type === "study") query = query.where("id", "in", db.selectFrom("study").select("project_id").where("id", "=", scope.studyId));
  // A fixed order keeps concurrent exports from taking their locks in opposite orders.
  return query.orderBy("id");
}

async function conflictError(db: DB, requester: Requester, scope: ExportScope): Promise<AppError> {
  const running = await db
    .selectFrom("export_project_lock as l")
    .innerJoin("export as e", "e.id", "l.export_id")
    .innerJoin("project as p", "p.id", "l.project_id")
    .where("l.project_id", "in", coveredProjects(db, requester, scope))
    .select(["e.id", "e.tenant_id", "p.name"])
    .executeTakeFirst();
  const visible = running && running.tenant_id === requester.tenantId;
  const message = running
    ? `Another export is in progress for project ${running.name}${visible ? ` (export ${running.id})` : " (an organization-wide export)"}. Wait for it to finish or cancel it, then try again.`
    : "Another export is in progress. Wait for it to finish, then try again.";
  return new AppError("CONFLICT", message, visible ? { exportId: running.id } : {});
}

const isUniqueViolation = (e: unknown) => (e as { code?: string })?.code === "23505";

/**
 * Creates an export for the portal and the API alike: validates the request,
 * stores the export, takes its projects' locks and enqueues its job in one
 * transaction. At most one pending or running export covers a project; the
 * database's primary key on the lock table decides races.
 */
export async function createExport(db: DB, requester: Requester, input: ExportRequest | unknown): Promise<Export> {
  const parsed = exportRequestSchema.safeParse(input ?? {});
  if (!parsed.success) {
    throw new AppError("INVALID_REQUEST", "The export request is not valid.", { fieldErrors: fieldErrors(parsed.error) });
  }
  const request = parsed.data;
  const filters = resolveDateRange(request.dateRange);
  const scope = await checkScope(db, requester, request.scope);
  const deidentification = checkProfile(requester, scope, request.deidentification);
  checkDataTypes(requester, scope, request.dataTypes);
  // A study export always says who its participants are, in the profile's terms;
  // a dashboards export holds their widgets.
  const dataTypes: string[] = [...request.dataTypes];
  if (scope.type === "study") dataTypes.push("participants");
  if (dataTypes.includes("dashboards")) dataTypes.push("dashboard_widgets");
  try {
    return await db.transaction().execute(async (trx) => {
      const created = await trx
        .insertInto("export")
        .values({
          tenant_id: requester.tenantId,
          organization_id: requester.organizationId,
          requested_by_user_id: requester.actor.userId,
          requested_by_api_key_id: requester.actor.apiKeyId ?? null,
          scope,
          filters,
          data_types: dataTypes,
          format: request.format,
          deidentification,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await trx
        .insertInto("export_project_lock")
        .columns(["project_id", "export_id"])
        .expression(coveredProjects(trx, requester, scope).select(sql<string>`${created.id}::uuid`.as("export_id")))
        .execute();
      await enqueueExportRun(trx, created.id);
      await recordExportEvent(trx, created, "requested", requester.actor, { scope, filters, dataTypes, format: request.format, deidentification });
      return created;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw await conflictError(db, requester, scope);
    throw error;
  }
}

/**
 * Cancels a pending or running export of the tenant. A running one notices
 * within about a second and stops without publishing an archive.
 */
export async function cancelExport(db: DB, requester: Omit<Requester, "ability">, id: string): Promise<Export> {
  const exp = await getExport(db, requester.tenantId, id);
  if (!exp) throw new AppError("NOT_FOUND", "No such export.");
  const cancelled = await db
    .updateTable("export")
    .set({ status: "cancelled", finished_at: new Date() })
    .where("id", "=", exp.id)
    .where("status", "in", ACTIVE_EXPORT_STATUSES)
    .returningAll()
    .executeTakeFirst();
  if (!cancelled) throw new AppError("CONFLICT", `This export is already ${exp.status} and cannot be cancelled.`);
  await recordExportEvent(db, cancelled, "cancelled", requester.actor);
  return cancelled;
}

/** The tenant's exports, each with who asked: a person's name, or "API key <name>" for a program. */
function withRequester(db: DB, tenantId: string) {
  return db
    .selectFrom("export as e")
    .leftJoin("user as u", "u.id", "e.requested_by_user_id")
    .leftJoin("api_key as k", "k.id", "e.requested_by_api_key_id")
    .where("e.tenant_id", "=", tenantId)
    .selectAll("e")
    .select(sql<string | null>`coalesce(u.name, 'API key ' || k.name)`.as("requestedBy"));
}

export interface ExportListItem extends Export {
  requestedBy: string | null;
}

export const PAGE_SIZE = 25;

/** One page of the tenant's exports, newest first, and how many there are in all. */
export async function listExports(db: DB, tenantId: string, page = 1): Promise<{ exports: ExportListItem[]; total: number }> {
  const [exports, count] = await Promise.all([
    withRequester(db, tenantId)
      .orderBy("e.created_at", "desc")
      .orderBy("e.id", "desc")
      .limit(PAGE_SIZE)
      .offset((page - 1) * PAGE_SIZE)
      .execute(),
    db.selectFrom("export").where("tenant_id", "=", tenantId).select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow(),
  ]);
  return { exports, total: Number(count.n) };
}

/** One export of the tenant; undefined for an unknown id or another tenant's export alike. */
export async function getExport(db: DB, tenantId: string, id: string): Promise<ExportListItem | undefined> {
  if (!isUuid(id)) return undefined;
  return withRequester(db, tenantId).where("e.id", "=", id).executeTakeFirst();
}

const CURSOR = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)\|([0-9a-f-]{36})$/;

/**
 * A page of the tenant's exports for the API, newest first, after `cursor`.
 * The cursor carries the last row's creation time to the microsecond and its
 * id, so pages neither skip nor repeat rows while exports are being added.
 */
export async function listExportsAfter(db: DB, tenantId: string, options: { limit: number; cursor?: string; status?: string }) {
  let query = withRequester(db, tenantId)
    .select(sql<string>`to_char(e.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as("cursor_at"))
    .orderBy("e.created_at", "desc")
    .orderBy("e.id", "desc")
    .limit(options.limit + 1);
  if (options.status) query = query.where("e.status", "=", options.status as Export["status"]);
  if (options.cursor !== undefined) {
    const match = CURSOR.exec(Buffer.from(options.cursor, "base64url").toString("utf8"));
    if (!match || !isUuid(match[2])) {
      throw new AppError("INVALID_REQUEST", "Invalid query parameter cursor: is not a cursor from this API; pass the nextCursor of the previous page.", { parameter: "cursor" });
    }
    // Sent as text: postgres.js would send a timestamptz parameter through a Date and drop the microseconds.
    query = query.where(sql<boolean>`(e.created_at, e.id) < (${match[1]}::text::timestamptz, ${match[2]}::uuid)`);
  }
  const rows = await query.execute();
  const page = rows.slice(0, options.limit);
  const last = page.at(-1);
  const hasMore = rows.length > options.limit;
  return {
    exports: page as ExportListItem[],
    hasMore,
    nextCursor: hasMore && last ? Buffer.from(`${last.cursor_at}|${last.id}`).toString("base64url") : null,
  };
}
