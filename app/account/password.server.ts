import type { DB } from "../../db/client";
import { cookiesOf, forgetCachedSessions, getAuth, type SessionUser } from "../auth/auth.server";
import { AppError } from "../lib/errors";
import { recordAccountEvent } from "./account-events.server";
import { newPasswordErrors } from "./password-rules";

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
  if (input.signOutOthers) forgetCachedSessions();
  await recordAccountEvent(db, "password_changed", user, request, { otherSessionsSignedOut: input.signOutOthers });
  return cookiesOf(response);
}
