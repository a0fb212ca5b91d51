import { sql } from "kysely";
import { z } from "zod";
import type { DB } from "../../db/client";
import { recordEvent } from "../audit/audit.server";
import { authorize, type Requester } from "../auth/requester";
import { AppError } from "../lib/errors";
import { isUuid } from "../lib/ids";
import { fieldErrors, invalid } from "../lib/validation";
import { assertTenantWritable } from "./archived.server";
import { isUniqueViolation, nameField } from "./names";

// Tenant admins (`projects.manage`) create and rename the tenant's projects
// and their apps. Names are unique within the tenant (projects) or the
// project (apps), ignoring case, so two entries never read alike in a list.

const projectInput = z.object({
  name: nameField("project"),
  description: z.string().trim().max(500, "Keep the description to 500 characters or fewer.").optional(),
});
const appInput = z.object({
  name: nameField("app"),
  platform: z.string({ error: "Say which platform the app runs on." }).trim().min(1, "Say which platform the app runs on, e.g. iOS or watchOS.").max(40, "Keep the platform to 40 characters or fewer."),
});
const renameInput = (what: string) => z.object({ name: nameField(what) });

function parse<T extends z.ZodType>(schema: T, input: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(input ?? {});
  if (!parsed.success) throw new AppError("INVALID_REQUEST", `The ${what} is not valid.`, { fieldErrors: fieldErrors(parsed.error) });
  return parsed.data;
}

/** Checks permission and that the tenant is writable, as every change here must. */
async function begin(db: DB, requester: Requester) {
  authorize(requester, "projects.manage");
  await assertTenantWritable(db, requester.tenantId);
}

const projectTaken = (name: string) => invalid("name", `This tenant already has a project named ${name}.`);
const appTaken = (name: string) => invalid("name", `This project already has an app named ${name}.`);

/** Whether another project of the tenant (or app of the project) already has this name, in any case. */
async function nameTaken(db: DB, table: "project" | "app", where: { column: "tenant_id" | "project_id"; value: string }, name: string, exceptId?: string) {
  let query = db.selectFrom(table).select("id").where(where.column, "=", where.value).where(sql<boolean>`lower(name) = lower(${name})`);
  if (exceptId) query = query.where("id", "!=", exceptId);
  return (await query.executeTakeFirst()) !== undefined;
}

async function insertOrTaken<T>(work: () => Promise<T>, taken: () => AppError): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isUniqueViolation(error)) throw taken();
    throw error;
  }
}

export async function createProject(db: DB, requester: Requester, input: unknown) {
  await begin(db, requester);
  const { name, description } = parse(projectInput, input, "project");
  if (await nameTaken(db, "project", { column: "tenant_id", value: requester.tenantId }, name)) throw projectTaken(name);
  return insertOrTaken(
    () =>
      db.transaction().execute(async (trx) => {
        const created = await trx.insertInto("project").values({ tenant_id: requester.tenantId, name, description: description ?? "" }).returning(["id", "name"]).executeTakeFirstOrThrow();
        await recordEvent(trx, placeOf(requester), "project.created", { type: "project", id: created.id }, requester.actor, { name });
        return created;
      }),
    () => projectTaken(name),
  );
}

export async function renameProject(db: DB, requester: Requester, projectId: string, input: unknown) {
  await begin(db, requester);
  const { name } = parse(renameInput("project"), input, "project name");
  const project = await findProject(db, requester, projectId);
  if (name === project.name) return project;
  if (await nameTaken(db, "project", { column: "tenant_id", value: requester.tenantId }, name, project.id)) throw projectTaken(name);
  return insertOrTaken(
    () =>
      db.transaction().execute(async (trx) => {
        await trx.updateTable("project").set({ name }).where("tenant_id", "=", requester.tenantId).where("id", "=", project.id).execute();
        await recordEvent(trx, placeOf(requester), "project.renamed", { type: "project", id: project.id }, requester.actor, { from: project.name, to: name });
        return { ...project, name };
      }),
    () => projectTaken(name),
  );
}

export async function createApp(db: DB, requester: Requester, projectId: string, input: unknown) {
  await begin(db, requester);
  const { name, platform } = parse(appInput, input, "app");
  const project = await findProject(db, requester, projectId);
  if (await nameTaken(db, "app", { column: "project_id", value: project.id }, name)) throw appTaken(name);
  return insertOrTaken(
    () =>
      db.transaction().execute(async (trx) => {
        const created = await trx
          .insertInto("app")
          .values({ tenant_id: requester.tenantId, project_id: project.id, name, platform })
          .returning(["id", "name"])
          .executeTakeFirstOrThrow();
        await recordEvent(trx, placeOf(requester), "app.created", { type: "app", id: created.id }, requester.actor, { name, platform, projectId: project.id, project: project.name });
        return created;
      }),
    () => appTaken(name),
  );
}

export async function renameApp(db: DB, requester: Requester, appId: string, input: unknown) {
  await begin(db, requester);
  const { name } = parse(renameInput("app"), input, "app name");
  const app = isUuid(appId)
    ? await db.selectFrom("app").select(["id", "name", "project_id"]).where("tenant_id", "=", requester.tenantId).where("id", "=", appId).executeTakeFirst()
    : undefined;
  if (!app) throw new AppError("NOT_FOUND", "No such app in this tenant.");
  if (name === app.name) return app;
  if (await nameTaken(db, "app", { column: "project_id", value: app.project_id }, name, app.id)) throw appTaken(name);
  return insertOrTaken(
    () =>
      db.transaction().execute(async (trx) => {
        await trx.updateTable("app").set({ name }).where("tenant_id", "=", requester.tenantId).where("id", "=", app.id).execute();
        await recordEvent(trx, placeOf(requester), "app.renamed", { type: "app", id: app.id }, requester.actor, { from: app.name, to: name });
        return { ...app, name };
      }),
    () => appTaken(name),
  );
}

async function findProject(db: DB, requester: Requester, projectId: string) {
  const project = isUuid(projectId)
    ? await db.selectFrom("project").select(["id", "name"]).where("tenant_id", "=", requester.tenantId).where("id", "=", projectId).executeTakeFirst()
    : undefined;
  if (!project) throw new AppError("NOT_FOUND", "No such project in this tenant.");
  return project;
}

const placeOf = (requester: Requester) => ({ organization_id: requester.organizationId, tenant_id: requester.tenantId });
