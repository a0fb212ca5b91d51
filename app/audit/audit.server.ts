import type { DB } from "../../db/client";

export type ExportEvent = "requested" | "started" | "done" | "failed" | "cancelled" | "link_issued" | "downloaded" | "expired";

export interface AuditActor {
  userId: string | null;
  /** Set when a program acted through an API key. */
  apiKeyId?: string;
  /** Who, in words, at the time: a person's name, "API key …", "signed link" or "system". */
  label: string;
  /** The client's address and user agent, for what a request did. */
  ip?: string | null;
  userAgent?: string | null;
}

export const SYSTEM: AuditActor = { userId: null, label: "system" };

/** Where an event happened: the organization, and the tenant when it is about one; neither for a sign-in, before anyone is known. */
export interface AuditPlace {
  organization_id: string | null;
  tenant_id: string | null;
}

/** Appends one event to the audit trail, which no one can edit, delete or truncate. */
export async function recordEvent(
  db: DB,
  place: AuditPlace,
  action: string,
  subject: { type: string; id: string },
  actor: AuditActor,
  details: Record<string, unknown> = {},
): Promise<void> {
  await db
    .insertInto("audit_event")
    .values({
      organization_id: place.organization_id,
      tenant_id: place.tenant_id,
      actor_user_id: actor.userId,
      actor_api_key_id: actor.apiKeyId ?? null,
      actor_label: actor.label,
      client_ip: actor.ip ?? null,
      user_agent: actor.userAgent?.slice(0, 500) ?? null,
      action,
      subject_type: subject.type,
      subject_id: subject.id,
      details,
    })
    .execute();
}

/** Appends one event about an export to the audit trail. */
export function recordExportEvent(
  db: DB,
  exp: { id: string; tenant_id: string; organization_id: string },
  action: ExportEvent,
  actor: AuditActor,
  details: Record<string, unknown> = {},
): Promise<void> {
  return recordEvent(db, exp, `export.${action}`, { type: "export", id: exp.id }, actor, details);
}

/**
 * Appends a sign-in event (`auth.sign_in_failed`, `auth.sign_in_locked`). Nobody
 * is known yet, so it belongs to no organization or tenant; the subject is the
 * email that was tried. Never give it the password.
 */
export function recordSignInEvent(
  db: DB,
  action: "sign_in_failed" | "sign_in_locked",
  details: { email: string; ip: string | null; [key: string]: unknown },
): Promise<void> {
  const anonymous: AuditActor = { userId: null, label: "anonymous", ip: details.ip };
  return recordEvent(db, { organization_id: null, tenant_id: null }, `auth.${action}`, { type: "account", id: details.email.slice(0, 320) }, anonymous, details);
}

/** The audit events of one export, oldest first. */
export function listExportEvents(db: DB, tenantId: string, exportId: string) {
  return db
    .selectFrom("audit_event")
    .where("tenant_id", "=", tenantId)
    .where("subject_type", "=", "export")
    .where("subject_id", "=", exportId)
    .select(["action", "actor_label", "actor_user_id", "actor_api_key_id", "client_ip", "user_agent", "details", "created_at"])
    .orderBy("id")
    .execute();
}
