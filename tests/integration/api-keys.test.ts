import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import * as page from "../../app/routes/o.$org.t.$tenant.api-keys";
import * as layout from "../../app/routes/o.$org.t.$tenant";
import * as exportsPage from "../../app/routes/o.$org.t.$tenant.exports._index";
import { createExport } from "../../app/exports/exports.server";
import { createApiKey } from "../../app/api/keys.server";
import { authenticateApiKey } from "../../app/api/key-auth.server";
import { keyCacheSettled } from "../../app/api/key-cache.server";
import { ownerIn } from "../setup/api";
import { buildAbility, permissionsFor } from "../../app/auth/permissions";
import { SECTIONS, showsSection } from "../../app/components/sections";
import { callRoute, makeRequest, signIn } from "../setup/routes";
import { day } from "../setup/dates";

const PROD = { org: "acme-health", tenant: "production" };
const STAGING = { org: "acme-health", tenant: "staging" };
const url = "/o/acme-health/t/production/api-keys";
let admin: string;

function create(cookie: string, form: Record<string, string | string[]>, params = PROD) {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) for (const x of [v].flat()) body.append(k, x);
  const request = new Request(`http://localhost:3000${url}`, { method: "POST", body, headers: { Cookie: cookie } });
  return callRoute(page.action, request, params);
}

beforeAll(async () => {
  admin = await signIn("production-admin@acme.test");
});

describe("API keys", () => {
  it("a tenant admin creates a key, sees it once, and the database keeps only its hash", async () => {
    const res = await create(admin, { name: "Nightly sync", permissions: ["data.exports.read", "data.exports.create"] });
    expect(res.status).toBe(201);
    const key: string = res.data.created.key;
    expect(key).toMatch(/^xpk_/);
    const stored = await sql<{ row: string }>`select row_to_json(k)::text as row from api_key k`.execute(getDb());
    expect(stored.rows.map((r) => r.row).join("")).not.toContain(key.slice(4));

    const list = await callRoute(page.loader, makeRequest(url, { cookie: admin }), PROD);
    const listed = list.data.keys.find((k: { name: string }) => k.name === "Nightly sync");
    expect(listed).toMatchObject({ key_prefix: key.slice(0, 8), last4: key.slice(-4), permissions: ["data.exports.read", "data.exports.create"] });
    expect(JSON.stringify(list.data)).not.toContain(key.slice(8, -4));

    const auth = await authenticateApiKey(getDb(), key);
    expect(auth).toMatchObject({ name: "Nightly sync", permissions: ["data.exports.read", "data.exports.create"] });
    const tenant = await getDb().selectFrom("tenant").select("id").where("slug", "=", "production").executeTakeFirstOrThrow();
    expect(auth!.tenantId).toBe(tenant.id);
    const used = await callRoute(page.loader, makeRequest(url, { cookie: admin }), PROD);
    expect(used.data.keys.find((k: { name: string }) => k.name === "Nightly sync").last_used_at).not.toBeNull();
  });

  it("exports a program starts show the key as the requester", async () => {
    const created = (await create(admin, { name: "Warehouse", permissions: ["data.exports.read", "data.exports.create"] })).data.created;
    const auth = (await authenticateApiKey(getDb(), created.key))!;
    const tenant = await getDb().selectFrom("tenant").select(["id", "organization_id"]).where("id", "=", auth.tenantId).executeTakeFirstOrThrow();
    const exp = await createExport(getDb(), {
      tenantId: tenant.id,
      organizationId: tenant.organization_id,
      actor: { userId: null, apiKeyId: auth.keyId, label: `API key ${auth.name}` },
      ability: buildAbility(auth.permissions),
    }, { dataTypes: ["lab_results"] });
    const list = await callRoute(exportsPage.loader, makeRequest("/o/acme-health/t/production/exports", { cookie: admin }), PROD);
    expect(list.data.exports.find((e: { id: string }) => e.id === exp.id).requestedBy).toBe("API key Warehouse");
  });

  it("refuses a missing name and no permissions, naming the fields and keeping the name", async () => {
    const res = await create(admin, { name: "  " });
    expect(res.status).toBe(400);
    expect(res.data.fieldErrors).toEqual({ name: "Give the key a name.", permissions: "Choose at least one permission." });
    const past = await create(admin, { name: "Old", permissions: "data.exports.read", expiresAt: day(-1) });
    expect(past.data.fieldErrors).toEqual({ expiresAt: "Choose an expiry date in the future." });
    expect(past.data.name).toBe("Old");
    const control = await create(admin, { name: "Old\u0000key", permissions: "data.exports.read" });
    expect(control.status).toBe(400);
    expect(control.data.fieldErrors).toEqual({ name: "Use letters, digits, spaces and punctuation only." });
  });

  it("never grants a key a permission its creator lacks", async () => {
    const owner = await ownerIn("production");
    const narrow = { ...owner, ability: buildAbility(["api_keys.manage", "data.exports.read"]) };
    const attempt = createApiKey(getDb(), narrow, { name: "x", permissions: ["data.exports.read", "data.exports.create"] });
    await expect(attempt).rejects.toMatchObject({ code: "FORBIDDEN", message: "A key cannot have permissions you lack: data.exports.create." });
    const viewer = { ...owner, ability: buildAbility(permissionsFor("member", "viewer")) };
    await expect(createApiKey(getDb(), viewer, { name: "x", permissions: ["data.exports.read"] })).rejects.toMatchObject({ code: "FORBIDDEN", details: { permission: "api_keys.manage" } });
  });

  it("revoked and expired keys stop working at once; malformed ones never reach the database", async () => {
    const revokedKey = (await create(admin, { name: "To revoke", permissions: "data.exports.read" })).data.created;
    expect(await authenticateApiKey(getDb(), revokedKey.key)).not.toBeNull();
    const revoke = await create(admin, { intent: "revoke", keyId: revokedKey.id });
    expect(revoke.status).toBe(200);
    await keyCacheSettled(); // the revocation's notification reached this process, as it reaches every web process within milliseconds
    expect(await authenticateApiKey(getDb(), revokedKey.key)).toBeNull();

    const expiring = (await create(admin, { name: "Short-lived", permissions: "data.exports.read", expiresAt: day(30) })).data.created;
    expect(await authenticateApiKey(getDb(), expiring.key)).not.toBeNull();
    expect(await authenticateApiKey(getDb(), expiring.key, new Date(`${day(31)}T00:00:00Z`))).toBeNull();

    expect(await authenticateApiKey(getDb(), expiring.key.slice(0, -1) + (expiring.key.endsWith("a") ? "b" : "a"))).toBeNull();
    expect(await authenticateApiKey(getDb(), "not a key")).toBeNull();
  });

  it("is for tenant admins: editors get 403 and do not see it in the navigation; another tenant's key answers 404", async () => {
    const editor = await signIn("production-editor@acme.test");
    expect((await callRoute(page.loader, makeRequest(url, { cookie: editor }), PROD)).status).toBe(403);
    expect((await create(editor, { name: "Sneaky", permissions: "data.exports.read" })).status).toBe(403);
    const frame = await callRoute(layout.loader, makeRequest(url, { cookie: editor }), PROD);
    const keysSection = SECTIONS.find((s) => s.to === "api-keys")!;
    expect(showsSection(keysSection, frame.data.shell.permissions)).toBe(false);
    expect(showsSection(keysSection, (await callRoute(layout.loader, makeRequest(url, { cookie: admin }), PROD)).data.shell.permissions)).toBe(true);

    const key = (await create(admin, { name: "Production only", permissions: "data.exports.read" })).data.created;
    const stagingAdmin = await signIn("staging-admin@acme.test");
    expect((await create(stagingAdmin, { intent: "revoke", keyId: key.id }, STAGING)).status).toBe(404);
    expect((await callRoute(page.loader, makeRequest(url, { cookie: stagingAdmin }), PROD)).status).toBe(404);
    expect(await authenticateApiKey(getDb(), key.key)).not.toBeNull();
  });
});
