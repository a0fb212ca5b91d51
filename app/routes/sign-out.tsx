import { redirect, type ActionFunctionArgs } from "@remix-run/node";
import { cookiesOf, getAuth } from "~/auth/auth.server";

export async function action({ request }: ActionFunctionArgs) {
  const response = await getAuth().api.signOut({ headers: request.headers, asResponse: true });
  throw redirect("/sign-in", { headers: cookiesOf(response) });
}

export const loader = () => redirect("/");
