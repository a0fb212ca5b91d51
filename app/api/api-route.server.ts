import { randomUUID } from "node:crypto";
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import type { DB } from "../../db/client";
import { buildAbility, type Permission } from "../auth/permissions";
import { authorize, type Requester } from "../auth/requester";
import { clientOf } from "../lib/client.server";
import { getDb } from "../lib/db.server";
import { AppError } from "../lib/errors";
import { parseJsonBody, readBodyText } from "./body.server";
import { claimIdempotencyKey, requestHash, type Claim } from "./idempotency.server";
import { authenticateApiKey } from "./key-auth.server";
import { rateLimitHeaders, takeExportToken, takeRequest, type RateLimitState, type TenantLimits } from "./rate-limit.server";

export { parseBody, parseQuery } from "./api-params.server";

export interface ApiContext {
  db: DB;
  request: Request;
  url: URL;
  params: Record<string, string | undefined>;
  requestId: string;
  tenant: { id: string; slug: string; organizationId: string; orgSlug: string };
  key: { id: string; name: string; permissions: Permission[] };
  /** The key as the service functions see it: its tenant, its rights of the moment, and who and where for the audit trail. */
  requester: Requester;
  /** The parsed JSON body of a POST or PATCH (undefined when empty). */
  body: unknown;
  /** Spends one token of the tenant's export bucket: 429 when it is empty. */
  spendExportToken(): Promise<void>;
}

export interface ApiResult {
  status: number;
  body?: unknown;
  /** Sent as it is instead of `body` as JSON: a file. */
  text?: string;
  headers?: Record<string, string>;
}

/** One method of an endpoint: the permission it needs, checked before anything else runs or replays, and its work. */
export interface Endpoint {
  permission: Permission;
  handle(ctx: ApiContext): Promise<ApiResult>;
}

type Method = "GET" | "POST" | "PATCH" | "DELETE";
type Headers = Record<string, string>;

function json(status: number, body: unknown, headers: Headers): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store", ...headers },
  });
}

async function authenticate(db: DB, request: Request) {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "");
  const key = match ? await authenticateApiKey(db, match[1]) : null;
  // Missing, malformed, unknown, revoked and expired keys, and keys whose creator left, look the same from outside.
  if (!key) throw new AppError("UNAUTHORIZED", "Send a valid API key as `Authorization: Bearer <key>`.");
  return key;
}

function limited(state: RateLimitState): AppError {
  const what = state.policy === "exports" ? `at most ${state.limit} exports in a burst` : `${state.limit} requests per hour`;
  return new AppError("RATE_LIMITED", `Rate limit reached for this tenant (${what}). Retry after ${state.resetSeconds} seconds.`, {
    retryAfter: state.resetSeconds,
  });
}

function endpointFor<E>(endpoints: Partial<Record<Method, E>>, request: Request, headers: Headers): E {
  const method = request.method.toUpperCase();
  const endpoint = endpoints[method as Method] ?? (method === "HEAD" ? endpoints.GET : undefined);
  if (endpoint) return endpoint;
  headers.Allow = Object.keys(endpoints).join(", ");
  throw new AppError("METHOD_NOT_ALLOWED", `${request.method} is not supported here; use ${headers.Allow}.`, { allow: Object.keys(endpoints) });
}

/** The error in the API's one shape; anything but an AppError is logged and answered with only the request id. */
function errorResponse(thrown: unknown, request: Request, requestId: string, headers: Headers): Response {
  const body = (code: string, message: string, details: Record<string, unknown>) => ({ error: { code, message, details, requestId } });
  if (!(thrown instanceof AppError)) {
    console.error(`[api] ${requestId} ${request.method} ${new URL(request.url).pathname} failed:`, thrown instanceof Error ? thrown.message : thrown);
    return json(500, body("INTERNAL", `Something went wrong on our side. Quote request id ${requestId} if you contact support.`, {}), headers);
  }
  if (thrown.code === "RATE_LIMITED") headers["Retry-After"] = String(thrown.details.retryAfter);
  if (thrown.code === "UNAUTHORIZED") headers["WWW-Authenticate"] = 'Bearer realm="exportal"';
  const { fieldErrors, ...rest } = thrown.details;
  const [first] = Object.entries(fieldErrors ?? {});
  // Shared validation says "not valid"; a program also wants the field and the rule in the message.
  const message = first && !thrown.message.includes(first[0]) ? `${thrown.message} ${first[0]}: ${first[1]}` : thrown.message;
  return json(thrown.status, body(thrown.code, message, fieldErrors ? { fields: fieldErrors, ...rest } : rest), headers);
}

/** The context a handler works with, for an authenticated key. */
function contextOf(db: DB, request: Request, params: ApiContext["params"], requestId: string, key: Awaited<ReturnType<typeof authenticate>>, limits: TenantLimits, headers: Headers): Omit<ApiContext, "body"> {
  const tenant = { id: key.tenant.id, slug: key.tenant.slug, organizationId: key.tenant.organizationId, orgSlug: key.tenant.orgSlug };
  const actor = { userId: null, apiKeyId: key.keyId, label: `API key ${key.name}`, ...clientOf(request) };
  return {
    db,
    request,
    url: new URL(request.url),
    params,
    requestId,
    tenant,
    key: { id: key.keyId, name: key.name, permissions: key.permissions },
    requester: { tenantId: tenant.id, organizationId: tenant.organizationId, actor, ability: buildAbility(key.permissions), keyCreatorUserId: key.createdByUserId },
    async spendExportToken() {
      const bucket = await takeExportToken(db, tenant.id, limits);
      if (!bucket.allowed) {
        Object.assign(headers, rateLimitHeaders(bucket));
        throw limited(bucket);
      }
    },
  };
}

/**
 * A `/api/v1` resource route: request id, API key, tenant rate limit, method,
 * the endpoint's permission, body limit and JSON, Idempotency-Key on POST,
 * and errors in one shape. The permission is checked before a stored
 * response is replayed, and stored responses belong to the key that made
 * them. Export it as both the route's loader and its action, so every method
 * gets an answer in the API's shape.
 */
export function apiRoute(endpoints: Partial<Record<Method, Endpoint>>) {
  return async ({ request, params }: LoaderFunctionArgs | ActionFunctionArgs): Promise<Response> => {
    const requestId = randomUUID();
    const headers: Headers = { "X-Request-Id": requestId };
    let claim: Extract<Claim, { kind: "new" }> | undefined;
    try {
      const db = getDb();
      const key = await authenticate(db, request);
      const limit = await takeRequest(key.tenant.id, key.tenant.limits);
      Object.assign(headers, rateLimitHeaders(limit));
      if (!limit.allowed) throw limited(limit);

      const endpoint = endpointFor(endpoints, request, headers);
      const ctx = contextOf(db, request, params, requestId, key, key.tenant.limits, headers);
      authorize(ctx.requester, endpoint.permission);

      const isPost = request.method.toUpperCase() === "POST";
      const hasBody = isPost || request.method.toUpperCase() === "PATCH";
      const text = hasBody ? await readBodyText(request) : "";
      const body = hasBody ? parseJsonBody(request, text) : undefined;
      const idempotencyKey = isPost ? request.headers.get("idempotency-key") : null;
      if (idempotencyKey !== null) {
        const claimed = await claimIdempotencyKey(db, { tenantId: key.tenant.id, apiKeyId: key.keyId }, idempotencyKey, requestHash("POST", ctx.url.pathname, text));
        if (claimed.kind === "replay") return json(claimed.response.status, claimed.response.body, { ...headers, "Idempotent-Replayed": "true" });
        claim = claimed;
      }

      const result = await endpoint.handle({ ...ctx, body });
      if (claim && result.status < 300) await claim.finish({ status: result.status, body: result.body });
      else if (claim) await claim.release();
      if (result.text !== undefined) {
        return new Response(result.text, { status: result.status, headers: { "Cache-Control": "no-store", ...headers, ...result.headers } });
      }
      return json(result.status, result.body, { ...headers, ...result.headers });
    } catch (thrown) {
      if (claim) await claim.release().catch(() => {});
      return errorResponse(thrown, request, requestId, headers);
    }
  };
}

/**
 * A public `/api/v1` resource route: no key, no tenant and so no rate limit,
 * for what anyone may read (the manifest's public key). It keeps the rest of
 * the API's frame: request id, 405 with Allow for other methods, errors in
 * one shape. Export it as both the route's loader and its action.
 */
export function publicApiRoute(endpoints: Partial<Record<Method, (request: Request) => Promise<ApiResult>>>) {
  return async ({ request }: LoaderFunctionArgs | ActionFunctionArgs): Promise<Response> => {
    const requestId = randomUUID();
    const headers: Headers = { "X-Request-Id": requestId };
    try {
      const result = await endpointFor(endpoints, request, headers)(request);
      return json(result.status, result.body, { ...headers, ...result.headers });
    } catch (thrown) {
      return errorResponse(thrown, request, requestId, headers);
    }
  };
}
