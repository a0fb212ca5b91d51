import type { DB } from "../../db/client";
import { recordEvent, type AuditActor } from "../audit/audit.server";
import type { SessionUser } from "../auth/auth.server";
import { clientOf } from "../lib/client.server";

// A person's own account events belong to no organization or tenant: they are about the person.
const NOWHERE = { organization_id: null, tenant_id: null };

/** The signed-in person as the audit trail records them, with the request's address and user agent. */
export function personActor(user: SessionUser, request: Request): AuditActor {
  return { userId: user.id, label: user.name, ...clientOf(request) };
}

/**
 * `auth.sign_in` or `auth.sign_out`. The subject is the account's email, as
 * for a failed sign-in, so one search finds a person's sign-ins whether it
 * starts from their email or (through the actor) their user id.
 */
export function recordAuthEvent(db: DB, action: "sign_in" | "sign_out", user: SessionUser, request: Request): Promise<void> {
  return recordEvent(db, NOWHERE, `auth.${action}`, { type: "account", id: user.email.slice(0, 320) }, personActor(user, request), { email: user.email });
}

/** `account.password_changed`, `account.sessions_revoked`, `account.password_set`: about the user, by the user. */
export function recordAccountEvent(
  db: DB,
  action: "password_changed" | "sessions_revoked" | "password_set",
  user: SessionUser,
  request: Request,
  details: Record<string, unknown> = {},
): Promise<void> {
  return recordEvent(db, NOWHERE, `account.${action}`, { type: "user", id: user.id }, personActor(user, request), details);
}
