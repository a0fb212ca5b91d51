import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import * as membersPage from "../../app/routes/o.$org.t.$tenant.members";
import * as keysPage from "../../app/routes/o.$org.t.$tenant.api-keys";
import * as apiExports from "../../app/routes/api.v1.exports";
import { callRoute, makeRequest, signIn, ROLES, type Role } from "../setup/routes";
import { tenantBySlug } from "../setup/api";

// The Members page's actions, for each role, and the rules that hold whoever
// asks: nobody grants more than they hold, and an organization keeps an owner.
const PRODUCTION = { org: "acme-health", tenant: "production" };
const url = "/o/acme-health/t/production/members";
const cookies: Record<string, string> = {};
const ids: Record<string, string> = {};
let production: string;
let staging: string;


function post(as: Role, form: Record<string, string>) {
  return callRoute(membersPage.action, makeRequest(url, { cookie: cookies[as], form }), PRODUCTION);
}

async function membership(email: string) {
  const userId = ids[email];
  const member = await getDb().selectFrom("member").select("role").where("userId", "=", userId).where("organizationId", "=", (await tenantBySlug("production")).organization_id).executeTakeFirst();
  const tenants = await getDb().selectFrom("tenant_member").select(["tenant_id", "role"]).where("user_id", "=", userId).orderBy("tenant_id").execute();
  return { role: member?.role ?? null, tenants: Object.fromEntries(tenants.map((t) => [t.tenant_id, t.role])) };
}

/** Everything the page could change, to show a refused request changed nothing. */
async function snapshot() {
  const db = getDb();
  return {
    members: await db.selectFrom("member").selectAll().orderBy("id").execute(),
    tenantMembers: await db.selectFrom("tenant_member").select(["tenant_id", "user_id", "role"]).orderBy("tenant_id").orderBy("user_id").execute(),
    invitations: await db.selectFrom("invitation").selectAll().orderBy("id").execute(),
    events: (await db.selectFrom("audit_event").select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow()).n,
  };
}

beforeAll(async () => {
  for (const [role, email] of Object.entries(ROLES)) cookies[role] = await signIn(email);
  for (const u of await getDb().selectFrom("user").select(["id", "email"]).execute()) ids[u.email] = u.id;
  production = (await tenantBySlug("production")).id;
  staging = (await tenantBySlug("staging")).id;
});

describe("who sees what on the Members page", () => {
  it("owners and org admins get the managing view; tenant roles the read-only one; outsiders 404", async () => {
    const expected: Record<Role, "manage" | "read" | 404> = {
      owner: "manage", orgAdmin: "manage", tenantAdmin: "read", editor: "read", viewer: "read", otherTenantAdmin: 404, otherOrgOwner: 404,
    };
    for (const [role, want] of Object.entries(expected) as [Role, typeof expected[Role]][]) {
      const res = await callRoute(membersPage.loader, makeRequest(url, { cookie: cookies[role] }), PRODUCTION);
      if (want === 404) {
        expect(res.status, role).toBe(404);
        continue;
      }
      expect(res.status, role).toBe(200);
      expect(res.data.manage === null, role).toBe(want === "read");
      if (want === "manage") {
        expect(res.data.manage.tenants.map((t: { name: string }) => t.name)).toEqual(["Production", "Staging"]);
        // Every member of the organization, including those with no role in Production.
        expect(res.data.manage.members.map((m: { email: string }) => m.email)).toContain("staging-viewer@acme.test");
      }
    }
  });
});

describe("each action, for those without members.manage", () => {
  const ACTIONS: Record<string, () => Record<string, string>> = {
    invite: () => ({ intent: "invite", email: "new@acme.test", role: "member", [`tenant.${production}`]: "viewer" }),
    roles: () => ({ intent: "roles", userId: ids["production-viewer@acme.test"], role: "admin" }),
    "remove-tenant": () => ({ intent: "remove-tenant", userId: ids["production-viewer@acme.test"] }),
    "remove-organization": () => ({ intent: "remove-organization", userId: ids["production-viewer@acme.test"] }),
    resend: () => ({ intent: "resend", invitationId: "x" }),
    revoke: () => ({ intent: "revoke", invitationId: "x" }),
  };
  const REFUSED: [Role, number][] = [["tenantAdmin", 403], ["editor", 403], ["viewer", 403], ["otherTenantAdmin", 404], ["otherOrgOwner", 404]];

  for (const [intent, form] of Object.entries(ACTIONS)) {
    it(`${intent}: 403 for tenant roles, 404 for another tenant's admin and another organization's owner, and nothing changes`, async () => {
      const before = await snapshot();
      for (const [role, status] of REFUSED) {
        const res = await post(role, form());
        expect(res.status, `${intent} as ${role}`).toBe(status);
        if (status === 403) expect(res.data.message).toContain("members.manage");
      }
      expect(await snapshot()).toEqual(before);
    });
  }
});

describe("changing roles", () => {
  it("an org admin changes a member's organization and tenant roles, audited from → to per place", async () => {
    const editor = "staging-editor@acme.test";
    const res = await post("orgAdmin", { intent: "roles", userId: ids[editor], role: "member", [`tenant.${production}`]: "viewer", [`tenant.${staging}`]: "admin" });
    expect(res.status).toBe(200);
    expect(await membership(editor)).toEqual({ role: "member", tenants: { [production]: "viewer", [staging]: "admin" } });
    const events = await getDb().selectFrom("audit_event").selectAll().where("action", "=", "member.role_changed").where("subject_id", "=", ids[editor]).orderBy("id").execute();
    expect(events).toHaveLength(2);
    expect(events).toEqual(expect.arrayContaining([
      expect.objectContaining({ tenant_id: production, subject_type: "user", actor_user_id: ids["admin@acme.test"], details: expect.objectContaining({ tenant: { id: production, name: "Production" }, from: null, to: "viewer" }) }),
      expect.objectContaining({ tenant_id: staging, details: expect.objectContaining({ tenant: { id: staging, name: "Staging" }, from: "editor", to: "admin" }) }),
    ]));
  });

  it("an org admin cannot make an owner, nor change or remove one", async () => {
    const before = await snapshot();
    const promote = await post("orgAdmin", { intent: "roles", userId: ids["production-viewer@acme.test"], role: "owner" });
    expect(promote.status).toBe(403);
    expect(promote.data.fieldErrors.role).toMatch(/Only an owner/);
    expect((await post("orgAdmin", { intent: "roles", userId: ids["owner@acme.test"], role: "admin" })).status).toBe(403);
    expect((await post("orgAdmin", { intent: "roles", userId: ids["owner@acme.test"], role: "owner", [`tenant.${production}`]: "viewer" })).status).toBe(403);
    expect((await post("orgAdmin", { intent: "remove-organization", userId: ids["owner@acme.test"] })).status).toBe(403);
    expect(await snapshot()).toEqual(before);
  });

  it("refuses an unknown role, a tenant of another organization and a member of another organization, naming the field", async () => {
    const globexMain = (await tenantBySlug("main")).id;
    const badRole = await post("owner", { intent: "roles", userId: ids["production-viewer@acme.test"], role: "superuser" });
    expect(badRole.status).toBe(400);
    expect(badRole.data.fieldErrors).toHaveProperty("role");
    const badTenantRole = await post("owner", { intent: "roles", userId: ids["production-viewer@acme.test"], role: "member", [`tenant.${production}`]: "god" });
    expect(badTenantRole.status).toBe(400);
    expect(badTenantRole.data.fieldErrors).toHaveProperty(`tenant.${production}`);
    const otherTenant = await post("owner", { intent: "roles", userId: ids["production-viewer@acme.test"], role: "member", [`tenant.${globexMain}`]: "admin" });
    expect(otherTenant.status).toBe(400);
    expect(await getDb().selectFrom("tenant_member").select("role").where("tenant_id", "=", globexMain).where("user_id", "=", ids["production-viewer@acme.test"]).execute()).toEqual([]);
    expect((await post("owner", { intent: "roles", userId: ids["owner@globex.test"], role: "member" })).status).toBe(404);
  });

  it("a demoted member's API key loses the rights on its next request", async () => {
    const admin = "staging-admin@acme.test";
    const staged = { org: "acme-health", tenant: "staging" };
    const body = new URLSearchParams([["name", "Nightly"], ["permissions", "data.exports.read"], ["permissions", "data.exports.create"]]);
    const created = await callRoute(keysPage.action, new Request("http://localhost:3000/o/acme-health/t/staging/api-keys", { method: "POST", body, headers: { Cookie: cookies.otherTenantAdmin } }), staged);
    expect(created.status).toBe(201);
    const startExport = () =>
      callRoute(apiExports.loader, new Request("http://localhost:3000/api/v1/exports", {
        method: "POST", headers: { Authorization: `Bearer ${created.data.created.key}`, "Content-Type": "application/json" }, body: JSON.stringify({ dataTypes: ["lab_results"] }),
      }));
    const demote = await post("owner", { intent: "roles", userId: ids[admin], role: "member", [`tenant.${staging}`]: "viewer" });
    expect(demote.status).toBe(200);
    const refused = await startExport();
    expect(refused.status).toBe(403);
    expect(refused.data.error.details.permission).toBe("data.exports.create");
    // And the person's own next page load reads the new role.
    const page = await callRoute(keysPage.loader, makeRequest("/o/acme-health/t/staging/api-keys", { cookie: cookies.otherTenantAdmin }), staged);
    expect(page.status).toBe(403);
    await post("owner", { intent: "roles", userId: ids[admin], role: "member", [`tenant.${staging}`]: "admin" });
    expect((await startExport()).status).toBe(202);
  });
});

describe("removing", () => {
  it("from this tenant: the member loses Production, keeps Staging, and is audited in Production", async () => {
    const who = "staging-editor@acme.test"; // viewer in Production, admin in Staging since the test above
    const res = await post("orgAdmin", { intent: "remove-tenant", userId: ids[who] });
    expect(res.status).toBe(200);
    expect(await membership(who)).toEqual({ role: "member", tenants: { [staging]: "admin" } });
    const event = await getDb().selectFrom("audit_event").selectAll().where("action", "=", "member.removed").where("subject_id", "=", ids[who]).executeTakeFirstOrThrow();
    expect(event).toMatchObject({ tenant_id: production, details: { from: "tenant", tenant: { id: production, name: "Production" }, role: "viewer" } });
    // Removing again: nothing to remove.
    expect((await post("orgAdmin", { intent: "remove-tenant", userId: ids[who] })).status).toBe(409);
  });

  it("from the organization: every tenant role goes, the person gets 404 on their next request", async () => {
    const who = "production-editor@acme.test";
    const res = await post("orgAdmin", { intent: "remove-organization", userId: ids[who] });
    expect(res.status).toBe(200);
    expect(await membership(who)).toEqual({ role: null, tenants: {} });
    const next = await callRoute(membersPage.loader, makeRequest(url, { cookie: cookies.editor }), PRODUCTION);
    expect(next.status).toBe(404);
    const event = await getDb().selectFrom("audit_event").selectAll().where("action", "=", "member.removed").where("subject_id", "=", ids[who]).executeTakeFirstOrThrow();
    expect(event).toMatchObject({ tenant_id: null, subject_type: "user", details: { from: "organization", role: "member", tenants: [{ id: production, name: "Production", role: "editor" }] } });
  });

  it("org owners and admins open every tenant, so removing them from one tenant is refused with what to do", async () => {
    const res = await post("owner", { intent: "remove-tenant", userId: ids["admin@acme.test"] });
    expect(res.status).toBe(409);
    expect(res.data.error).toMatch(/organization role/);
  });
});

describe("the last owner", () => {
  it("cannot be demoted or removed, nor leave; with a second owner either one can go, but not both at once", async () => {
    const owner = ids["owner@acme.test"];
    const demote = await post("owner", { intent: "roles", userId: owner, role: "admin" });
    expect(demote.status).toBe(409);
    expect(demote.data.fieldErrors.role).toMatch(/needs an owner/);
    expect((await post("owner", { intent: "remove-organization", userId: owner })).status).toBe(409);
    expect((await membership("owner@acme.test")).role).toBe("owner");

    // The owner makes the org admin an owner; then both try to step down at the same moment.
    expect((await post("owner", { intent: "roles", userId: ids["admin@acme.test"], role: "owner" })).status).toBe(200);
    const [a, b] = await Promise.all([
      post("owner", { intent: "roles", userId: owner, role: "admin" }),
      post("orgAdmin", { intent: "roles", userId: ids["admin@acme.test"], role: "admin" }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const owners = await getDb().selectFrom("member").select("userId").where("role", "=", "owner").where("userId", "in", [owner, ids["admin@acme.test"]]).execute();
    expect(owners).toHaveLength(1);
  });
});
