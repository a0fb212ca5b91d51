import { randomBytes } from "node:crypto";
import type { DB } from "../../db/client";
import { cookiesOf, getAuth, type SessionUser } from "../auth/auth.server";
import { HOUR_MS } from "../lib/dates";
import { recordAccountEvent, recordAuthEvent } from "./account-events.server";
import { SET_PASSWORD_LINK_HOURS } from "./password-rules";

// A set-password link is better-auth's reset-password token: single use (better-auth consumes it
// atomically), kept only as a hash (auth.server.ts), and resetPassword creates the credential
// account a new owner does not have yet.
const identifier = (token: string) => `reset-password:${token}`;

/** A new one-time token with which `userId` sets their password, valid `hours`. */
export async function issueSetPasswordToken(userId: string, hours = SET_PASSWORD_LINK_HOURS): Promise<string> {
  const token = randomBytes(32).toString("base64url");
  const { internalAdapter } = await getAuth().$context;
  await internalAdapter.createVerificationValue({ identifier: identifier(token), value: userId, expiresAt: new Date(Date.now() + hours * HOUR_MS) });
  return token;
}

/** The person a token lets set a password, or null when it is unknown, used or expired. */
export async function setPasswordTokenUser(db: DB, token: string): Promise<SessionUser | null> {
  if (!token) return null;
  const { internalAdapter } = await getAuth().$context;
  const verification = await internalAdapter.findVerificationValue(identifier(token));
  if (!verification || verification.expiresAt < new Date()) return null;
  const user = await db.selectFrom("user").where("id", "=", verification.value).select(["id", "name", "email"]).executeTakeFirst();
  return user ?? null;
}

/**
 * Sets the password (consuming the token) and signs the person in: the
 * session cookie comes back as headers. Null when the token was no longer good.
 */
export async function setPasswordWithToken(db: DB, token: string, password: string, request: Request): Promise<{ user: SessionUser; headers: Headers } | null> {
  const user = await setPasswordTokenUser(db, token);
  if (!user) return null;
  const reset = await getAuth().api.resetPassword({ body: { newPassword: password, token }, asResponse: true });
  // Someone else used it in the meantime.
  if (!reset.ok) return null;
  await recordAccountEvent(db, "password_set", user, request);
  const signedIn = await getAuth().api.signInEmail({ body: { email: user.email, password }, headers: request.headers, asResponse: true });
  const headers = cookiesOf(signedIn);
  if (signedIn.ok) await recordAuthEvent(db, "sign_in", user, request);
  return { user, headers };
}
