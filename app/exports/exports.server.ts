import { sql } from "kysely";
import type { DB } from "../../db/client";
import { ACTIVE_EXPORT_STATUSES, type Export, type ExportScope } from "../../db/schema";
import { recordExportEvent } from "../audit/audit.server";
import { can } from "../auth/permissions";
import { authorize, type Requester } from "../auth/requester";
import { AppError } from "../lib/errors";
import { assertTenantWritable } from "../tenants/archived.server";
import { fieldErrors, invalid } from "../lib/validation";
import { enqueueExportRun } from "./engine/queue.server";
import { enqueueRunAdvance } from "../schedules/run-jobs.server";
import { resolveDateRange } from "./date-range";
import { checkDataTypes, checkProfile, checkScope } from "./export-checks.server";
import { exportRequestSchema, type ExportRequest, type ValidExportRequest } from "./export-request";
import { getExport, getExportForLink } from "./export-queries.server";

export type { Requester };

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
    .select(["e.id", "e.tenant_id", "e.scope", "p.name"])
    .executeTakeFirst();
  // Name the export only to those who may open it: not another tenant's, nor an organization-wide one to its tenants.
  const visible = running && running.tenant_id === requester.tenantId && can(requester.ability, "data.exports.read", running);
  const message = running
    ? `Another export is in progress for project ${running.name}${visible ? ` (export ${running.id})` : " (an organization-wide export)"}. Wait for it to finish or cancel it, then try again.`
    : "Another export is in progress. Wait for it to finish, then try again.";
  return new AppError("CONFLICT", message, visible ? { exportId: running.id } : {});
}

/**
 * The checks every export request passes with the rights of whoever it is
 * made for: the scope is in the tenant, the profile and each data type are
 * allowed. Returns the data types the export holds, with those that come
 * along: a study export always says who its participants are (in the
 * profile's terms), a dashboards export holds their widgets.
 */
export async function checkExportRequest(db: DB, requester: Requester, request: ValidExportRequest) {
  const scope = await checkScope(db, requester, request.scope);
  const deidentification = checkProfile(requester, scope, request.dataTypes, request.deidentification);
  checkDataTypes(requester, scope, request.dataTypes);
  const dataTypes: string[] = [...request.dataTypes];
  if (scope.type === "study") dataTypes.push("participants");
  if (dataTypes.includes("dashboards")) dataTypes.push("dashboard_widgets");
  return { scope, deidentification, dataTypes };
}

export interface CreateOptions {
  /** The schedule run this export is made for (app/schedules). */
  scheduleRunId?: string;
  /**
   * A delta: only the rows recorded since this earlier export of the tenant (its base, which must be done and
   * have the same scope, data types and profile). The request's `since.exportId` comes here too; errors name that field.
   */
  sinceExportId?: string;
}

/** A scope as a comparable string: its fields in a fixed order, an app scope's apps as a set. */
function scopeKey(scope: ExportScope): string {
  const apps = scope.type === "app" ? [...scope.appIds].sort() : undefined;
  return JSON.stringify(Object.entries({ ...scope, ...(apps && { appIds: apps }) }).sort(([a], [b]) => a.localeCompare(b)));
}
const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join() === [...b].sort().join();

/**
 * The base of a delta: a done (or since expired) export of the requester's tenant, with a
 * snapshot, made with the same scope, data types and profile. An unknown id
 * and another tenant's export get the same answer.
 */
async function deltaBase(db: DB, requester: Requester, id: string, wanted: { scope: ExportScope; dataTypes: string[]; deidentification: Export["deidentification"] }) {
  const field = "since.exportId";
  const base = await getExportForLink(db, requester.tenantId, id);
  if (!base) throw invalid(field, `There is no export ${id} in this tenant to take changes since.`);
  // An expired export finished too: its archive is gone, its snapshot is what a delta needs (a daily delta's base has expired by the next day).
  if (base.status !== "done" && base.status !== "expired") throw invalid(field, `Export ${id} is ${base.status}; a delta's base must be an export that finished (done).`);
  if (!base.snapshot) throw invalid(field, `Export ${id} was made before delta exports recorded snapshots; choose a later export, or make a full export first.`);
  const differs: string[] = [];
  if (scopeKey(base.scope) !== scopeKey(wanted.scope)) differs.push("scope");
  if (!sameSet(base.data_types, wanted.dataTypes)) differs.push("data types");
  if ((base.deidentification ?? null) !== (wanted.deidentification ?? null)) differs.push("de-identification profile");
  if (differs.length) throw invalid(field, `Export ${id} has a different ${differs.join(", ")}; a delta must have the same scope, data types and profile as its base.`);
  return base;
}

const isUniqueViolation = (e: unknown) => (e as { code?: string })?.code === "23505";

/**
 * Creates an export for the portal and the API alike: validates the request,
 * stores the export, takes its projects' locks and enqueues its job in one
 * transaction. At most one pending or running export covers a project; the
 * database's primary key on the lock table decides races.
 */
export async function createExport(db: DB, requester: Requester, input: ExportRequest | unknown, options: CreateOptions = {}): Promise<Export> {
  authorize(requester, "data.exports.create");
  await assertTenantWritable(db, requester.tenantId);
  const parsed = exportRequestSchema.safeParse(input ?? {});
  if (!parsed.success) {
    throw new AppError("INVALID_REQUEST", "The export request is not valid.", { fieldErrors: fieldErrors(parsed.error) });
  }
  const request = parsed.data;
  const filters = resolveDateRange(request.dateRange);
  const { scope, deidentification, dataTypes } = await checkExportRequest(db, requester, request);
  const sinceId = request.since?.exportId ?? options.sinceExportId;
  const base = sinceId ? await deltaBase(db, requester, sinceId, { scope, dataTypes, deidentification }) : undefined;
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
          formats: request.format,
          deidentification,
          schedule_run_id: options.scheduleRunId ?? null,
          since_export_id: base?.id ?? null,
          since_snapshot: base?.snapshot ?? null,
          since_snapshot_at: base?.manifest?.snapshotAt ?? null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await trx
        .insertInto("export_project_lock")
        .columns(["project_id", "export_id"])
        .expression(coveredProjects(trx, requester, scope).select(sql<string>`${created.id}::uuid`.as("export_id")))
        .execute();
      await enqueueExportRun(trx, created.id);
      await recordExportEvent(trx, created, "requested", requester.actor, {
        scope,
        filters,
        dataTypes,
        formats: request.format,
        deidentification,
        ...(base && { sinceExportId: base.id }),
      });
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
export async function cancelExport(db: DB, requester: Requester, id: string): Promise<Export> {
  authorize(requester, "data.exports.cancel");
  const exp = await getExport(db, requester, id);
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
  // A schedule run's export: the run fails with it rather than wait for it.
  if (cancelled.schedule_run_id) await enqueueRunAdvance(db, cancelled.schedule_run_id);
  return cancelled;
}
