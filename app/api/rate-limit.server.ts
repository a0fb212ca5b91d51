import { sql } from "kysely";
import { getCountersDb, type DB } from "../../db/client";

export const DEFAULT_REQUESTS_PER_HOUR = 1000;
export const DEFAULT_EXPORTS_PER_HOUR = 300;
export const DEFAULT_EXPORT_BURST = 10;

export interface RateLimitState {
  policy: "requests" | "exports";
  limit: number;
  remaining: number;
  /** Seconds until the limit has room again (the window's end for requests). */
  resetSeconds: number;
  /** The current time as the database saw it, in Unix seconds, so every header agrees. */
  nowSeconds: number;
  /** Policy window in seconds, for `RateLimit-Policy`. */
  windowSeconds: number;
  allowed: boolean;
}

export interface TenantLimits {
  api_requests_per_hour: number | null;
  api_exports_per_hour: number | null;
  api_export_burst: number | null;
}

/**
 * Counts one request against the tenant's hourly window. The database's row
 * lock orders concurrent requests, and a full window is not incremented, so
 * with a limit of N exactly N requests of a window pass, across any number of
 * web processes.
 */
export async function takeRequest(tenantId: string, limits: TenantLimits): Promise<RateLimitState> {
  const limit = limits.api_requests_per_hour ?? DEFAULT_REQUESTS_PER_HOUR;
  const { rows } = await sql<{ requests: number | null; now: string; reset: number }>`
    with clock as (select now() as now, date_trunc('hour', now()) as window_start),
    counted as (
      insert into api_rate_window (tenant_id, window_start, requests)
      select ${tenantId}, window_start, 1 from clock
      on conflict (tenant_id, window_start) do update set requests = api_rate_window.requests + 1
        where api_rate_window.requests < ${limit}
      returning requests
    )
    select (select requests from counted) as requests,
           extract(epoch from clock.now)::float8::text as now,
           ceil(extract(epoch from clock.window_start + interval '1 hour' - clock.now))::int as reset
    from clock`.execute(getCountersDb());
  const row = rows[0];
  const allowed = row.requests !== null;
  return {
    policy: "requests",
    limit,
    remaining: allowed ? limit - row.requests! : 0,
    resetSeconds: Math.max(1, row.reset),
    nowSeconds: Math.floor(Number(row.now)),
    windowSeconds: 3600,
    allowed,
  };
}

/**
 * Takes one token from the tenant's export bucket: up to `burst` at once,
 * refilled at `perHour` an hour. Refill and take happen in one statement
 * under the row's lock.
 */
export async function takeExportToken(db: DB, tenantId: string, limits: TenantLimits): Promise<RateLimitState> {
  const exportsPerHour = limits.api_exports_per_hour ?? DEFAULT_EXPORTS_PER_HOUR;
  const burst = limits.api_export_burst ?? DEFAULT_EXPORT_BURST;
  const perSecond = exportsPerHour / 3600;
  await sql`
    insert into api_token_bucket (tenant_id, bucket, tokens, refilled_at)
    values (${tenantId}, 'exports', ${burst}, now())
    on conflict do nothing`.execute(db);
  const { rows } = await sql<{ before: number; after: number; now: string }>`
    with current as (
      select tokens, refilled_at from api_token_bucket where tenant_id = ${tenantId} and bucket = 'exports' for update
    ),
    refilled as (
      -- now() is when this transaction began, which may be before a concurrent one that took a token
      -- and committed first: time never runs backwards here, or the bucket would drain below empty.
      select least(${burst}::float8, tokens + greatest(0, extract(epoch from now() - refilled_at)) * ${perSecond}::float8) as tokens,
             greatest(refilled_at, now()) as refilled_at
      from current
    ),
    taken as (
      update api_token_bucket b set tokens = refilled.tokens - 1, refilled_at = refilled.refilled_at
      from refilled
      where b.tenant_id = ${tenantId} and b.bucket = 'exports' and refilled.tokens >= 1
      returning b.tokens
    )
    select refilled.tokens as before, coalesce((select tokens from taken), refilled.tokens) as after,
           extract(epoch from now())::float8::text as now
    from refilled`.execute(db);
  const { before, after, now } = rows[0];
  const allowed = before >= 1;
  // Seconds until one whole token is back (when refused), or until the bucket is full again.
  const resetSeconds = Math.max(1, Math.ceil(((allowed ? burst - after : 1 - after) / perSecond)));
  return {
    policy: "exports",
    limit: burst,
    remaining: Math.floor(after),
    resetSeconds,
    nowSeconds: Math.floor(Number(now)),
    windowSeconds: Math.round(3600 * (burst / exportsPerHour)),
    allowed,
  };
}

/** The headers every API response carries about the limit that applies. */
export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  const name = state.policy === "requests" ? "hourly" : "exports";
  return {
    "X-RateLimit-Limit": String(state.limit),
    "X-RateLimit-Remaining": String(state.remaining),
    "X-RateLimit-Reset": String(state.nowSeconds + state.resetSeconds),
    "RateLimit-Policy": `"${name}";q=${state.limit};w=${state.windowSeconds}`,
    RateLimit: `"${name}";r=${state.remaining};t=${state.resetSeconds}`,
  };
}

/** Forgets windows that ended and idempotency keys past their 24 hours. */
export async function pruneApiState(db: DB): Promise<void> {
  await db.deleteFrom("api_rate_window").where("window_start", "<", sql<Date>`now() - interval '2 hours'`).execute();
  await db.deleteFrom("api_idempotency_key").where("created_at", "<", sql<Date>`now() - interval '24 hours'`).execute();
}
