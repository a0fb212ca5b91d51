import type { DB } from "../../db/client";
import type { DeidentificationProfile, ExportScope } from "../../db/schema";
import type { Requester } from "../auth/requester";
import { can } from "../auth/permissions";
import { DEFAULT_PROFILE, PROFILE_LABELS, PROFILE_PERMISSION } from "../studies/deidentification";
import { AppError } from "../lib/errors";
import { isUuid } from "../lib/ids";
import { invalid } from "../lib/validation";
import { DATA_TYPE_SPECS, type DataTypeSpec } from "./engine/columns.server";
import { dataTypeLabel } from "./export-labels";
import { DATA_TYPE_SCOPES, holdsParticipants, type ValidExportRequest } from "./export-request";

/** Checks that the scope's project and apps exist in the requester's tenant. */
export async function checkScope(db: DB, requester: Requester, scope: ValidExportRequest["scope"]): Promise<ExportScope> {
  if (scope.type === "organization") {
    if (!can(requester.ability, "org.exports.create")) {
      throw new AppError("FORBIDDEN", "Only organization owners and admins may export the entire organization.", { permission: "org.exports.create" });
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
    throw new AppError("FORBIDDEN", "Your role does not include exporting study data. Ask an organization or tenant admin.", { permission: "studies.export" });
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
 * The de-identification profile of an export holding participants' rows, in
 * any scope: the one asked for, else the most protective. Each profile needs
 * its permission. Exports without such rows have none and take none.
 */
export function checkProfile(
  requester: Requester,
  scope: ExportScope,
  dataTypes: readonly string[],
  asked: DeidentificationProfile | undefined,
): DeidentificationProfile | null {
  if (!holdsParticipants(scope.type, dataTypes)) {
    if (asked) throw invalid("deidentification", "De-identification applies to exports of HSI records or lab results; leave it out for these data types.");
    return null;
  }
  const profile = asked ?? DEFAULT_PROFILE;
  const permission = PROFILE_PERMISSION[profile];
  if (!can(requester.ability, permission)) {
    const message = `Exporting “${PROFILE_LABELS[profile].label}” needs the permission ${permission}, which your role does not include. Choose “Identifiers removed” or “De-identified”, or ask a tenant admin.`;
    throw new AppError("FORBIDDEN", message, { permission, fieldErrors: { deidentification: message } });
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
export function checkDataTypes(requester: Requester, scope: ExportScope, dataTypes: ValidExportRequest["dataTypes"]): void {
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
