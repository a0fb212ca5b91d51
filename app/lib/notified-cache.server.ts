import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { listenTo } from "../../db/client";
import { getDb } from "./db.server";

/**
 * Rows as last read from the database, kept in this process so most requests
 * skip a round trip. Every change that can make an entry wrong notifies
 * `channel` from the database itself (triggers), and each notification
 * empties the cache in every process; changes are rare, so one flag for all
 * is simpler than tracking which entries a change touches; a change that is
 * frequent can say which entries it touches instead, by the payload
 * `prefix:<text>`: only the keys that start with <text> go. Nothing is cached
 * while the listener is not listening (what changed then went unheard).
 */
export interface NotifiedCache<T> {
  /** The cache's generation, to pass to `remember` after reading; starts listening on first use. */
  generation(): number;
  /** An entry, unless absent or older than the backstop. */
  get(key: string, now?: number): T | undefined;
  /** Caches a value read at `readGeneration`, unless the cache was emptied since or is not listening. */
  remember(key: string, value: T, readGeneration: number): void;
  /** Empties this process's cache at once: for the changes this process makes itself, so its next request does not wait for the notification. */
  forget(): void;
  /** Whether entries are being cached: the listener listens. */
  listening(): boolean;
  /**
   * Resolves once this process has heard every notification committed before
   * the call: PostgreSQL delivers them in commit order, so hearing one sent now
   * means the earlier ones were heard. For tests that change a row and at once
   * read through the cache in this process.
   */
  settled(): Promise<void>;
}

// server.ts and the Remix build are bundled apart, so a process holds two copies of this module (and of
// the modules that make caches). Each copy's cache of one channel would listen on a connection of its own
// and hear a change at its own moment: the exports page middleware, keyed on the session cache it sees,
// kept a page the Remix copy rendered with a user it had not yet forgotten. So a process has one cache per
// channel, whichever copy asks first makes it, and every copy gets that one.
const CACHES = Symbol.for("exportal.notifiedCaches");
const processCaches = ((globalThis as { [CACHES]?: Map<string, NotifiedCache<unknown>> })[CACHES] ??= new Map());

/** `maxAgeMs` is a backstop: an entry is read again after that long even if no notification came (a silently dead connection). */
export function notifiedCache<T>(channel: string, options: { maxEntries: number; maxAgeMs: number }): NotifiedCache<T> {
  let cache = processCaches.get(channel);
  if (!cache) processCaches.set(channel, (cache = createCache(channel, options)));
  return cache as NotifiedCache<T>;
}

function createCache<T>(channel: string, { maxEntries, maxAgeMs }: { maxEntries: number; maxAgeMs: number }): NotifiedCache<T> {
  const entries = new Map<string, { value: T; cachedAt: number }>();
  let state: "off" | "starting" | "listening" | "down" = "off";
  /** Counts every emptying, so a read that began before one is not cached after it. */
  let generation = 0;
  const syncs = new Map<string, () => void>();

  function forget() {
    entries.clear();
    generation++;
  }

  function forgetPrefix(prefix: string) {
    for (const key of entries.keys()) if (key.startsWith(prefix)) entries.delete(key);
    generation++; // a read under way may be of those keys: it is not kept
  }

  function listen() {
    state = "starting";
    listenTo(
      channel,
      (payload) => {
        if (payload.startsWith("sync:")) syncs.get(payload)?.();
        else if (payload.startsWith("prefix:")) forgetPrefix(payload.slice("prefix:".length));
        else forget();
      },
      (next) => {
        forget();
        state = next === "closed" ? "off" : next;
        if (next !== "listening") for (const done of syncs.values()) done();
      },
    );
  }

  return {
    generation() {
      if (state === "off") listen();
      return generation;
    },
    get(key, now = Date.now()) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      entries.delete(key);
      if (now - entry.cachedAt > maxAgeMs) return undefined;
      entries.set(key, entry); // most recently used last, so the oldest go first when full
      return entry.value;
    },
    remember(key, value, readGeneration) {
      if (state !== "listening" || readGeneration !== generation) return;
      entries.delete(key);
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(key, { value, cachedAt: Date.now() });
    },
    forget,
    listening: () => state === "listening",
    async settled() {
      if (state !== "listening") return;
      const id = `sync:${randomUUID()}`;
      const heard = new Promise<void>((resolve) => syncs.set(id, resolve));
      await sql`select pg_notify(${channel}, ${id})`.execute(getDb());
      await heard;
      syncs.delete(id);
    },
  };
}
