import { describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import { CLIENT_IP_HEADER } from "../../app/lib/client.server";
import * as account from "../../app/routes/account";
import * as exportsChooser from "../../app/routes/exports";
import * as home from "../../app/routes/_index";
import * as signInRoute from "../../app/routes/sign-in";
import * as signOutRoute from "../../app/routes/sign-out";
import { callRoute, makeRequest, signIn } from "../setup/routes";

const cookieOf = (headers: Headers) => headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
const UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/147.0 Safari/537.36";

/** A request as server.ts hands it on: with the client's address and a browser's user agent. */
function fromBrowser(path: string, init: Parameters<typeof makeRequest>[1] = {}, ip = "203.0.113.7"): Request {
  const request = makeRequest(path, init);
  request.headers.set(CLIENT_IP_HEADER, ip);
  request.headers.set("User-Agent", UA);
  return request;
}

async function signInThroughPortal(email: string, password = "exportal-demo", ip?: string) {
  return callRoute(signInRoute.action, fromBrowser("/sign-in", { form: { email, password } }, ip));
}

const isSignedIn = async (cookie: string) => (await callRoute(account.loader, makeRequest("/account", { cookie }))).status === 200;

const changePassword = (cookie: string, fields: Record<string, string>) =>
  callRoute(account.action, fromBrowser("/account", { cookie, form: { intent: "password", ...fields } }));

const userId = async (email: string) => (await getDb().selectFrom("user").where("email", "=", email).select("id").executeTakeFirstOrThrow()).id;

describe("changing your password", () => {
  it("names the field at fault and sends nothing typed back", async () => {
    const cookie = await signIn("staging-editor@acme.test");
    const wrong = await changePassword(cookie, { currentPassword: "not-my-password", newPassword: "a-new-password", confirmPassword: "a-new-password" });
    expect(wrong.status).toBe(400);
    expect(wrong.data.fieldErrors).toEqual({ currentPassword: "That is not your current password." });
    expect(JSON.stringify(wrong.data)).not.toContain("a-new-password");
    expect(JSON.stringify(wrong.data)).not.toContain("not-my-password");

    const mismatch = await changePassword(cookie, { currentPassword: "exportal-demo", newPassword: "a-new-password", confirmPassword: "a-new-passwrd" });
    expect(mismatch.status).toBe(400);
    expect(mismatch.data.fieldErrors).toEqual({ confirmPassword: "The two passwords do not match." });

    const short = await changePassword(cookie, { currentPassword: "", newPassword: "short", confirmPassword: "short" });
    expect(short.status).toBe(400);
    expect(short.data.fieldErrors).toEqual({ newPassword: "Use at least 8 characters.", currentPassword: "Enter your current password." });

    // None of those changed it.
    expect((await signInThroughPortal("staging-editor@acme.test")).status).toBe(302);
  });

  it("changes it: the old password no longer signs in, the new one does, and the trail says so", async () => {
    const signedIn = await signInThroughPortal("staging-viewer@acme.test");
    const cookie = cookieOf(signedIn.headers);
    const res = await changePassword(cookie, { currentPassword: "exportal-demo", newPassword: "correct horse battery", confirmPassword: "correct horse battery" });
    expect(res.status).toBe(200);
    expect(res.data).toMatchObject({ ok: true, intent: "password", message: "Your password was changed." });
    expect(await isSignedIn(cookie)).toBe(true);

    const old = await signInThroughPortal("staging-viewer@acme.test");
    expect(old.status).toBe(401);
    expect((await signInThroughPortal("staging-viewer@acme.test", "correct horse battery")).status).toBe(302);

    const id = await userId("staging-viewer@acme.test");
    const events = await getDb().selectFrom("audit_event").where("action", "=", "account.password_changed").where("actor_user_id", "=", id).selectAll().execute();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      organization_id: null, tenant_id: null, subject_type: "user", subject_id: id,
      actor_label: "Staging Viewer", client_ip: "203.0.113.7", user_agent: UA, details: { otherSessionsSignedOut: false },
    });
    expect(JSON.stringify(events[0].details)).not.toContain("correct horse");
  });

  it("can sign out the other sessions as it changes the password, keeping this browser signed in", async () => {
    const other = await signIn("staging-admin@acme.test");
    const cookie = await signIn("staging-admin@acme.test");
    const res = await changePassword(cookie, { currentPassword: "exportal-demo", newPassword: "another-password", confirmPassword: "another-password", signOutOthers: "on" });
    expect(res.status).toBe(200);
    expect(await isSignedIn(other)).toBe(false);
    // better-auth replaced this browser's session: the new cookie works.
    expect(await isSignedIn(cookieOf(res.headers))).toBe(true);
  });
});

describe("your sessions", () => {
  it("lists each session with browser, address and times, this one marked; signing out everywhere else ends only the others", async () => {
    const phone = cookieOf((await signInThroughPortal("production-admin@acme.test", "exportal-demo", "198.51.100.20")).headers);
    const here = cookieOf((await signInThroughPortal("production-admin@acme.test", "exportal-demo", "203.0.113.7")).headers);

    const page = await callRoute(account.loader, makeRequest("/account", { cookie: here }));
    expect(page.status).toBe(200);
    const sessions = page.data.sessions;
    expect(sessions.length).toBeGreaterThanOrEqual(2);
    const current = sessions.filter((s: any) => s.current);
    expect(current).toHaveLength(1);
    expect(current[0]).toMatchObject({ ipAddress: "203.0.113.7", userAgent: UA });
    expect(sessions.some((s: any) => !s.current && s.ipAddress === "198.51.100.20")).toBe(true);
    for (const s of sessions) expect(new Date(s.expiresAt).getTime()).toBeGreaterThan(Date.now());

    const res = await callRoute(account.action, fromBrowser("/account", { cookie: here, form: { intent: "sign-out-others" } }));
    expect(res.status).toBe(200);
    expect(await isSignedIn(phone)).toBe(false);
    expect(await isSignedIn(here)).toBe(true);
    const after = await callRoute(account.loader, makeRequest("/account", { cookie: here }));
    expect(after.data.sessions.map((s: any) => s.current)).toEqual([true]);

    const id = await userId("production-admin@acme.test");
    const event = await getDb().selectFrom("audit_event").where("action", "=", "account.sessions_revoked").where("subject_id", "=", id).selectAll().executeTakeFirstOrThrow();
    expect(event).toMatchObject({ subject_type: "user", actor_user_id: id, client_ip: "203.0.113.7", details: { which: "others", sessionsEnded: sessions.length - 1 } });
  });

  it("signing out everywhere ends this session too and goes to sign-in", async () => {
    const other = await signIn("admin@acme.test");
    const here = await signIn("admin@acme.test");
    const res = await callRoute(account.action, fromBrowser("/account", { cookie: here, form: { intent: "sign-out-all" } }));
    expect(res.status).toBe(302);
    expect(res.headers.get("Location")).toBe("/sign-in");
    expect(await isSignedIn(here)).toBe(false);
    expect(await isSignedIn(other)).toBe(false);
    const id = await userId("admin@acme.test");
    const event = await getDb().selectFrom("audit_event").where("action", "=", "account.sessions_revoked").where("subject_id", "=", id).selectAll().executeTakeFirstOrThrow();
    expect(event.details).toMatchObject({ which: "all" });
  });

  it("sends a visitor to sign in", async () => {
    const res = await callRoute(account.loader, makeRequest("/account"));
    expect(res.status).toBe(302);
    expect(res.headers.get("Location")).toBe("/sign-in?redirectTo=%2Faccount");
  });
});

describe("sign-in and sign-out in the audit trail", () => {
  it("records both with the account's email as subject and the person as actor, findable by user id or email", async () => {
    const email = "production-viewer@acme.test";
    const signedIn = await signInThroughPortal(email);
    expect(signedIn.status).toBe(302);
    await callRoute(signOutRoute.action, fromBrowser("/sign-out", { cookie: cookieOf(signedIn.headers), method: "POST" }));
    await signInThroughPortal(email, "wrong-password");

    const id = await userId(email);
    const byEmail = await getDb().selectFrom("audit_event").where("subject_type", "=", "account").where("subject_id", "=", email)
      .select(["action", "actor_user_id", "actor_label", "client_ip", "user_agent", "organization_id", "tenant_id"]).orderBy("id").execute();
    expect(byEmail.map((e) => e.action)).toEqual(["auth.sign_in", "auth.sign_out", "auth.sign_in_failed"]);
    expect(byEmail[0]).toEqual({ action: "auth.sign_in", actor_user_id: id, actor_label: "Production Viewer", client_ip: "203.0.113.7", user_agent: UA, organization_id: null, tenant_id: null });
    expect(byEmail[1]).toMatchObject({ action: "auth.sign_out", actor_user_id: id, client_ip: "203.0.113.7" });
    const byUser = await getDb().selectFrom("audit_event").where("actor_user_id", "=", id).where("action", "like", "auth.%").select("action").orderBy("id").execute();
    expect(byUser.map((e) => e.action)).toEqual(["auth.sign_in", "auth.sign_out"]);
  });
});

describe("where people land", () => {
  it("someone with one organization and one tenant lands in it, at home and at the chooser", async () => {
    const cookie = await signIn("production-editor@acme.test");
    const atHome = await callRoute(home.loader, makeRequest("/", { cookie }));
    expect(atHome.headers.get("Location")).toBe("/o/acme-health/t/production/exports");
    const chooser = await callRoute(exportsChooser.loader, makeRequest("/exports", { cookie }));
    expect(chooser.status).toBe(302);
    expect(chooser.headers.get("Location")).toBe("/o/acme-health/t/production/exports");
  });

  it("someone with a choice to make is asked to choose", async () => {
    const cookie = await signIn("owner@acme.test");
    const atHome = await callRoute(home.loader, makeRequest("/", { cookie }));
    expect(atHome.headers.get("Location")).toBe("/exports");
    const chooser = await callRoute(exportsChooser.loader, makeRequest("/exports", { cookie }));
    expect(chooser.status).toBe(200);
    expect(chooser.data.shell.choices.length).toBeGreaterThan(1);
  });
});
