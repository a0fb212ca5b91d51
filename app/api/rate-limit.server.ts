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

/** The largest block of a window's requests one process leases at once; see takeRequest. */
const MAX_LEASE = 100;

/** A block of the current window's requests this process holds for a tenant: numbers `next` to `end` are its to grant. */
interface Lease {
  limit: number;
  /** The window's start, in milliseconds of the database's clock. */
  windowStart: number;
  next: number;
  end: number;
  /** The database's clock minus this process's, as of the lease, so every process agrees on the window. */
  clockOffset: number;
  /** How many numbers the block had. */
  size: number;
  /** The block leased ahead while this one still had numbers, granted when it runs out. */
  then?: Lease;
}
const leases = new Map<string, Lease>();
const leasing = new Map<string, Promise<void>>();

/**
 * Counts one request against the tenant's hourly window. Requests are
 * numbered 1 to the limit per window in the window's row; a process leases
 * blocks of numbers with one UPDATE under the row's lock and grants them one
 * by one, so with a limit of N at most N requests of a window pass across any
 * number of web processes, each with its own number (and so its own
 * `remaining`). A block is at most a tenth of what remains (at most
 * MAX_LEASE), one number at a time once fewer than 20 remain. A process that
 * stops getting a tenant's requests keeps its unused numbers until the window
 * ends, which may refuse others up to that block's size before the limit.
 * While a full block is half used, the next is leased in the background, so
 * a busy tenant's requests do not all wait for the database every MAX_LEASE
 * requests; near the limit, where blocks are smaller, nothing is leased ahead.
 */
export async function takeRequest(tenantId: string, limits: TenantLimits): Promise<RateLimitState> {
  const limit = limits.api_requests_per_hour ?? DEFAULT_REQUESTS_PER_HOUR;
  for (;;) {
    const lease = leases.get(tenantId);
    const now = Date.now() + (lease?.clockOffset ?? 0);
    // A changed limit or a new window needs a new lease; the old one's numbers are not granted.
    if (lease && lease.limit === limit && now < lease.windowStart + 3_600_000) {
      const resetSeconds = Math.max(1, Math.ceil((lease.windowStart + 3_600_000 - now) / 1000));
      const state = { policy: "requests", limit, resetSeconds, nowSeconds: Math.floor(now / 1000), windowSeconds: 3600 } as const;
      if (lease.next <= lease.end) {
        if (lease.size === MAX_LEASE && lease.end - lease.next === MAX_LEASE / 2 && !leasing.has(tenantId)) {
          // Nothing waits on a lease ahead unless the block runs out first; those requests then see its error, if any.
          startLease(tenantId, limit).catch(() => {});
        }
        return { ...state, remaining: limit - lease.next++, allowed: true };
      }
      if (lease.then) {
        leases.set(tenantId, lease.then);
        continue;
      }
      // An empty lease of a full window: it stays full, since numbers are never handed back.
      if (lease.end >= limit) return { ...state, remaining: 0, allowed: false };
    }
    await (leasing.get(tenantId) ?? startLease(tenantId, limit));
  }
}

/** One lease at a time per tenant; the requests that wait share it. */
function startLease(tenantId: string, limit: number): Promise<void> {
  const pending = leaseRequests(tenantId, limit).finally(() => leasing.delete(tenantId));
  leasing.set(tenantId, pending);
  return pending;
}

async function leaseRequests(tenantId: string, limit: number): Promise<void> {
  const block = (taken: unknown) => sql<number>`greatest(1, least(${MAX_LEASE}, (${limit}::int - ${taken}) / 10))`;
  const { rows } = await sql<{ requests: number | null; leased: number | null; now: string; window_start: string }>`
    with clock as (select now() as now, date_trunc('hour', now()) as window_start),
    leased as (
      insert into api_rate_window as w (tenant_id, window_start, requests, leased)
      select ${tenantId}, window_start, ${block(0)}, ${block(0)} from clock
      on conflict (tenant_id, window_start) do update set requests = w.requests + ${block(sql.ref("w.requests"))}, leased = ${block(sql.ref("w.requests"))}
        where w.requests < ${limit}
      returning requests, leased
    )
    select (select requests from leased) as requests, (select leased from leased) as leased,
           extract(epoch from clock.now)::float8::text as now, extract(epoch from clock.window_start)::float8::text as window_start
    from clock`.execute(getCountersDb());
  const row = rows[0];
  const end = row.requests ?? limit; // a full window leases nothing
  const start = row.requests === null ? end + 1 : end - row.leased! + 1;
  const lease: Lease = { limit, windowStart: Number(row.window_start) * 1000, next: start, end, clockOffset: Number(row.now) * 1000 - Date.now(), size: end - start + 1 };
  const current = leases.get(tenantId);
  // Leased ahead: after the block in hand, unless a new window or limit makes that one void.
  if (current && current.limit === limit && current.windowStart === lease.windowStart && current.next <= current.end) current.then = lease;
  else leases.set(tenantId, lease);
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
