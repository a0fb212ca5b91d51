import { createHash } from "node:crypto";
import { sql } from "kysely";
import type { DB } from "../../db/client";
import { AppError } from "../lib/errors";

const KEY = /^[\x21-\x7e]{1,255}$/;
// A request that has held its key this long without finishing is taken to have died.
const ABANDONED_AFTER = "5 minutes";

export interface StoredResponse {
  status: number;
  body: unknown;
}

export type Claim = { kind: "new"; finish: (response: StoredResponse) => Promise<void>; release: () => Promise<void> } | { kind: "replay"; response: StoredResponse };

/** What "the same request" means: method, path and body bytes. */
export function requestHash(method: string, path: string, body: string): string {
  return createHash("sha256").update(`${method} ${path}\n${body}`).digest("hex");
}

/**
 * Claims an Idempotency-Key for an API key. The first request with a key runs
 * and its successful response is stored; the same key and body within 24
 * hours replays that response; a different body is a 422; while the first is
 * still running, a 409. Responses belong to the API key that made them:
 * another key using the same Idempotency-Key runs on its own. The primary key
 * (API key, Idempotency-Key) settles races.
 */
export async function claimIdempotencyKey(db: DB, owner: { tenantId: string; apiKeyId: string }, key: string, hash: string): Promise<Claim> {
  if (!KEY.test(key)) {
    throw new AppError("INVALID_REQUEST", "The Idempotency-Key header must be 1 to 255 printable ASCII characters without spaces.", { header: "Idempotency-Key" });
  }
  const claimed = await sql<{ key: string }>`
    insert into api_idempotency_key (tenant_id, api_key_id, key, request_hash, state)
    values (${owner.tenantId}, ${owner.apiKeyId}, ${key}, ${hash}, 'in_flight')
    on conflict (api_key_id, key) do update
      set request_hash = excluded.request_hash, state = 'in_flight', response_status = null, response_body = null, created_at = now()
      where api_idempotency_key.created_at < now() - interval '24 hours'
         or (api_idempotency_key.state = 'in_flight' and api_idempotency_key.created_at < now() - interval '${sql.raw(ABANDONED_AFTER)}')
    returning key`.execute(db);
  const where = (q: any) => q.where("api_key_id", "=", owner.apiKeyId).where("key", "=", key);
  if (claimed.rows.length) {
    return {
      kind: "new",
      finish: async (response) => {
        await where(db.updateTable("api_idempotency_key").set({ state: "done", response_status: response.status, response_body: response.body as object })).execute();
      },
      // A failed request frees its key, so the client can retry with it.
      release: async () => {
        await where(db.deleteFrom("api_idempotency_key")).where("state", "=", "in_flight").execute();
      },
    };
  }
  const existing = await where(db.selectFrom("api_idempotency_key").selectAll()).executeTakeFirst();
  if (!existing) return claimIdempotencyKey(db, owner, key, hash); // released meanwhile: try again
  if (existing.request_hash !== hash) {
    throw new AppError("IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was used with a different request in the last 24 hours. Use a new key for a new request.", { header: "Idempotency-Key" });
  }
  if (existing.state === "in_flight") {
    throw new AppError("CONFLICT", "A request with this Idempotency-Key is still in progress. Retry after it finishes.", { header: "Idempotency-Key" });
  }
  return { kind: "replay", response: { status: existing.response_status, body: existing.response_body } };
}
