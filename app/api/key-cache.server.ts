import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { listenTo } from "../../db/client";
import { getDb } from "../lib/db.server";

// API keys as last read from the database, by key hash, so most requests
// authenticate without a round trip. What a cached key may do changes only
// when a row behind it changes, and every such change notifies this channel
// (triggers of db/migrations/20261204_1100_api_key_invalidation.ts): each
// notification empties the cache, in every web process. Changes are rare, so
// one flag for all is simpler than tracking which keys a change touches.
const CHANNEL = "api_key_rights";
const MAX_KEYS = 10_000;
/** A backstop: an entry is read again after this long even if no notification came (a silently dead connection). */
const MAX_AGE_MS = 60_000;

const entries = new Map<string, { value: unknown; cachedAt: number }>();
let state: "off" | "starting" | "listening" | "down" = "off";
/** Counts every emptying, so a read that began before one is not cached after it. */
let generation = 0;
const syncs = new Map<string, () => void>();

function forget() {
  entries.clear();
  generation++;
}

function listen() {
  state = "starting";
  listenTo(
    CHANNEL,
    (payload) => {
      if (payload.startsWith("sync:")) syncs.get(payload)?.();
      else forget();
    },
    (next) => {
      // Whatever changed while not listening went unheard: forget all, and cache nothing until listening again.
      forget();
      state = next === "closed" ? "off" : next;
      if (next !== "listening") for (const done of syncs.values()) done();
    },
  );
}

/** The cache's generation, to pass to rememberKey after reading; starts listening on first use. */
export function keyCacheGeneration(): number {
  if (state === "off") listen();
  return generation;
}

/** A key's cached value, unless absent or older than the backstop. */
export function cachedKey<T>(hash: string, now = Date.now()): T | undefined {
  const entry = entries.get(hash);
  if (!entry) return undefined;
  entries.delete(hash);
  if (now - entry.cachedAt > MAX_AGE_MS) return undefined;
  entries.set(hash, entry); // most recently used last, so the oldest go first when full
  return entry.value as T;
}

/** Caches a key read at `readGeneration`, unless the cache was emptied since or is not listening. */
export function rememberKey(hash: string, value: unknown, readGeneration: number): void {
  if (state !== "listening" || readGeneration !== generation) return;
  entries.delete(hash);
  if (entries.size >= MAX_KEYS) entries.delete(entries.keys().next().value!);
  entries.set(hash, { value, cachedAt: Date.now() });
}

/**
 * Empties this process's cache at once: called by the changes this portal makes to what keys may do
 * (revocation, roles, removals, archiving), so the next request here does not wait for the notification.
 */
export function forgetCachedKeys(): void {
  forget();
}

/** Whether keys are being cached: the listener listens. */
export function keyCacheListening(): boolean {
  return state === "listening";
}

/**
 * Resolves once this process has heard every notification committed before
 * the call: PostgreSQL delivers them in commit order, so hearing one sent now
 * means the earlier ones were heard. For tests that change a key's rights and
 * at once call the API in this process.
 */
export async function keyCacheSettled(): Promise<void> {
  if (state !== "listening") return;
  const id = `sync:${randomUUID()}`;
  const heard = new Promise<void>((resolve) => syncs.set(id, resolve));
  await sql`select pg_notify(${CHANNEL}, ${id})`.execute(getDb());
  await heard;
  syncs.delete(id);
}
