import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import { getAuth } from "../../app/auth/auth.server";
import * as signInRoute from "../../app/routes/sign-in";
import { startApp, type RunningApp } from "../setup/app-server";
import { callRoute, makeRequest, signIn } from "../setup/routes";

// The portal's doors as a browser (or a forger) meets them: over HTTP, against
// the portal started as `npm start` starts it, on this file's database.
let app: RunningApp;
let viewer: string;
let editor: string;

beforeAll(async () => {
  app = await startApp();
  viewer = await signIn("production-viewer@acme.test");
  editor = await signIn("production-editor@acme.test");
}, 90_000);
afterAll(async () => {
  if (process.env.DEBUG_APP) console.log(app?.output());
  await app?.stop();
});

const form = (fields: Record<string, string>) => new URLSearchParams(fields);
const post = (path: string, init: { body?: BodyInit; headers?: Record<string, string> } = {}) =>
  fetch(app.url + path, { method: "POST", redirect: "manual", ...init, ...({ duplex: "half" } as object) });
const exportCount = async () => Number((await getDb().selectFrom("export").select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow()).n);

describe("cross-site form posts (item 9)", () => {
  const signInForm = () => form({ email: "production-viewer@acme.test", password: "exportal-demo", redirectTo: "/" });

  it.each([
    ["another site's Origin", { Origin: "http://evil.example" }],
    ["an opaque Origin", { Origin: "null" }],
    ["a lookalike Origin", { Origin: "http://localhost.evil.example" }],
    ["no Origin, Sec-Fetch-Site cross-site", { "Sec-Fetch-Site": "cross-site" }],
    ["no Origin, another site's Referer", { Referer: "http://evil.example/form.html" }],
  ])("sign-in with %s is refused with 403 and a page saying why", async (_what, headers) => {
    const res = await post("/sign-in", { body: signInForm(), headers });
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await res.text()).toMatch(/came from another site/);
    expect(res.headers.getSetCookie()).toEqual([]);
  });

  it("refuses a forged export request before the action runs", async () => {
    const before = await exportCount();
    const res = await post("/o/acme-health/t/production/exports", {
      body: form({ scope: "tenant", format: "csv" }),
      headers: { Cookie: editor, Origin: "http://evil.example" },
    });
    expect(res.status).toBe(403);
    expect(await exportCount()).toBe(before);
  });

  it("lets the portal's own forms through, by PUBLIC_URL or by Host, and clients that send no origin at all", async () => {
    expect((await post("/sign-in", { body: signInForm(), headers: { Origin: app.url } })).status).toBe(302);
    const byHost = app.url.replace("localhost", "127.0.0.1");
    const res = await fetch(byHost + "/sign-in", { method: "POST", body: signInForm(), headers: { Origin: byHost }, redirect: "manual" });
    expect(res.status).toBe(302);
    expect((await post("/sign-in", { body: signInForm(), headers: { "Sec-Fetch-Site": "same-origin" } })).status).toBe(302);
    expect((await post("/sign-in", { body: signInForm(), headers: { Referer: `${app.url}/sign-in` } })).status).toBe(302);
    expect((await post("/sign-in", { body: signInForm() })).status).toBe(302);
  });

  it("leaves the /api/v1 API (Bearer keys, no cookies) to its own answers, but guards better-auth's cookie endpoints", async () => {
    const api = await post("/api/v1/exports", { body: "{}", headers: { Origin: "http://evil.example", "Content-Type": "application/json" } });
    expect(api.status).toBe(401);
    const auth = await post("/api/auth/sign-out", { headers: { Cookie: viewer, Origin: "http://evil.example" } });
    expect(auth.status).toBe(403);
  });
});

describe("form body size (item 10)", () => {
  const sameSite = { Origin: "" };
  beforeAll(() => {
    sameSite.Origin = app.url;
  });

  it("refuses a 20 MB form post to /sign-in with 413 at once", async () => {
    const body = "email=a%40b.test&password=" + "x".repeat(20 * 1024 * 1024);
    const started = Date.now();
    const res = await post("/sign-in", { body, headers: { ...sameSite, "Content-Type": "application/x-www-form-urlencoded" } });
    expect(res.status).toBe(413);
    expect(await res.text()).toMatch(/larger than 1 MB/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("refuses a streamed body (no Content-Length) once it passes 1 MB", async () => {
    let sent = 0;
    const stream = new ReadableStream({
      pull(controller) {
        if (sent >= 4 * 1024 * 1024) return controller.close();
        controller.enqueue(new TextEncoder().encode(sent === 0 ? "email=a%40b.test&password=" : "x".repeat(64 * 1024)));
        sent += 64 * 1024;
      },
    });
    const res = await post("/sign-in", { body: stream, headers: { ...sameSite, "Content-Type": "application/x-www-form-urlencoded" } });
    expect(res.status).toBe(413);
  });

  it("a streamed body under the limit still reaches the action", async () => {
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("email=production-viewer%40acme.test&"));
        controller.enqueue(new TextEncoder().encode("password=exportal-demo&redirectTo=%2Fexports"));
        controller.close();
      },
    });
    const res = await post("/sign-in", { body: stream, headers: { ...sameSite, "Content-Type": "application/x-www-form-urlencoded" } });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/exports");
  });

  it("the dashboard import keeps its own 1 MB file limit and message", async () => {
    const upload = new FormData();
    upload.set("file", new File(["x".repeat(1_010_000)], "big.json", { type: "application/json" }));
    const res = await post("/o/acme-health/t/production/dashboards/import", { body: upload, headers: { ...sameSite, Cookie: editor } });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/The file is larger than 1 MB/);
  });
});

describe("better-auth's HTTP API is closed but for what the portal uses (item 11)", () => {
  const withViewer = (headers: Record<string, string> = {}) => ({ Cookie: viewer, Origin: app.url, ...headers });

  it("a viewer cannot list every member's email of the organization", async () => {
    for (const path of ["/api/auth/organization/list-members?organizationSlug=acme-health", "/api/auth/organization/get-full-organization?organizationSlug=acme-health"]) {
      const res = await fetch(app.url + path, { headers: withViewer() });
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain("owner@acme.test");
    }
  });

  it("no one creates organizations, over HTTP or through better-auth itself", async () => {
    const count = async () => (await getDb().selectFrom("organization").select("id").execute()).length;
    const before = await count();
    const res = await post("/api/auth/organization/create", { body: JSON.stringify({ name: "Mine", slug: "mine" }), headers: withViewer({ "Content-Type": "application/json" }) });
    expect(res.status).toBe(404);
    await expect(getAuth().api.createOrganization({ body: { name: "Mine", slug: "mine" }, headers: new Headers({ Cookie: viewer }) })).rejects.toThrow(/not allowed to create/i);
    expect(await count()).toBe(before);
  });

  it("users cannot rename themselves, so the audit trail's names stay theirs", async () => {
    const res = await post("/api/auth/update-user", { body: JSON.stringify({ name: "Olivia Owner" }), headers: withViewer({ "Content-Type": "application/json" }) });
    expect(res.status).toBe(404);
    const user = await getDb().selectFrom("user").select("name").where("email", "=", "production-viewer@acme.test").executeTakeFirstOrThrow();
    expect(user.name).not.toBe("Olivia Owner");
  });

  it("sign-in goes through the portal's limited form only; the session read stays open", async () => {
    const direct = await post("/api/auth/sign-in/email", { body: JSON.stringify({ email: "production-viewer@acme.test", password: "exportal-demo" }), headers: { Origin: app.url, "Content-Type": "application/json" } });
    expect(direct.status).toBe(404);
    expect(direct.headers.getSetCookie()).toEqual([]);
    const session = await fetch(app.url + "/api/auth/get-session", { headers: { Cookie: viewer } });
    expect(session.status).toBe(200);
    expect((await session.json()).user.email).toBe("production-viewer@acme.test");
  });
});

describe("sign-in limits over HTTP (item 8)", () => {
  it("counts the socket's address, answers the page with 429 and Retry-After, and keeps the email", async () => {
    const email = "staging-editor@acme.test";
    for (let i = 0; i < 5; i++) expect((await post("/sign-in", { body: form({ email, password: "wrong" }), headers: { Origin: app.url } })).status).toBe(401);
    const res = await post("/sign-in", { body: form({ email, password: "exportal-demo" }), headers: { Origin: app.url, "X-Forwarded-For": "203.0.113.1" } });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(800);
    const page = await res.text();
    expect(page).toContain("Too many sign-in attempts. Try again in 15 minutes.");
    expect(page).toContain(`value="${email}"`);
    const events = await getDb().selectFrom("audit_event").where("subject_id", "=", email).select("details").execute();
    // Without EXPORTAL_TRUST_PROXY, X-Forwarded-For is the client's say-so and does not count.
    expect(events.map((e) => e.details.ip)).toEqual(Array(6).fill("127.0.0.1"));
  });

  it("holds across processes: failures counted here lock the account in the portal's process", async () => {
    const email = "staging-viewer@acme.test";
    for (let i = 0; i < 5; i++) await callRoute(signInRoute.action, makeRequest("/sign-in", { form: { email, password: "wrong" } }));
    const res = await post("/sign-in", { body: form({ email, password: "exportal-demo" }), headers: { Origin: app.url } });
    expect(res.status).toBe(429);
  });
});
