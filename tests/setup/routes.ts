import type { LoaderFunctionArgs } from "@remix-run/node";
import { getAuth } from "../../app/auth/auth.server";
import { DEMO_PASSWORD } from "../../db/seed";

const ORIGIN = "http://localhost:3000";

/** A session cookie for a demo user, from a real better-auth sign-in. */
export async function signIn(email: string, password = DEMO_PASSWORD): Promise<string> {
  const response = await getAuth().api.signInEmail({ body: { email, password }, asResponse: true });
  if (!response.ok) throw new Error(`sign-in of ${email} failed: ${response.status}`);
  return response.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
}

export function makeRequest(path: string, init: { cookie?: string; method?: string; form?: Record<string, string> } = {}): Request {
  const headers = new Headers();
  if (init.cookie) headers.set("Cookie", init.cookie);
  const method = init.method ?? (init.form ? "POST" : "GET");
  // A browser posts a form even when it has no fields.
  const body = init.form || method === "POST" ? new URLSearchParams(init.form) : undefined;
  return new Request(ORIGIN + path, { method, headers, body });
}

export interface RouteResult {
  status: number;
  headers: Headers;
  data: any;
}

type RouteFn = (args: LoaderFunctionArgs) => unknown;

/**
 * Calls a loader or action the way Remix does and normalizes what it returns
 * or throws (a Response, `data()` with a status, or a plain object).
 */
export async function callRoute(fn: RouteFn, request: Request, params: Record<string, string> = {}): Promise<RouteResult> {
  let outcome: unknown;
  try {
    outcome = await fn({ request, params, context: {} });
  } catch (thrown) {
    outcome = thrown;
  }
  if (outcome instanceof Response) {
    const text = await outcome.text();
    let data: unknown = text;
    try {
      data = JSON.parse(text);
    } catch {
    // not JSON: keep the text
  }
    return { status: outcome.status, headers: outcome.headers, data };
  }
  if (outcome && typeof outcome === "object" && (outcome as any).type === "DataWithResponseInit") {
    const { data, init } = outcome as { data: unknown; init?: ResponseInit };
    return { status: init?.status ?? 200, headers: new Headers(init?.headers), data };
  }
  if (outcome instanceof Error) throw outcome;
  return { status: 200, headers: new Headers(), data: outcome };
}

/** The requester a signed-in user is in one tenant, resolved by the same helper the routes use. */
export async function requesterFor(email: string, tenant: string, org = "acme-health") {
  const { requesterOf, requireTenant } = await import("../../app/auth/access.server");
  const cookie = await signIn(email);
  return requesterOf(await requireTenant(makeRequest(`/o/${org}/t/${tenant}/exports`, { cookie }), { org, tenant }));
}

/**
 * The demo's people in each role an administration route is tried as, seen
 * from Acme Health's Production tenant: who may act, who may only look, and
 * who must not learn it exists.
 */
export const ROLES = {
  owner: "owner@acme.test",
  orgAdmin: "admin@acme.test",
  tenantAdmin: "production-admin@acme.test",
  editor: "production-editor@acme.test",
  viewer: "production-viewer@acme.test",
  otherTenantAdmin: "staging-admin@acme.test",
  otherOrgOwner: "owner@globex.test",
} as const;
export type Role = keyof typeof ROLES;
