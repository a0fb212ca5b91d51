import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import { authenticateApiKey } from "../../app/api/key-auth.server";
import { keyCacheListening, keyCacheSettled } from "../../app/api/key-cache.server";
import { createApiKey } from "../../app/api/keys.server";
import { ownerIn } from "../setup/api";

// This process's cache of API keys: what it serves without the database, and when it stops trusting itself.
async function newKey(name: string, expiresAt?: string) {
  return createApiKey(getDb(), await ownerIn("production"), { name, permissions: ["data.exports.read"], expiresAt });
}

/** Renames a key without notifying anyone (triggers off), so only a read of the database sees it. */
async function renameSilently(id: string, name: string) {
  await getDb().transaction().execute(async (trx) => {
    await sql`set local session_replication_role = replica`.execute(trx);
    await trx.updateTable("api_key").set({ name }).where("id", "=", id).execute();
  });
}

const nameOf = async (key: string, now?: Date) => (await authenticateApiKey(getDb(), key, now))?.name;

/** Authenticates the key once the cache listens, which caches it (the first key read starts the listener). */
async function cache(key: string) {
  await nameOf(key);
  await expect.poll(keyCacheListening).toBe(true);
  await nameOf(key);
}

describe("the API key cache", () => {
  it("serves a key without reading it again, until a change is notified", async () => {
    const { id, key } = await newKey("cached");
    await cache(key);
    await renameSilently(id, "renamed silently");
    expect(await nameOf(key)).toBe("cached");
    await getDb().updateTable("api_key").set({ name: "renamed" }).where("id", "=", id).execute();
    await keyCacheSettled();
    expect(await nameOf(key)).toBe("renamed");
  });

  it("checks expiry on every request from the cached row", async () => {
    const expiresAt = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const { key } = await newKey("expiring", expiresAt);
    await cache(key);
    expect(await nameOf(key)).toBe("expiring");
    expect(await nameOf(key, new Date(Date.parse(expiresAt) + 1000))).toBeUndefined();
  });

  it("does not empty itself for a key's last use, which is bookkeeping", async () => {
    const { id, key } = await newKey("busy");
    await cache(key);
    await renameSilently(id, "renamed silently");
    // Two minutes on, the key records its use: a write to its row that notifies no one.
    expect(await nameOf(key, new Date(Date.now() + 120_000))).toBe("busy");
    await keyCacheSettled();
    expect(await nameOf(key)).toBe("busy");
    const { last_used_at } = await getDb().selectFrom("api_key").select("last_used_at").where("id", "=", id).executeTakeFirstOrThrow();
    expect(last_used_at!.getTime()).toBeGreaterThan(Date.now() + 60_000);
  });

  it("forgets everything when its listening connection drops, and reads the database until it listens again", async () => {
    const { id, key } = await newKey("before the drop");
    await cache(key);
    await renameSilently(id, "read while down");
    await sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'exportal-listen' and datname = current_database()`.execute(getDb());
    await expect.poll(() => nameOf(key), { timeout: 2000, interval: 5 }).toBe("read while down");
    // Once it listens again (a second on), it caches again.
    await expect.poll(async () => {
      await keyCacheSettled();
      await renameSilently(id, "x");
      await nameOf(key);
      await renameSilently(id, "y");
      return nameOf(key);
    }, { timeout: 5000, interval: 200 }).toBe("x");
  });
});
