import type { DB } from "../../db/client";
import { cookiesOf, getAuth, type SessionUser } from "../auth/auth.server";
import { AppError } from "../lib/errors";
import { recordAccountEvent } from "./account-events.server";

/** better-auth's defaults, checked here first so each message lands beside its field. */
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

export interface NewPassword {
  password: string;
  confirmPassword: string;
}

/** A new password's own errors (length, the confirmation matching), by field: `field` names the new password's input. */
export function newPasswordErrors({ password, confirmPassword }: NewPassword, field: string): Record<string, string> {
  const errors: Record<string, string> = {};
  if (password.length < PASSWORD_MIN) errors[field] = `Use at least ${PASSWORD_MIN} characters.`;
  else if (password.length > PASSWORD_MAX) errors[field] = `Use at most ${PASSWORD_MAX} characters.`;
  if (!confirmPassword) errors.confirmPassword = "Type the new password again.";
  else if (confirmPassword !== password) errors.confirmPassword = "The two passwords do not match.";
  return errors;
}

function refuse(fieldErrors: Record<string, string>): never {
  throw new AppError("INVALID_REQUEST", "The password was not changed: see the fields marked below.", { fieldErrors });
}

/**
 * Changes the signed-in user's password through better-auth, which checks the
 * current one; with `signOutOthers`, every other session ends (better-auth then
 * issues this browser a new session, whose cookie the returned headers carry).
 */
export async function changePassword(
  db: DB,
  user: SessionUser,
  request: Request,
  input: { currentPassword: string; newPassword: string; confirmPassword: string; signOutOthers: boolean },
): Promise<Headers> {
  const errors = newPasswordErrors({ password: input.newPassword, confirmPassword: input.confirmPassword }, "newPassword");
  if (!input.currentPassword) errors.currentPassword = "Enter your current password.";
  if (Object.keys(errors).length > 0) refuse(errors);
  const response = await getAuth().api.changePassword({
    body: { currentPassword: input.currentPassword, newPassword: input.newPassword, revokeOtherSessions: input.signOutOthers },
    headers: request.headers,
    asResponse: true,
  });
  if (!response.ok) {
    const { code } = (await response.json().catch(() => ({}))) as { code?: string };
    if (code === "INVALID_PASSWORD") refuse({ currentPassword: "That is not your current password." });
    if (code === "CREDENTIAL_ACCOUNT_NOT_FOUND") throw new AppError("INVALID_REQUEST", "Your account has no password yet: use the link you were given to set one.");
    throw new AppError("INVALID_REQUEST", "The password was not changed. Try again.", { code });
  }
  await recordAccountEvent(db, "password_changed", user, request, { otherSessionsSignedOut: input.signOutOthers });
  return cookiesOf(response);
}
