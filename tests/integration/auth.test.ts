import { describe, expect, it } from "vitest";
import * as home from "../../app/routes/_index";
import * as signInRoute from "../../app/routes/sign-in";
import * as signOutRoute from "../../app/routes/sign-out";
import * as exportsPage from "../../app/routes/o.$org.t.$tenant.exports._index";
import { callRoute, makeRequest } from "../setup/routes";

const cookieOf = (headers: Headers) => headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
const exportsParams = { org: "acme-health", tenant: "production" };

describe("sign-in flow", () => {
  it("sends a visitor to sign-in and back to the page they asked for", async () => {
    const res = await callRoute(exportsPage.loader, makeRequest("/o/acme-health/t/production/exports?page=2"), exportsParams);
    expect(res.status).toBe(302);
    expect(res.headers.get("Location")).toBe(`/sign-in?redirectTo=${encodeURIComponent("/o/acme-health/t/production/exports?page=2")}`);
  });

  it("rejects bad credentials with a clear message and keeps the email", async () => {
    const res = await callRoute(
      signInRoute.action,
      makeRequest("/sign-in", { form: { email: "production-editor@acme.test", password: "wrong-password", redirectTo: "/" } }),
    );
    expect(res.status).toBe(401);
    expect(res.data).toEqual({ error: "Incorrect email or password.", email: "production-editor@acme.test" });
    expect(res.headers.getSetCookie()).toEqual([]);
  });

  it("answers a body that is not a form with 400, not 500", async () => {
    const request = new Request("http://localhost:3000/sign-in", { method: "POST", body: '{"email":"x"}', headers: { "Content-Type": "application/json" } });
    const res = await callRoute(signInRoute.action, request);
    expect(res.status).toBe(400);
    expect(res.data.error).toBe("Enter your email and password.");
  });

  it("asks for both fields when one is missing", async () => {
    const res = await callRoute(signInRoute.action, makeRequest("/sign-in", { form: { email: "x@acme.test", password: "" } }));
    expect(res.status).toBe(400);
    expect(res.data.error).toBe("Enter your email and password.");
  });

  it("signs in, returns to the requested page, then signs out", async () => {
    const target = "/o/acme-health/t/production/exports";
    const signedIn = await callRoute(
      signInRoute.action,
      makeRequest("/sign-in", { form: { email: "production-editor@acme.test", password: "exportal-demo", redirectTo: target } }),
    );
    expect(signedIn.status).toBe(302);
    expect(signedIn.headers.get("Location")).toBe(target);
    const cookie = cookieOf(signedIn.headers);
    expect(cookie).toContain("session_token");

    const page = await callRoute(exportsPage.loader, makeRequest(target, { cookie }), exportsParams);
    expect(page.status).toBe(200);
    expect(page.data.tenant.name).toBe("Production");

    const signedOut = await callRoute(signOutRoute.action, makeRequest("/sign-out", { cookie, method: "POST" }));
    expect(signedOut.status).toBe(302);
    expect(signedOut.headers.get("Location")).toBe("/sign-in");
    const after = await callRoute(exportsPage.loader, makeRequest(target, { cookie }), exportsParams);
    expect(after.status).toBe(302);
    expect(after.headers.get("Location")).toMatch(/^\/sign-in\?redirectTo=/);
  });

  it("never redirects off-site after sign-in", async () => {
    const res = await callRoute(
      signInRoute.action,
      makeRequest("/sign-in", { form: { email: "viewer@nowhere.test", password: "x", redirectTo: "//evil.example" } }),
    );
    expect(res.status).toBe(401);
    const ok = await callRoute(
      signInRoute.action,
      makeRequest("/sign-in", { form: { email: "production-viewer@acme.test", password: "exportal-demo", redirectTo: "//evil.example" } }),
    );
    expect(ok.headers.get("Location")).toBe("/");
  });

  it("home sends a signed-in user with tenants to choose from, and none chosen yet, to the exports page that asks for one", async () => {
    const signedIn = await callRoute(
      signInRoute.action,
      makeRequest("/sign-in", { form: { email: "owner@acme.test", password: "exportal-demo" } }),
    );
    const res = await callRoute(home.loader, makeRequest("/", { cookie: cookieOf(signedIn.headers) }));
    expect(res.headers.get("Location")).toBe("/exports");
  });
});
