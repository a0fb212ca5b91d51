import { sql } from "kysely";
import { z } from "zod";
import type { DB } from "../../db/client";
import type { Export } from "../../db/schema";
import { AppError } from "./errors";

export const DATA_TYPES = ["hsi_records"] as const;
export const FORMATS = ["ndjson"] as const;

/** What a person or program may ask for. The export engine issue widens scopes, types and formats. */
export const createExportInput = z.object({
  scope: z.object({ type: z.literal("tenant") }).default({ type: "tenant" }),
  dataTypes: z.array(z.enum(DATA_TYPES)).min(1, "Choose at least one data type.").default(["hsi_records"]),
  format: z.enum(FORMATS).default("ndjson"),
});
export type CreateExportInput = z.input<typeof createExportInput>;

function fieldErrors(error: z.ZodError): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of error.issues) {
    const field = issue.path.join(".") || "request";
    errors[field] ??= issue.message;
  }
  return errors;
}

/**
 * Validates and stores an export request and enqueues its job in the same
 * transaction, so a job never exists without its export nor the other way round.
 */
export async function createExport(
  db: DB,
  requester: { tenantId: string; userId: string | null },
  input: CreateExportInput,
): Promise<Export> {
  const parsed = createExportInput.safeParse(input);
  if (!parsed.success) {
    throw new AppError("INVALID_REQUEST", "The export request is not valid.", { fieldErrors: fieldErrors(parsed.error) });
  }
  const request = parsed.data;
  return db.transaction().execute(async (trx) => {
    const created = await trx
      .insertInto("export")
      .values({
        tenant_id: requester.tenantId,
        requested_by_user_id: requester.userId,
        scope: JSON.stringify(request.scope),
        data_types: request.dataTypes,
        format: request.format,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await sql`select graphile_worker.add_job('export_run', json_build_object('exportId', ${created.id}::text), max_attempts := 5)`.execute(trx);
    return created;
  });
}

export interface ExportListItem extends Export {
  requestedBy: string | null;
}

/** The tenant's exports, newest first. */
export async function listExports(db: DB, tenantId: string, limit = 50): Promise<ExportListItem[]> {
  return db
    .selectFrom("export as e")
    .leftJoin("user as u", "u.id", "e.requested_by_user_id")
    .where("e.tenant_id", "=", tenantId)
    .selectAll("e")
    .select("u.name as requestedBy")
    .orderBy("e.created_at", "desc")
    .orderBy("e.id", "desc")
    .limit(limit)
    .execute();
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One export of the tenant; undefined for an unknown id or another tenant's export alike. */
export async function getExport(db: DB, tenantId: string, id: string): Promise<ExportListItem | undefined> {
  if (!UUID.test(id)) return undefined;
  return db
    .selectFrom("export as e")
    .leftJoin("user as u", "u.id", "e.requested_by_user_id")
    .where("e.tenant_id", "=", tenantId)
    .where("e.id", "=", id)
    .selectAll("e")
    .select("u.name as requestedBy")
    .executeTakeFirst();
}
