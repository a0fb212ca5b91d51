import type { DB } from "../../db/client";

export type ExportEvent = "requested" | "started" | "done" | "failed" | "cancelled" | "downloaded" | "expired";

export interface AuditActor {
  userId: string | null;
  /** Set when a program acted through an API key. */
  apiKeyId?: string;
  /** Who, in words: a person's name, "API key …", or "system". */
  label: string;
}

export const SYSTEM: AuditActor = { userId: null, label: "system" };

/** Appends one event about an export to the audit trail (which no one can edit or delete). */
export async function recordExportEvent(
  db: DB,
  exp: { id: string; tenant_id: string; organization_id: string },
  action: ExportEvent,
  actor: AuditActor,
  details: Record<string, unknown> = {},
): Promise<void> {
  await db
    .insertInto("audit_event")
    .values({
      organization_id: exp.organization_id,
      tenant_id: exp.tenant_id,
      actor_user_id: actor.userId,
      actor_label: actor.label,
      action: `export.${action}`,
      subject_type: "export",
      subject_id: exp.id,
      details,
    })
    .execute();
}

/**
 * Appends a sign-in event (`auth.sign_in_failed`, `auth.sign_in_locked`). Nobody
 * is known yet, so it belongs to no organization or tenant; the subject is the
 * email that was tried. Never give it the password.
 */
export async function recordSignInEvent(
  db: DB,
  action: "sign_in_failed" | "sign_in_locked",
  details: { email: string; ip: string | null; [key: string]: unknown },
): Promise<void> {
  await db
    .insertInto("audit_event")
    .values({
      organization_id: null,
      tenant_id: null,
      actor_user_id: null,
      actor_label: "anonymous",
      action: `auth.${action}`,
      subject_type: "account",
      subject_id: details.email.slice(0, 320),
      details,
    })
    .execute();
}

/** The audit events of one export, oldest first. */
export function listExportEvents(db: DB, tenantId: string, exportId: string) {
  return db
    .selectFrom("audit_event")
    .where("tenant_id", "=", tenantId)
    .where("subject_type", "=", "export")
    .where("subject_id", "=", exportId)
    .select(["action", "actor_label", "details", "created_at"])
    .orderBy("id")
    .execute();
}
