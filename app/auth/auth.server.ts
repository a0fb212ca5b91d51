import { betterAuth } from "better-auth";
import { organization } from "better-auth/plugins/organization";
import { getDb } from "../../db/client";
import { CLIENT_IP_HEADER } from "../lib/client.server";
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

export async function getSessionUser(request: Request): Promise<SessionUser | null> {
  const session = await getAuth().api.getSession({ headers: request.headers });
  if (!session) return null;
  const { id, name, email } = session.user;
  return { id, name, email };
}

/** The Set-Cookie headers of a better-auth response, to pass on with our redirect. */
export function cookiesOf(response: Response): Headers {
  const headers = new Headers();
  for (const cookie of response.headers.getSetCookie()) headers.append("Set-Cookie", cookie);
  return headers;
}
