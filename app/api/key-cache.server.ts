import { notifiedCache } from "../lib/notified-cache.server";

// API keys as last read from the database, by key hash, so most requests
// authenticate without a round trip. What a cached key may do changes only
// when a row behind it changes, and every such change notifies this channel
// (triggers of db/migrations/20261204_1100_api_key_invalidation.ts).
const cache = notifiedCache<unknown>("api_key_rights", { maxEntries: 10_000, maxAgeMs: 60_000 });

/** The cache's generation, to pass to rememberKey after reading; starts listening on first use. */
export const keyCacheGeneration = (): number => cache.generation();

/** A key's cached value, unless absent or older than the backstop. */
export const cachedKey = <T>(hash: string, now = Date.now()): T | undefined => cache.get(hash, now) as T | undefined;

/** Caches a key read at `readGeneration`, unless the cache was emptied since or is not listening. */
export const rememberKey = (hash: string, value: unknown, readGeneration: number): void => cache.remember(hash, value, readGeneration);

/**
 * Empties this process's cache at once: called by the changes this portal makes to what keys may do
 * (revocation, roles, removals, archiving), so the next request here does not wait for the notification.
 */
export const forgetCachedKeys = (): void => cache.forget();

/** Whether keys are being cached: the listener listens. */
export const keyCacheListening = (): boolean => cache.listening();

/** Resolves once this process has heard every key change committed before the call (for tests). */
export const keyCacheSettled = (): Promise<void> => cache.settled();
