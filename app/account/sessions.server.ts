import type { DB } from "../../db/client";
import { forgetCachedSessions, getAuth, type SessionUser } from "../auth/auth.server";
import { recordAccountEvent } from "./account-events.server";

export interface SessionRow {
  id: string;
  userAgent: string | null;
  ipAddress: string | null;
  createdAt: Date;
  updatedAt: Date;
  expiresAt: Date;
  current: boolean;
}

/**
 * The user's sessions that have not expired, most recently active first, the
 * one this request came with marked. Read from the table rather than
 * better-auth's list-sessions, which refuses sessions older than a day.
 */
export async function listSessions(db: DB, user: SessionUser, request: Request): Promise<SessionRow[]> {
  const current = await getAuth().api.getSession({ headers: request.headers });
  const rows = await db
    .selectFrom("session")
    .where("userId", "=", user.id)
    .where("expiresAt", ">", new Date())
    .select(["id", "userAgent", "ipAddress", "createdAt", "updatedAt", "expiresAt"])
    .orderBy("updatedAt", "desc")
    .execute();
  return rows.map((r) => ({ ...r, current: r.id === current?.session.id }));
}

async function countSessions(db: DB, userId: string): Promise<number> {
  const { n } = await db.selectFrom("session").where("userId", "=", userId).where("expiresAt", ">", new Date())
    .select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow();
  return Number(n);
}

/**
 * Ends the user's sessions through better-auth: `others` keeps this one,
 * `all` ends this one too. Audited with which, and how many ended.
 */
export async function signOutSessions(db: DB, user: SessionUser, request: Request, which: "others" | "all"): Promise<void> {
  const before = await countSessions(db, user.id);
  if (which === "others") await getAuth().api.revokeOtherSessions({ headers: request.headers });
  else await getAuth().api.revokeSessions({ headers: request.headers });
  forgetCachedSessions();
  const ended = before - (await countSessions(db, user.id));
  await recordAccountEvent(db, "sessions_revoked", user, request, { which, sessionsEnded: ended });
}
