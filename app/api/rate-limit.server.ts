import { sql } from "kysely";
import { getCountersDb, listenTo, type DB } from "../../db/client";

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
  /** Once the window is fully leased: this process asked the others for their unused numbers. */
  asked?: boolean;
  /** Once the window is fully leased: no handed-back number was left, as of `returnsHeard`. */
  returnsGoneAt?: number;
}
const leases = new Map<string, Lease>();
const leasing = new Map<string, Promise<void>>();

/** Where processes ask each other for unused numbers ("ask:<tenant>") and say they handed some back ("returned:<tenant>"). */
const RETURNS_CHANNEL = "api_rate_returns";
/** How long a refused request waits for numbers the others hand back, once per window and process. */
const ASK_WAIT_MS = 250;
let listeningForReturns = false;
/** How many "returned" notifications this process heard: a take that found none is stale once this moved on. */
let returnsHeard = 0;
/** Requests waiting in askForReturns, woken by the first hand-back for their tenant. */
const waiting = new Set<{ tenantId: string; wake: () => void }>();

/**
 * Counts one request against the tenant's hourly window. Requests are
 * numbered 1 to the limit per window in the window's row; a process leases
 * blocks of numbers with one UPDATE under the row's lock and grants them one
 * by one, so with a limit of N at most N requests of a window pass across any
 * number of web processes, each with its own number (and so its own
 * `remaining`). A block is at most a tenth of what remains (at most
 * MAX_LEASE), one number at a time once fewer than 20 remain. While a full
 * block is half used, the next is leased in the background, so a busy
 * tenant's requests do not all wait for the database every MAX_LEASE
 * requests; near the limit, where blocks are smaller, nothing is leased ahead.
 * Once every number is leased, other processes may still hold some unused:
 * see takeReturned.
 */
export async function takeRequest(tenantId: string, limits: TenantLimits): Promise<RateLimitState> {
  const limit = limits.api_requests_per_hour ?? DEFAULT_REQUESTS_PER_HOUR;
  listenForReturns();
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
      if (lease.end >= limit) return takeReturned(tenantId, lease, state);
    }
    await (leasing.get(tenantId) ?? startLease(tenantId, limit));
  }
}

/**
 * A request once every number of the window is leased: it gets a number
 * another process handed back, one at a time, or is refused. The first time
 * this process finds none in a window, it asks every process to hand back what
 * it holds unused (a process that stopped getting the tenant's requests would
 * otherwise keep it to the window's end) and waits up to ASK_WAIT_MS for it.
 * After that, refusals cost nothing until a process says it handed some back.
 * A process that has handed back, or found the window full, holds no numbers
 * of it any more: each one it grants is taken for the request at hand.
 */
async function takeReturned(tenantId: string, lease: Lease, state: Omit<RateLimitState, "remaining" | "allowed">): Promise<RateLimitState> {
  const refused = { ...state, remaining: 0, allowed: false };
  if (lease.returnsGoneAt === returnsHeard) return refused;
  const heard = returnsHeard;
  let number = await takeOneReturned(tenantId);
  if (number === null && !lease.asked) {
    lease.asked = true;
    await askForReturns(tenantId);
    number = await takeOneReturned(tenantId);
  }
  if (number === null) {
    // Only if no hand-back was heard meanwhile: that one may not have been committed when this looked.
    if (returnsHeard === heard) lease.returnsGoneAt = heard;
    return refused;
  }
  return { ...state, remaining: state.limit - number, allowed: true };
}

async function takeOneReturned(tenantId: string): Promise<number | null> {
  const { rows } = await sql<{ number: number }>`
    update api_rate_window set returned_taken = returned_taken + 1
    where tenant_id = ${tenantId} and window_start = date_trunc('hour', now()) and returned_taken < cardinality(returned)
    returning returned[returned_taken] as number`.execute(getCountersDb());
  return rows[0]?.number ?? null;
}

/** Asks every process for the tenant's unused numbers; resolves when one says it handed some back, or after ASK_WAIT_MS. */
async function askForReturns(tenantId: string): Promise<void> {
  const waiter = { tenantId, wake: () => {} };
  const answered = new Promise<void>((resolve) => (waiter.wake = resolve));
  waiting.add(waiter);
  const timer = setTimeout(waiter.wake, ASK_WAIT_MS);
  try {
    await sql`select pg_notify(${RETURNS_CHANNEL}, ${`ask:${tenantId}`})`.execute(getCountersDb());
    await answered;
  } finally {
    clearTimeout(timer);
    waiting.delete(waiter);
  }
}

/** Hands back the numbers of the tenant's window this process leased and did not grant, if any. */
async function handBack(tenantId: string): Promise<void> {
  const lease = leases.get(tenantId);
  const numbers: number[] = [];
  for (let block = lease; block; block = block.then) {
    for (let n = block.next; n <= block.end; n++) numbers.push(n);
    block.next = block.end + 1;
  }
  if (!lease || numbers.length === 0) return;
  lease.then = undefined;
  // Into the window they were leased in: after the hour they are void.
  await sql`
    with handed as (
      update api_rate_window set returned = returned || ${`{${numbers.join(",")}}`}::int[]
      where tenant_id = ${tenantId} and window_start = to_timestamp(${lease.windowStart / 1000})
      returning 1
    )
    select pg_notify(${RETURNS_CHANNEL}, ${`returned:${tenantId}`}) from handed`.execute(getCountersDb());
}

/** Starts listening for asks and hand-backs, once per process (again after closeDb). */
function listenForReturns(): void {
  if (listeningForReturns) return;
  listeningForReturns = true;
  listenTo(
    RETURNS_CHANNEL,
    (payload) => {
      const [what, tenantId] = payload.split(":");
      if (what === "ask") {
        handBack(tenantId).catch((error: Error) => console.error(`[rate-limit] handing back unused requests failed: ${error.message}`));
      } else if (what === "returned") {
        returnsHeard++;
        for (const waiter of waiting) if (waiter.tenantId === tenantId) waiter.wake();
      }
    },
    (state) => {
      if (state === "closed") listeningForReturns = false;
    },
  );
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
