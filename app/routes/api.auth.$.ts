import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { getAuth } from "~/auth/auth.server";

// better-auth's own endpoints (sessions, sign-in, organizations).
export const loader = ({ request }: LoaderFunctionArgs) => getAuth().handler(request);
export const action = ({ request }: ActionFunctionArgs) => getAuth().handler(request);
