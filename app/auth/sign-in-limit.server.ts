import { sql } from "kysely";
import type { DB } from "../../db/client";
import { recordSignInEvent } from "../audit/audit.server";

// Password guessing is limited per account and per client address, counted in
// PostgreSQL so the limit holds across web processes. An attempt is counted
// before the password is checked (so parallel guesses cannot slip past the
// count) and given back when it succeeds.
export const SIGN_IN_WINDOW_MINUTES = 15;
export const ATTEMPTS_PER_ACCOUNT = 5;
export const ATTEMPTS_PER_ADDRESS = 20;

type Limit = "account" | "address";

export interface SignInAttempt {
  email: string;
  ip: string | null;
  allowed: boolean;
  /** Seconds until a refused attempt may be tried again. */
  retryAfterSeconds: number;
}

/** Emails compare without case; a very long one is still one account. */
const accountKey = (email: string) => `account:${email.trim().toLowerCase().slice(0, 320)}`;
const addressKey = (ip: string) => `address:${ip}`;

/**
 * Counts one sign-in attempt for the email and (when known) the client address.
 * Refused when either has used its attempts in the current window; the first
 * refusal of a window is audited as `auth.sign_in_locked`.
 */
export async function beginSignIn(db: DB, email: string, ip: string | null): Promise<SignInAttempt> {
  const keys = [accountKey(email), ...(ip ? [addressKey(ip)] : [])];
  const window = sql.raw(`interval '${SIGN_IN_WINDOW_MINUTES} minutes'`);
  const { rows } = await sql<{ key: string; attempts: number; retry_after: number; fresh: boolean }>`
    insert into sign_in_attempt_window as w (key, attempts, window_start)
    select key, 1, now() from unnest(${keys}::text[]) as key
    on conflict (key) do update set
      attempts = case when w.window_start <= now() - ${window} then 1 else w.attempts + 1 end,
      window_start = case when w.window_start <= now() - ${window} then now() else w.window_start end
    returning key, attempts, window_start = now() as fresh,
      ceil(extract(epoch from window_start + ${window} - now()))::int as retry_after`.execute(db);
  // A new window somewhere: a good moment to drop the windows that have ended.
  if (rows.some((r) => r.fresh)) await sql`delete from sign_in_attempt_window where window_start <= now() - ${window}`.execute(db);

  const limitOf = (key: string): [Limit, number] => (key.startsWith("account:") ? ["account", ATTEMPTS_PER_ACCOUNT] : ["address", ATTEMPTS_PER_ADDRESS]);
  const over = rows.filter((r) => r.attempts > limitOf(r.key)[1]);
  const attempt = { email, ip, allowed: over.length === 0, retryAfterSeconds: Math.max(1, ...over.map((r) => r.retry_after)) };
  const newlyLocked = over.filter((r) => r.attempts === limitOf(r.key)[1] + 1).map((r) => limitOf(r.key)[0]);
  if (newlyLocked.length > 0) {
    await recordSignInEvent(db, "sign_in_locked", { email, ip, limits: newlyLocked, retryAfterSeconds: attempt.retryAfterSeconds });
  }
  return attempt;
}

/** A wrong email or password: the attempt stays counted, and the audit trail says so (never with the password). */
export async function signInFailed(db: DB, attempt: SignInAttempt): Promise<void> {
  await recordSignInEvent(db, "sign_in_failed", { email: attempt.email, ip: attempt.ip });
}

/** A success clears the account's count and gives the address its attempt back. */
export async function signInSucceeded(db: DB, attempt: SignInAttempt): Promise<void> {
  await db.deleteFrom("sign_in_attempt_window").where("key", "=", accountKey(attempt.email)).execute();
  if (attempt.ip) {
    await db
      .updateTable("sign_in_attempt_window")
      .set((eb) => ({ attempts: sql`greatest(${eb.ref("attempts")} - 1, 0)` }))
      .where("key", "=", addressKey(attempt.ip))
      .execute();
  }
}

/** "Too many sign-in attempts. Try again in 15 minutes." */
export function tooManyAttemptsMessage(retryAfterSeconds: number): string {
  const minutes = Math.ceil(retryAfterSeconds / 60);
  return `Too many sign-in attempts. Try again in ${minutes} ${minutes === 1 ? "minute" : "minutes"}.`;
}
