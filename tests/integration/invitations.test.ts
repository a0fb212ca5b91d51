import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SMTPServer } from "smtp-server";
import { getDb } from "../../db/client";
import * as membersPage from "../../app/routes/o.$org.t.$tenant.members";
import * as invitationPage from "../../app/routes/invitations.$token";
import * as exportsPage from "../../app/routes/o.$org.t.$tenant.exports._index";
import { callRoute, makeRequest, signIn } from "../setup/routes";
import { tenantBySlug } from "../setup/api";

// Inviting, by link and by a real SMTP server, and every way a link can be opened.
const PRODUCTION = { org: "acme-health", tenant: "production" };
const membersUrl = "/o/acme-health/t/production/members";
let owner: string;
let orgAdmin: string;
let production: string;
let staging: string;
let orgId: string;

const received: { to: string[]; text: string }[] = [];
/** The message as a mail client shows it: quoted-printable soft breaks and escapes undone. */
const decodeQuotedPrintable = (raw: string) => raw.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ["STARTTLS"],
  onData(stream, session, done) {
    let text = "";
    stream.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
    stream.on("end", () => {
      received.push({ to: session.envelope.rcptTo.map((r) => r.address), text: decodeQuotedPrintable(text) });
      done();
    });
  },
});
let smtpUrl: string;

function invite(cookie: string, fields: Record<string, string>) {
  return callRoute(membersPage.action, makeRequest(membersUrl, { cookie, form: { intent: "invite", ...fields } }), PRODUCTION);
}
const tokenOf = (link: string) => link.split("/invitations/")[1];
const openLink = (token: string, cookie?: string) => callRoute(invitationPage.loader, makeRequest(`/invitations/${token}`, { cookie }), { token });
const submit = (token: string, form: Record<string, string>, cookie?: string) => callRoute(invitationPage.action, makeRequest(`/invitations/${token}`, { cookie, form }), { token });
const invitationRow = (email: string) => getDb().selectFrom("invitation").selectAll().where("email", "=", email).orderBy("createdAt", "desc").execute();

beforeAll(async () => {
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  smtpUrl = `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}?ignoreTLS=true`;
  owner = await signIn("owner@acme.test");
  orgAdmin = await signIn("admin@acme.test");
  const prod = await tenantBySlug("production");
  production = prod.id;
  orgId = prod.organization_id;
  staging = (await tenantBySlug("staging")).id;
});

afterAll(async () => {
  delete process.env.EXPORTAL_SMTP_URL;
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

describe("inviting", () => {
  it("emails the link through SMTP and shows it; the invitation holds the roles and lasts 7 days", async () => {
    process.env.EXPORTAL_SMTP_URL = smtpUrl;
    try {
      const res = await invite(orgAdmin, { email: "Nina.New@Example.test", role: "member", [`tenant.${production}`]: "editor", [`tenant.${staging}`]: "none" });
      expect(res.status).toBe(201);
      const { sent } = res.data;
      expect(sent).toMatchObject({ email: "nina.new@example.test", emailed: "sent" });
      expect(sent.link).toMatch(/^http:\/\/localhost:3000\/invitations\/[A-Za-z0-9_-]{43}$/);
      const mail = received.find((m) => m.to.includes("nina.new@example.test"));
      expect(mail?.text).toContain(sent.link);
      expect(mail?.text).toContain("Acme Health");

      const [row] = await invitationRow("nina.new@example.test");
      expect(row).toMatchObject({ status: "pending", role: "member", organizationId: orgId });
      expect(Math.abs(row.expiresAt.getTime() - Date.now() - 7 * 24 * 3600_000)).toBeLessThan(60_000);
      // Only the token's hash is stored.
      expect(JSON.stringify(row)).not.toContain(tokenOf(sent.link));
      const grants = await getDb().selectFrom("invitation_tenant_role").select(["tenant_id", "role"]).where("invitation_id", "=", row.id).execute();
      expect(grants).toEqual([{ tenant_id: production, role: "editor" }]);
      const event = await getDb().selectFrom("audit_event").selectAll().where("action", "=", "member.invited").where("subject_id", "=", row.id).executeTakeFirstOrThrow();
      expect(event).toMatchObject({ organization_id: orgId, tenant_id: null, subject_type: "invitation", details: { email: "nina.new@example.test", role: "member", tenants: [{ id: production, name: "Production", role: "editor" }] } });
    } finally {
      delete process.env.EXPORTAL_SMTP_URL;
    }
  });

  it("when the mail server cannot be reached, the invitation still exists and the page gets the link", async () => {
    const closed = new SMTPServer({ authOptional: true });
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    process.env.EXPORTAL_SMTP_URL = `smtp://127.0.0.1:${port}`;
    try {
      const res = await invite(owner, { email: "unlucky@example.test", role: "member", [`tenant.${staging}`]: "viewer" });
      expect(res.status).toBe(201);
      expect(res.data.sent.emailed).toBe("failed");
      expect(res.data.sent.link).toContain("/invitations/");
      expect(await invitationRow("unlucky@example.test")).toHaveLength(1);
    } finally {
      delete process.env.EXPORTAL_SMTP_URL;
    }
  });

  it("without SMTP the link is shown and says so", async () => {
    const res = await invite(owner, { email: "nomail@example.test", role: "admin" });
    expect(res.status).toBe(201);
    expect(res.data.sent.emailed).toBe("not_configured");
  });

  it("inviting a pending email again replaces that invitation: one row, the new roles, a new link", async () => {
    const first = await invite(owner, { email: "twice@example.test", role: "member", [`tenant.${production}`]: "viewer" });
    const second = await invite(owner, { email: "twice@example.test", role: "member", [`tenant.${staging}`]: "admin" });
    expect(second.status).toBe(201);
    const rows = await invitationRow("twice@example.test");
    expect(rows).toHaveLength(1);
    expect(await getDb().selectFrom("invitation_tenant_role").select(["tenant_id", "role"]).where("invitation_id", "=", rows[0].id).execute()).toEqual([{ tenant_id: staging, role: "admin" }]);
    expect((await openLink(tokenOf(first.data.sent.link))).status).toBe(404);
    expect((await openLink(tokenOf(second.data.sent.link))).status).toBe(200);
  });

  it("refuses a member's email on the Email field, an owner invitation from an org admin, and bad input, naming the field", async () => {
    const member = await invite(orgAdmin, { email: "Production-Viewer@acme.test", role: "member", [`tenant.${production}`]: "viewer" });
    expect(member.status).toBe(409);
    expect(member.data.fieldErrors.email).toMatch(/already a member/);
    expect(member.data.values.email).toBe("Production-Viewer@acme.test");

    const ownerInvite = await invite(orgAdmin, { email: "boss@example.test", role: "owner" });
    expect(ownerInvite.status).toBe(403);
    expect(ownerInvite.data.fieldErrors.role).toMatch(/Only an owner/);

    expect((await invite(orgAdmin, { email: "not-an-email", role: "member", [`tenant.${production}`]: "viewer" })).data.fieldErrors).toHaveProperty("email");
    expect((await invite(orgAdmin, { email: "x@example.test", role: "member" })).data.fieldErrors).toHaveProperty("tenants");
    expect((await invite(orgAdmin, { email: "x@example.test", role: "member", [`tenant.${production}`]: "root" })).status).toBe(400);
    expect(await invitationRow("boss@example.test")).toEqual([]);
    expect(await invitationRow("x@example.test")).toEqual([]);

    // An owner may invite an owner.
    expect((await invite(owner, { email: "boss@example.test", role: "owner" })).status).toBe(201);
  });
});

describe("pending invitations", () => {
  it("are listed; Resend gives a new link for 7 more days and emails it; the old link stops; Revoke ends it", async () => {
    const sent = (await invite(owner, { email: "pending@example.test", role: "member", [`tenant.${production}`]: "viewer" })).data.sent;
    const [row] = await invitationRow("pending@example.test");
    await getDb().updateTable("invitation").set({ expiresAt: new Date(Date.now() - 1000) }).where("id", "=", row.id).execute();
    const list = await callRoute(membersPage.loader, makeRequest(membersUrl, { cookie: owner }), PRODUCTION);
    expect(list.data.manage.invitations.find((i: { email: string }) => i.email === "pending@example.test")).toMatchObject({ expired: true, tenants: [{ name: "Production", role: "viewer" }] });

    process.env.EXPORTAL_SMTP_URL = smtpUrl;
    let resent;
    try {
      resent = await callRoute(membersPage.action, makeRequest(membersUrl, { cookie: orgAdmin, form: { intent: "resend", invitationId: row.id } }), PRODUCTION);
    } finally {
      delete process.env.EXPORTAL_SMTP_URL;
    }
    expect(resent.status).toBe(200);
    expect(resent.data.sent.emailed).toBe("sent");
    expect(received.some((m) => m.to.includes("pending@example.test") && m.text.includes(resent.data.sent.link))).toBe(true);
    const [after] = await invitationRow("pending@example.test");
    expect(after.expiresAt.getTime()).toBeGreaterThan(Date.now() + 6 * 24 * 3600_000);
    expect((await openLink(tokenOf(sent.link))).status).toBe(404);
    expect((await openLink(tokenOf(resent.data.sent.link))).status).toBe(200);

    const revoked = await callRoute(membersPage.action, makeRequest(membersUrl, { cookie: orgAdmin, form: { intent: "revoke", invitationId: row.id } }), PRODUCTION);
    expect(revoked.status).toBe(200);
    const gone = await openLink(tokenOf(resent.data.sent.link));
    expect(gone.status).toBe(410);
    expect(gone.data).toMatchObject({ view: "gone", state: "revoked" });
    const events = await getDb().selectFrom("audit_event").select(["action", "subject_type"]).where("subject_id", "=", row.id).orderBy("id").execute();
    expect(events.map((e) => e.action)).toEqual(["member.invited", "invitation.resent", "invitation.revoked"]);
    // Revoked is final: neither resend nor revoke finds it.
    expect((await callRoute(membersPage.action, makeRequest(membersUrl, { cookie: orgAdmin, form: { intent: "resend", invitationId: row.id } }), PRODUCTION)).status).toBe(404);
  });

  it("an org admin may not resend an owner's invitation (a fresh owner link); another organization's owner finds none", async () => {
    const [row] = await invitationRow("boss@example.test");
    expect((await callRoute(membersPage.action, makeRequest(membersUrl, { cookie: orgAdmin, form: { intent: "resend", invitationId: row.id } }), PRODUCTION)).status).toBe(403);
    const globex = await signIn("owner@globex.test");
    const elsewhere = callRoute(membersPage.action, makeRequest("/o/globex/t/main/members", { cookie: globex, form: { intent: "revoke", invitationId: row.id } }), { org: "globex", tenant: "main" });
    expect((await elsewhere).status).toBe(404);
    expect((await invitationRow("boss@example.test"))[0].status).toBe("pending");
  });
});

describe("accepting", () => {
  it("a new person sets name and password, joins with the roles, is signed in and lands in the first tenant granted", async () => {
    const sent = (await invite(orgAdmin, { email: "fresh@example.test", role: "member", [`tenant.${production}`]: "viewer", [`tenant.${staging}`]: "editor" })).data.sent;
    const token = tokenOf(sent.link);
    const page = await openLink(token);
    expect(page.status).toBe(200);
    expect(page.data).toMatchObject({ view: "new_account", orgName: "Acme Health", email: "fresh@example.test", minPasswordLength: 8 });

    const short = await submit(token, { name: "Fresh Person", password: "short", confirm: "short" });
    expect(short.status).toBe(400);
    expect(short.data.fieldErrors).toHaveProperty("password");
    expect(short.data.name).toBe("Fresh Person");
    const mismatch = await submit(token, { name: "Fresh Person", password: "a-long-password", confirm: "another-password" });
    expect(mismatch.data.fieldErrors).toHaveProperty("confirm");
    expect((await submit(token, { name: " ", password: "a-long-password", confirm: "a-long-password" })).data.fieldErrors).toHaveProperty("name");
    expect(await getDb().selectFrom("user").select("id").where("email", "=", "fresh@example.test").execute()).toEqual([]);

    const joined = await submit(token, { name: "Fresh Person", password: "a-long-password", confirm: "a-long-password" });
    expect(joined.status).toBe(302);
    expect(joined.headers.get("Location")).toBe("/o/acme-health/t/production/exports");
    const cookie = joined.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
    const exportsPage_ = await callRoute(exportsPage.loader, makeRequest("/o/acme-health/t/production/exports", { cookie }), PRODUCTION);
    expect(exportsPage_.status).toBe(200);

    const user = await getDb().selectFrom("user").select(["id", "name"]).where("email", "=", "fresh@example.test").executeTakeFirstOrThrow();
    expect(user.name).toBe("Fresh Person");
    expect(await getDb().selectFrom("member").select("role").where("userId", "=", user.id).where("organizationId", "=", orgId).executeTakeFirst()).toEqual({ role: "member" });
    expect(await getDb().selectFrom("tenant_member").select(["tenant_id", "role"]).where("user_id", "=", user.id).orderBy("role").execute()).toEqual([
      { tenant_id: staging, role: "editor" },
      { tenant_id: production, role: "viewer" },
    ]);
    // The password works for a normal sign-in too.
    await signIn("fresh@example.test", "a-long-password");
    const [row] = await invitationRow("fresh@example.test");
    expect(row.status).toBe("accepted");
    const event = await getDb().selectFrom("audit_event").selectAll().where("action", "=", "invitation.accepted").where("subject_id", "=", row.id).executeTakeFirstOrThrow();
    expect(event).toMatchObject({ actor_user_id: user.id, organization_id: orgId, subject_type: "invitation" });

    // Used: the link says so, and cannot be used again.
    const used = await openLink(token);
    expect(used.status).toBe(410);
    expect(used.data.state).toBe("accepted");
    expect((await submit(token, { name: "Again", password: "a-long-password", confirm: "a-long-password" })).status).toBe(410);
  });

  it("someone with an account signs in (coming back to the link) and joins", async () => {
    // Grace owns Globex; Acme invites her as a Staging admin.
    const sent = (await invite(owner, { email: "owner@globex.test", role: "member", [`tenant.${staging}`]: "admin" })).data.sent;
    const token = tokenOf(sent.link);
    const anonymous = await openLink(token);
    expect(anonymous.data).toMatchObject({ view: "sign_in", email: "owner@globex.test" });
    // Choosing a password for an existing account is refused.
    expect((await submit(token, { name: "x", password: "a-long-password", confirm: "a-long-password" })).status).toBe(409);

    const grace = await signIn("owner@globex.test");
    expect((await openLink(token, grace)).data).toMatchObject({ view: "join", orgName: "Acme Health" });
    const joined = await submit(token, {}, grace);
    expect(joined.status).toBe(302);
    expect(joined.headers.get("Location")).toBe("/o/acme-health/t/staging/exports");
    const graceId = (await getDb().selectFrom("user").select("id").where("email", "=", "owner@globex.test").executeTakeFirstOrThrow()).id;
    expect(await getDb().selectFrom("tenant_member").select("role").where("user_id", "=", graceId).where("tenant_id", "=", staging).executeTakeFirst()).toEqual({ role: "admin" });
  });

  it("signed in as someone else: says so clearly and changes nothing", async () => {
    const sent = (await invite(owner, { email: "someone@example.test", role: "member", [`tenant.${production}`]: "viewer" })).data.sent;
    const token = tokenOf(sent.link);
    const viewer = await signIn("production-viewer@acme.test");
    const page = await openLink(token, viewer);
    expect(page.status).toBe(403);
    expect(page.data).toMatchObject({ view: "wrong_user", email: "someone@example.test", signedInAs: "production-viewer@acme.test" });
    expect((await submit(token, { name: "x", password: "a-long-password", confirm: "a-long-password" }, viewer)).status).toBe(403);
    expect((await invitationRow("someone@example.test"))[0].status).toBe("pending");
    expect(await getDb().selectFrom("user").select("id").where("email", "=", "someone@example.test").execute()).toEqual([]);
  });

  it("expired: 410 saying so, and no account made; an unknown token: 404", async () => {
    const sent = (await invite(owner, { email: "late@example.test", role: "member", [`tenant.${production}`]: "viewer" })).data.sent;
    await getDb().updateTable("invitation").set({ expiresAt: new Date(Date.now() - 1000) }).where("email", "=", "late@example.test").execute();
    const page = await openLink(tokenOf(sent.link));
    expect(page.status).toBe(410);
    expect(page.data).toMatchObject({ view: "gone", state: "expired" });
    expect((await submit(tokenOf(sent.link), { name: "Late", password: "a-long-password", confirm: "a-long-password" })).status).toBe(410);
    expect(await getDb().selectFrom("user").select("id").where("email", "=", "late@example.test").execute()).toEqual([]);
    expect((await openLink("not-a-real-token")).status).toBe(404);
  });
});
