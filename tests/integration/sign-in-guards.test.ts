import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import * as signInRoute from "../../app/routes/sign-in";
import { callRoute, makeRequest, signIn } from "../setup/routes";
import { CLIENT_IP_HEADER } from "../../app/lib/client.server";

let viewer: string;
beforeAll(async () => {
  viewer = await signIn("production-viewer@acme.test");
});

// Paths a browser would take somewhere else (a tab or newline is dropped from Location, a backslash read as a slash),
// and values that cannot even be a header.
const OFF_SITE = [
  "/\t/evil.example",
  "/\n/evil.example",
  "/\r\n/evil.example",
  "//evil.example",
  "/.//evil.example",
  "/../..//evil.example",
  "/\\evil.example",
  "\\/evil.example",
  "https://evil.example/",
  "javascript:alert(1)",
  " /ok",
  "/ok\u0000",
  "/ok\r\nSet-Cookie: x=1",
  "/\u0085/evil.example",
  "",
];

describe("where sign-in sends people (item 7)", () => {
  it.each(OFF_SITE)("a signed-in visit with redirectTo=%j goes to /", async (to) => {
    const res = await callRoute(signInRoute.loader, makeRequest(`/sign-in?redirectTo=${encodeURIComponent(to)}`, { cookie: viewer }));
    expect(res.status).toBe(302);
    expect(res.headers.get("Location")).toBe("/");
  });

  it.each(OFF_SITE)("signing in with redirectTo=%j goes to /", async (to) => {
    const res = await callRoute(signInRoute.action, makeRequest("/sign-in", { form: { email: "production-viewer@acme.test", password: "exportal-demo", redirectTo: to } }));
    expect(res.status).toBe(302);
    expect(res.headers.get("Location")).toBe("/");
  });

  it("the tab the issue names, as the browser sends it, stays on the site", async () => {
    const res = await callRoute(signInRoute.loader, makeRequest("/sign-in?redirectTo=/%09/evil.example", { cookie: viewer }));
    expect(res.headers.get("Location")).toBe("/");
  });

  it.each([
    ["/o/acme-health/t/production/exports?page=2", "/o/acme-health/t/production/exports?page=2"],
    ["/o/acme-health/t/production/exports#new", "/o/acme-health/t/production/exports#new"],
    ["/exports/é", "/exports/%C3%A9"],
  ])("same-site paths pass: %j", async (to, location) => {
    const res = await callRoute(signInRoute.loader, makeRequest(`/sign-in?redirectTo=${encodeURIComponent(to)}`, { cookie: viewer }));
    expect(res.headers.get("Location")).toBe(location);
  });
});

/** The sign-in form posted from `ip`, as server.ts marks the client's address on the request. */
function postSignIn(email: string, password: string, ip?: string) {
  const request = makeRequest("/sign-in", { form: { email, password, redirectTo: "/" } });
  if (ip) request.headers.set(CLIENT_IP_HEADER, ip);
  return callRoute(signInRoute.action, request);
}

const authEvents = (email: string) =>
  getDb().selectFrom("audit_event").where("subject_type", "=", "account").where("subject_id", "=", email)
    .select(["action", "actor_user_id", "actor_label", "organization_id", "details"]).orderBy("id").execute();

describe("sign-in attempts are limited (item 8)", () => {
  it("the sixth attempt on an account within 15 minutes is refused with 429 and Retry-After, even with the right password, and keeps the email", async () => {
    const email = "staging-editor@acme.test";
    const statuses = [];
    for (let i = 0; i < 8; i++) statuses.push((await postSignIn(email, `wrong-${i}`, "198.51.100.7")).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);

    const refused = await postSignIn(email, "exportal-demo", "198.51.100.8");
    expect(refused.status).toBe(429);
    expect(refused.data).toEqual({ error: "Too many sign-in attempts. Try again in 15 minutes.", email });
    const retryAfter = Number(refused.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThan(14 * 60);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    expect(refused.headers.getSetCookie()).toEqual([]);
    // Other accounts are not affected.
    expect((await postSignIn("staging-viewer@acme.test", "exportal-demo", "198.51.100.8")).status).toBe(302);
  });

  it("audits each failure and the lock with the email and address, never the password", async () => {
    const email = "Production-Admin@acme.test";
    for (let i = 0; i < 7; i++) await postSignIn(email, "secret-guess-xyz", "203.0.113.5");
    const events = await authEvents(email);
    expect(events.map((e) => e.action)).toEqual([...Array(5).fill("auth.sign_in_failed"), "auth.sign_in_locked"]);
    for (const e of events) {
      expect(e).toMatchObject({ actor_user_id: null, organization_id: null, details: { email, ip: "203.0.113.5" } });
      expect(JSON.stringify(e)).not.toContain("secret-guess-xyz");
    }
    expect(events[5].details).toMatchObject({ limits: ["account"] });
  });

  it("a success clears the account's count", async () => {
    const email = "staging-admin@acme.test";
    for (let i = 0; i < 4; i++) expect((await postSignIn(email, "wrong", "198.51.100.20")).status).toBe(401);
    expect((await postSignIn(email, "exportal-demo", "198.51.100.20")).status).toBe(302);
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await postSignIn(email, "wrong", "198.51.100.20")).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it("twenty failures from one address refuse it for every account, while other addresses sign in", async () => {
    const ip = "192.0.2.44";
    for (let i = 0; i < 20; i++) expect((await postSignIn(`nobody-${i}@nowhere.test`, "wrong", ip)).status).toBe(401);
    const refused = await postSignIn("owner@globex.test", "exportal-demo", ip);
    expect(refused.status).toBe(429);
    expect(refused.data.error).toMatch(/^Too many sign-in attempts\. Try again in \d+ minutes?\.$/);
    expect((await postSignIn("owner@globex.test", "exportal-demo", "192.0.2.45")).status).toBe(302);
    const locked = await getDb().selectFrom("audit_event").where("action", "=", "auth.sign_in_locked").where("subject_id", "=", "owner@globex.test").select("details").execute();
    expect(locked.map((e) => e.details)).toEqual([expect.objectContaining({ ip, limits: ["address"] })]);
  });

  it("guesses sent at once cannot slip past the count", async () => {
    const email = "admin@acme.test";
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => postSignIn(email, `parallel-${i}`, `198.51.100.${100 + i}`)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([...Array(5).fill(401), ...Array(7).fill(429)]);
  });
});
