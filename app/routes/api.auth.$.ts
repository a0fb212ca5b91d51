import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { getAuth } from "~/auth/auth.server";

// better-auth's HTTP API, narrowed to what the portal uses. The portal signs in
// and out through its own routes, which call better-auth on the server (and
// limit sign-in attempts); its pages read members and organizations from our
// tables behind the portal's permissions. Everything else better-auth would
// answer (listing an organization's members with their emails, creating
// organizations, renaming oneself, signing in around the limit) is a 404.
const OPEN = new Set(["GET /api/auth/get-session"]);

function handle({ request }: LoaderFunctionArgs | ActionFunctionArgs) {
  const { pathname } = new URL(request.url);
  if (!OPEN.has(`${request.method} ${pathname}`)) return new Response("Not found", { status: 404 });
  return getAuth().handler(request);
}

export const loader = handle;
export const action = handle;
