import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import * as authRoute from "../../app/routes/api.auth.$";
import * as membersPage from "../../app/routes/o.$org.t.$tenant.members";
import { callRoute, makeRequest, signIn } from "../setup/routes";
import { tenantBySlug } from "../setup/api";

// Sign-up is by invitation only and membership changes go through the Members
// page's rules: better-auth's own endpoints that would create accounts or
// organizations or change membership answer 404 to everyone, whoever asks.
const ROLES = ["owner@acme.test", "admin@acme.test", "production-admin@acme.test", "production-editor@acme.test", "production-viewer@acme.test", "owner@globex.test"];
const cookies = new Map<string, string | undefined>([["anonymous", undefined]]);
let acme: string;
let globex: string;
let invitationId: string;
let viewerMemberId: string;
let ownerMemberId: string;

function call(method: string, path: string, cookie: string | undefined, body?: unknown) {
  const headers = new Headers({ Origin: "http://localhost:3000" });
  if (cookie) headers.set("Cookie", cookie);
  if (body !== undefined) headers.set("Content-Type", "application/json");
  const request = new Request(`http://localhost:3000/api/auth${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return callRoute(method === "GET" ? authRoute.loader : authRoute.action, request, { "*": path.slice(1) });
}

async function snapshot() {
  const db = getDb();
  return {
    users: await db.selectFrom("user").select(["id", "email", "name"]).orderBy("id").execute(),
    accounts: await db.selectFrom("account").select(["id", "userId", "password"]).orderBy("id").execute(),
    organizations: await db.selectFrom("organization").selectAll().orderBy("id").execute(),
    members: await db.selectFrom("member").selectAll().orderBy("id").execute(),
    invitations: await db.selectFrom("invitation").selectAll().orderBy("id").execute(),
    tenantMembers: await db.selectFrom("tenant_member").select(["tenant_id", "user_id", "role"]).orderBy("tenant_id").orderBy("user_id").execute(),
    // Our schema does not type better-auth's session table; set-active would change its active organization.
    sessions: (await sql`select id, "userId", "activeOrganizationId" from "session" order by id`.execute(db)).rows,
  };
}

beforeAll(async () => {
  for (const email of ROLES) cookies.set(email, await signIn(email));
  acme = (await tenantBySlug("production")).organization_id;
  globex = (await tenantBySlug("main")).organization_id;
  const invited = await callRoute(membersPage.action, makeRequest("/o/acme-health/t/production/members", {
    cookie: cookies.get("owner@acme.test"),
    form: { intent: "invite", email: "pending@example.test", role: "member", [`tenant.${(await tenantBySlug("production")).id}`]: "viewer" },
  }), { org: "acme-health", tenant: "production" });
  invitationId = invited.data.sent.invitationId;
  const memberOf = async (email: string) =>
    (await getDb().selectFrom("member as m").innerJoin("user as u", "u.id", "m.userId").where("u.email", "=", email).where("m.organizationId", "=", acme).select("m.id").executeTakeFirstOrThrow()).id;
  viewerMemberId = await memberOf("production-viewer@acme.test");
  ownerMemberId = await memberOf("owner@acme.test");
});

describe("better-auth's endpoints under /api/auth", () => {
  const endpoints = (): [string, string, unknown?][] => [
    ["POST", "/sign-up/email", { email: "intruder@example.test", password: "a-long-password", name: "Intruder" }],
    ["POST", "/sign-in/email", { email: "owner@acme.test", password: "exportal-demo" }],
    ["POST", "/organization/create", { name: "Rogue", slug: "rogue" }],
    ["POST", "/organization/update", { organizationId: acme, data: { name: "Renamed" } }],
    ["POST", "/organization/delete", { organizationId: globex }],
    ["POST", "/organization/invite-member", { email: "intruder@example.test", role: "owner", organizationId: acme }],
    ["POST", "/organization/accept-invitation", { invitationId }],
    ["POST", "/organization/reject-invitation", { invitationId }],
    ["POST", "/organization/cancel-invitation", { invitationId }],
    ["GET", `/organization/list-invitations?organizationId=${acme}`],
    ["POST", "/organization/update-member-role", { memberId: viewerMemberId, role: "owner", organizationId: acme }],
    ["POST", "/organization/remove-member", { memberIdOrEmail: ownerMemberId, organizationId: acme }],
    ["POST", "/organization/add-member", { userId: "x", role: "owner", organizationId: acme }],
    ["POST", "/organization/leave", { organizationId: acme }],
    ["GET", `/organization/list-members?organizationId=${acme}`],
    ["GET", `/organization/get-full-organization?organizationId=${acme}`],
    ["GET", "/organization/list"],
    ["POST", "/organization/set-active", { organizationId: globex }],
    ["POST", "/update-user", { name: "Renamed" }],
    ["POST", "/change-email", { newEmail: "changed@example.test" }],
    ["POST", "/change-password", { currentPassword: "exportal-demo", newPassword: "another-password" }],
    ["POST", "/delete-user", {}],
    ["GET", "/list-sessions"],
  ];

  it("answer 404 to every role and to no one, and change nothing", async () => {
    const before = await snapshot();
    for (const [who, cookie] of cookies) {
      for (const [method, path, body] of endpoints()) {
        const res = await call(method, path, cookie, body);
        expect(res.status, `${method} ${path} as ${who}`).toBe(404);
      }
    }
    expect(await snapshot()).toEqual(before);
  });

  it("while get-session, the one it needs, still answers (so the 404s above are the route's choice)", async () => {
    const res = await call("GET", "/get-session", cookies.get("owner@acme.test"));
    expect(res.status).toBe(200);
    expect(res.data.user.email).toBe("owner@acme.test");
  });
});
