import { createHash } from "node:crypto";
import { betterAuth } from "better-auth";
import { organization } from "better-auth/plugins/organization";
import { getDb } from "../../db/client";
import { CLIENT_IP_HEADER } from "../lib/client.server";
import { notifiedCache } from "../lib/notified-cache.server";
import { getSecret } from "../lib/secrets.server";

function createAuth() {
  return betterAuth({
    appName: "Exportal",
    baseURL: process.env.BETTER_AUTH_URL,
    basePath: "/api/auth",
    secret: getSecret("auth"),
    database: { db: getDb(), type: "postgres" },
    // People join through their organization; there is no public sign-up.
    emailAndPassword: { enabled: true, disableSignUp: true },
    // Organizations are made by their operators (the seed, for the demo), not by whoever signs in.
    plugins: [organization({ allowUserToCreateOrganization: false })],
    // A session's address is the one server.ts resolved (socket, or a trusted proxy), not a header any client can send.
    advanced: { ipAddress: { ipAddressHeaders: [CLIENT_IP_HEADER] } },
    // Set-password links (better-auth's reset-password tokens) are kept only as hashes, like API keys.
    verification: { storeIdentifier: { default: "plain", overrides: { "reset-password:": "hashed" } } },
    telemetry: { enabled: false },
  });
}

let auth: ReturnType<typeof createAuth> | undefined;

/** better-auth, created on first use so it picks up the database the server opened. */
export function getAuth() {
  auth ??= createAuth();
  return auth;
}

export interface SessionUser {
  id: string;
  name: string;
  email: string;
}

// Signed-in users by their request's cookies (hashed), so most page requests skip better-auth's session
// lookup: a signature check and a query, about 2 ms of CPU, once per loader. Ending a session and changing
// or deleting a user notify this channel (db/migrations/20261205_1000_session_invalidation.ts); the portal's
// own sign-outs also empty this process's cache at once.
const sessions = notifiedCache<{ user: SessionUser; expiresAt: number }>("auth_sessions", { maxEntries: 10_000, maxAgeMs: 60_000 });

export async function getSessionUser(request: Request): Promise<SessionUser | null> {
  const cookie = request.headers.get("cookie");
  if (!cookie) return null;
  const key = createHash("sha256").update(cookie).digest("base64url");
  const cached = sessions.get(key);
  if (cached && cached.expiresAt > Date.now()) return cached.user;
  const generation = sessions.generation();
  const session = await getAuth().api.getSession({ headers: request.headers });
  if (!session) return null;
  const { id, name, email } = session.user;
  const user = { id, name, email };
  sessions.remember(key, { user, expiresAt: new Date(session.session.expiresAt).getTime() }, generation);
  return user;
}

/** Counts the emptyings of the session cache: what was rendered from a cached user is stale once it moves. */
export const sessionsGeneration = (): number => sessions.generation();

/** Forgets every cached session of this process: after the portal itself ends sessions. */
export const forgetCachedSessions = (): void => sessions.forget();

/** The Set-Cookie headers of a better-auth response, to pass on with our redirect. */
export function cookiesOf(response: Response): Headers {
  const headers = new Headers();
  for (const cookie of response.headers.getSetCookie()) headers.append("Set-Cookie", cookie);
  return headers;
}
