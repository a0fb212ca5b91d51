import { beforeAll, describe, expect, it } from "vitest";
import * as signInRoute from "../../app/routes/sign-in";
import { callRoute, makeRequest, signIn } from "../setup/routes";

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
