import { redirect, type ActionFunctionArgs } from "@remix-run/node";
import { recordAuthEvent } from "~/account/account-events.server";
import { cookiesOf, forgetCachedSessions, getAuth, getSessionUser } from "~/auth/auth.server";
import { getDb } from "~/lib/db.server";

export async function action({ request }: ActionFunctionArgs) {
  // Who is leaving, read before the session ends; nobody signed in has nothing to record.
  const user = await getSessionUser(request);
  const response = await getAuth().api.signOut({ headers: request.headers, asResponse: true });
  forgetCachedSessions();
  if (user) await recordAuthEvent(getDb(), "sign_out", user, request);
  throw redirect("/sign-in", { headers: cookiesOf(response) });
}

export const loader = () => redirect("/");
