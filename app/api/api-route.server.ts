import { randomUUID } from "node:crypto";
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import type { z } from "zod";
import type { DB } from "../../db/client";
import { parseJsonBody, readBodyText } from "./body.server";
import { authenticateApiKey } from "./keys.server";
import { getDb } from "../lib/db.server";
import { AppError } from "../lib/errors";
import { fieldErrors } from "../lib/validation";
import type { Requester } from "../exports/exports.server";
import { claimIdempotencyKey, requestHash, type StoredResponse } from "./idempotency.server";
import { buildAbility, can, type Permission } from "../auth/permissions";
import { rateLimitHeaders, takeExportToken, takeRequest, type RateLimitState } from "./rate-limit.server";

export interface ApiContext {
  db: DB;
  request: Request;
  url: URL;
  params: Record<string, string | undefined>;
  requestId: string;
  tenant: { id: string; slug: string; organizationId: string; orgSlug: string };
  key: { id: string; name: string; permissions: Permission[] };
  requester: Requester;
  /** The parsed JSON body of a POST (undefined when empty). */
  body: unknown;
  /** Throws 403 naming the permission when the key lacks it. */
  require(permission: Permission): void;
}

export interface ApiResult {
  status: number;
  body?: unknown;
  /** Sent as it is instead of `body` as JSON: a file. */
  text?: string;
  headers?: Record<string, string>;
}

type Handler = (ctx: ApiContext) => Promise<ApiResult>;

interface Options {
  /** The POST creates exports, so it also spends a token from the tenant's export bucket. */
  createsExport?: boolean;
}

function errorBody(code: string, message: string, details: Record<string, unknown>, requestId: string) {
  return { error: { code, message, details, requestId } };
}

function json(status: number, body: unknown, headers: Record<string, string>): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store", ...headers },
  });
}

const UNAUTHORIZED = "Send a valid API key as `Authorization: Bearer <key>`.";

async function authenticate(db: DB, request: Request) {
  const header = request.headers.get("authorization") ?? "";
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  const key = match ? await authenticateApiKey(db, match[1]) : null;
  // Missing, malformed, unknown, revoked and expired keys look the same from outside.
  if (!key) throw new AppError("UNAUTHORIZED", UNAUTHORIZED);
  return key;
}

function limited(state: RateLimitState): AppError {
  const what = state.policy === "exports" ? `at most ${state.limit} exports in a burst` : `${state.limit} requests per hour`;
  return new AppError("RATE_LIMITED", `Rate limit reached for this tenant (${what}). Retry after ${state.resetSeconds} seconds.`, {
    retryAfter: state.resetSeconds,
  });
}

/**
 * A `/api/v1` resource route: request id, API key, tenant rate limit, method,
 * body limit and JSON, Idempotency-Key on POST, and errors in one shape. The
 * handlers only do their endpoint's work. Export it as both the route's loader
 * and its action, so every method gets an answer in the API's shape.
 */
export function apiRoute(handlers: { GET?: Handler; POST?: Handler }, options: Options = {}) {
  const handle = async ({ request, params }: LoaderFunctionArgs | ActionFunctionArgs): Promise<Response> => {
    const requestId = randomUUID();
    const headers: Record<string, string> = { "X-Request-Id": requestId };
    let release: (() => Promise<void>) | undefined;
    try {
      const db = getDb();
      const key = await authenticate(db, request);
      const { limits, ...tenant } = key.tenant;
      const limit = await takeRequest(tenant.id, limits);
      Object.assign(headers, rateLimitHeaders(limit));
      if (!limit.allowed) throw limited(limit);

      const method = request.method.toUpperCase() as "GET" | "POST";
      const handler = handlers[method] ?? (method === ("HEAD" as string) ? handlers.GET : undefined);
      if (!handler) {
        headers.Allow = Object.keys(handlers).join(", ");
        throw new AppError("METHOD_NOT_ALLOWED", `${request.method} is not supported here; use ${headers.Allow}.`, { allow: Object.keys(handlers) });
      }

      const url = new URL(request.url);
      const text = method === "POST" ? await readBodyText(request) : "";
      const body = method === "POST" ? parseJsonBody(request, text) : undefined;
      const ability = buildAbility(key.permissions);
      const ctx: ApiContext = {
        db,
        request,
        url,
        params,
        requestId,
        tenant,
        key: { id: key.keyId, name: key.name, permissions: key.permissions },
        requester: { tenantId: tenant.id, organizationId: tenant.organizationId, actor: { userId: null, apiKeyId: key.keyId, label: `API key ${key.name}` }, ability },
        body,
        require(permission) {
          if (!can(ability, permission)) {
            throw new AppError("FORBIDDEN", `This API key lacks the permission ${permission}.`, { permission });
          }
        },
      };

      const idempotencyKey = method === "POST" ? request.headers.get("idempotency-key") : null;
      let finish: ((response: StoredResponse) => Promise<void>) | undefined;
      if (idempotencyKey !== null) {
        const claim = await claimIdempotencyKey(db, tenant.id, idempotencyKey, requestHash(method, url.pathname, text));
        if (claim.kind === "replay") {
          return json(claim.response.status, claim.response.body, { ...headers, "Idempotent-Replayed": "true" });
        }
        ({ finish, release } = claim);
      }

      if (options.createsExport && method === "POST") {
        ctx.require("data.exports.create");
        const bucket = await takeExportToken(db, tenant.id, limits);
        if (!bucket.allowed) {
          Object.assign(headers, rateLimitHeaders(bucket));
          throw limited(bucket);
        }
      }

      const result = await handler(ctx);
      if (finish && result.status < 300) {
        await finish({ status: result.status, body: result.body });
        release = undefined;
      }
      if (release) await release();
      if (result.text !== undefined) {
        return new Response(result.text, { status: result.status, headers: { "Cache-Control": "no-store", ...headers, ...result.headers } });
      }
      return json(result.status, result.body, { ...headers, ...result.headers });
    } catch (thrown) {
      if (release) await release().catch(() => {});
      if (thrown instanceof AppError) {
        if (thrown.code === "RATE_LIMITED") headers["Retry-After"] = String(thrown.details.retryAfter);
        if (thrown.code === "UNAUTHORIZED") headers["WWW-Authenticate"] = 'Bearer realm="exportal"';
        const { fieldErrors, ...rest } = thrown.details;
        const [first] = Object.entries(fieldErrors ?? {});
        // Shared validation says "not valid"; a program also wants the field and the rule in the message.
        const message = first && !thrown.message.includes(first[0]) ? `${thrown.message} ${first[0]}: ${first[1]}` : thrown.message;
        return json(thrown.status, errorBody(thrown.code, message, fieldErrors ? { fields: fieldErrors, ...rest } : rest, requestId), headers);
      }
      // Unexpected: log it for us, tell the caller only the request id.
      console.error(`[api] ${requestId} ${request.method} ${new URL(request.url).pathname} failed:`, thrown instanceof Error ? thrown.message : thrown);
      return json(500, errorBody("INTERNAL", `Something went wrong on our side. Quote request id ${requestId} if you contact support.`, {}, requestId), headers);
    }
  };
  return handle;
}

/** Validates query parameters: 400 naming the parameter and the rule, unknown parameters included. */
export function parseQuery<S extends z.ZodType>(url: URL, schema: S): z.output<S> {
  const raw: Record<string, string | string[]> = {};
  for (const name of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(name);
    raw[name] = values.length > 1 ? values : values[0];
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue.code === "unrecognized_keys") {
    const names = issue.keys.join(", ");
    throw new AppError("INVALID_REQUEST", `Unknown query parameter ${names}.`, { parameter: issue.keys[0] });
  }
  const parameter = issue.path.map(String).join(".") || "query";
  throw new AppError("INVALID_REQUEST", `Invalid query parameter ${parameter}: ${issue.message}`, { parameter, rule: issue.message });
}

/** Validates a JSON body: 400 with each field at fault and its rule. */
export function parseBody<S extends z.ZodType>(body: unknown, schema: S): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const fields = fieldErrors(parsed.error, { fallback: "body" });
  const [first] = Object.entries(fields);
  throw new AppError("INVALID_REQUEST", `Invalid field ${first[0]}: ${first[1]}`, { fieldErrors: fields });
}
