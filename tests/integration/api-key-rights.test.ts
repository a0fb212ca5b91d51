import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import { keyCacheSettled } from "../../app/api/key-cache.server";
import * as apiExports from "../../app/routes/api.v1.exports";
import * as keysPage from "../../app/routes/o.$org.t.$tenant.api-keys";
import { callRoute, makeRequest, signIn } from "../setup/routes";
import { tenantBySlug } from "../setup/api";

// A key acts with at most its creator's rights of the moment, and its
// stored idempotent responses are its own.
const STAGING = { org: "acme-health", tenant: "staging" };
const keysUrl = "/o/acme-health/t/staging/api-keys";
let stagingAdmin: string;
let adminId: string;
let tenantId: string;

function form(fields: Record<string, string | string[]>) {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const x of [v].flat()) body.append(k, x);
  return body;
}

async function createKeyAs(cookie: string, name: string, permissions: string[]): Promise<{ id: string; key: string }> {
  const request = new Request(`http://localhost:3000${keysUrl}`, { method: "POST", body: form({ name, permissions }), headers: { Cookie: cookie } });
  const res = await callRoute(keysPage.action, request, STAGING);
  expect(res.status).toBe(201);
  return res.data.created;
}

function exportsApi(key: string, init: { method?: string; json?: unknown; idempotencyKey?: string } = {}) {
  const headers: Record<string, string> = { Authorization: `Bearer ${key}` };
  if (init.json !== undefined) headers["Content-Type"] = "application/json";
  if (init.idempotencyKey) headers["Idempotency-Key"] = init.idempotencyKey;
  const request = new Request("http://localhost:3000/api/v1/exports", { method: init.method ?? "GET", headers, body: init.json === undefined ? undefined : JSON.stringify(init.json) });
  return callRoute(apiExports.loader, request);
}

beforeAll(async () => {
  stagingAdmin = await signIn("staging-admin@acme.test");
  adminId = (await getDb().selectFrom("user").select("id").where("email", "=", "staging-admin@acme.test").executeTakeFirstOrThrow()).id;
  tenantId = (await tenantBySlug("staging")).id;
});

describe("a key acts with at most its creator's current rights", () => {
  it("loses what its creator loses, on the next request, and is inactive once the creator has left", async () => {
    const { id, key } = await createKeyAs(stagingAdmin, "Follows its creator", ["data.exports.read", "data.exports.create"]);
    expect((await exportsApi(key)).status).toBe(200);

    await getDb().updateTable("tenant_member").set({ role: "viewer" }).where("tenant_id", "=", tenantId).where("user_id", "=", adminId).execute();
    await keyCacheSettled(); // the change's notification reached this process, as it reaches every web process within milliseconds
    const demoted = await exportsApi(key, { method: "POST", json: { dataTypes: ["lab_results"] } });
    expect(demoted.status).toBe(403);
    expect(demoted.data.error.details.permission).toBe("data.exports.create");
    expect(await getDb().selectFrom("export").select("id").where("tenant_id", "=", tenantId).execute()).toEqual([]);
    expect((await exportsApi(key)).status).toBe(200);

    await getDb().deleteFrom("tenant_member").where("tenant_id", "=", tenantId).where("user_id", "=", adminId).execute();
    await keyCacheSettled();
    expect((await exportsApi(key)).status).toBe(401);

    // Another admin sees it as inactive, not as an active key.
    const owner = await signIn("owner@acme.test");
    const list = await callRoute(keysPage.loader, makeRequest(keysUrl, { cookie: owner }), STAGING);
    expect(list.data.keys.find((k: { id: string }) => k.id === id)).toMatchObject({ creatorActive: false, effectivePermissions: [] });

    await getDb().insertInto("tenant_member").values({ tenant_id: tenantId, user_id: adminId, role: "admin" }).execute();
    await keyCacheSettled();
    expect((await exportsApi(key)).status).toBe(200);
  });

  it("creating and revoking keys is audited with who did it", async () => {
    const { id } = await createKeyAs(stagingAdmin, "Audited", ["data.exports.read"]);
    const revoke = new Request(`http://localhost:3000${keysUrl}`, { method: "POST", body: form({ intent: "revoke", keyId: id }), headers: { Cookie: stagingAdmin } });
    expect((await callRoute(keysPage.action, revoke, STAGING)).status).toBe(200);
    const events = await getDb().selectFrom("audit_event").selectAll().where("subject_type", "=", "api_key").where("subject_id", "=", id).orderBy("id").execute();
    expect(events).toMatchObject([
      { action: "api_key.created", actor_user_id: adminId, actor_label: "Staging Admin", tenant_id: tenantId, details: { name: "Audited", permissions: ["data.exports.read"] } },
      { action: "api_key.revoked", actor_user_id: adminId, actor_label: "Staging Admin", tenant_id: tenantId },
    ]);
  });
});

describe("Idempotency-Key", () => {
  it("replays a stored response only to the key that made it, after checking that key's permission", async () => {
    const writer = await createKeyAs(stagingAdmin, "Writer", ["data.exports.read", "data.exports.create"]);
    const reader = await createKeyAs(stagingAdmin, "Reader", ["data.exports.read"]);
    const other = await createKeyAs(stagingAdmin, "Other writer", ["data.exports.read", "data.exports.create"]);
    const request = { method: "POST", json: { dataTypes: ["lab_results"] }, idempotencyKey: "nightly-2026-11-30" };

    const first = await exportsApi(writer.key, request);
    expect(first.status).toBe(202);
    const again = await exportsApi(writer.key, request);
    expect(again.status).toBe(202);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.data.id).toBe(first.data.id);

    const readOnly = await exportsApi(reader.key, request);
    expect(readOnly.status).toBe(403);
    expect(readOnly.data.error.details.permission).toBe("data.exports.create");

    // Another key with the same Idempotency-Key runs on its own: here the first export still holds the tenant.
    const otherKey = await exportsApi(other.key, request);
    expect(otherKey.headers.get("Idempotent-Replayed")).toBeNull();
    expect(otherKey.status).toBe(409);
    expect(await getDb().selectFrom("export").select("id").where("tenant_id", "=", tenantId).where("status", "=", "pending").execute()).toHaveLength(1);
  });
});
