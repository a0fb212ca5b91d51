import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { runningEmbeddedPostgres, startEmbeddedPostgres } from "../../db/embedded";
import { startApp, type RunningApp } from "../setup/app-server";

// A real first start: the portal with EXPORTAL_DEMO=false on an empty database, the create-owner
// command as an operator runs it, and the link it prints, as the new owner opens it.
const serverUrl = inject("serverUrl");
const name = `fresh_${randomBytes(6).toString("hex")}`;
const freshUrl = `${serverUrl}/${name}`;
const admin = postgres(`${serverUrl}/postgres`, { max: 1, onnotice: () => {} });
const fresh = postgres(freshUrl, { max: 1, onnotice: () => {}, connection: { statement_timeout: 30_000 } });
let app: RunningApp;

beforeAll(async () => {
  await admin.unsafe(`CREATE DATABASE ${name}`);
  app = await startApp({ DATABASE_URL: freshUrl, EXPORTAL_DEMO: "false" });
}, 90_000);

// What the portal printed, when a test here fails: a request that failed on its side says why there.
beforeEach(({ onTestFailed }) => onTestFailed(() => console.error(`The portal's output:\n${app.output().slice(-6000)}`)));

afterAll(async () => {
  await app?.stop();
  await fresh.end();
  await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
});

/**
 * `npm run admin -- …` against the fresh database (what it runs, built by `npm test`'s build): its exit code
 * and what it printed. A command that has not ended within a minute is killed (code -1), so a hang fails at
 * its own line and shows its output instead of running into the test's timeout.
 */
function adminCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["build/admin/admin.js", ...args], { env: { ...process.env, DATABASE_URL: freshUrl, PUBLIC_URL: app.url }, timeout: 60_000, killSignal: "SIGKILL" },
      (error, stdout, stderr) => {
        if (error?.killed) resolve({ code: -1, stdout, stderr: `${stderr}[killed: still running after 60 s]` });
        else resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      });
  });
}

/** A request to the portal that gives up after 30 s, so a request that hangs fails at its own line. */
const request = (url: string, init: RequestInit = {}) => fetch(url, { signal: AbortSignal.timeout(30_000), ...init });

const linkIn = (stdout: string) => stdout.match(/http:\/\/\S+\/set-password\/\S+/)?.[0];

/** A form post as the browser sends it from the portal's own page. */
const post = (url: string, form: Record<string, string>, cookie?: string) =>
  request(url, {
    method: "POST",
    redirect: "manual",
    headers: { Origin: app.url, "Content-Type": "application/x-www-form-urlencoded", ...(cookie ? { Cookie: cookie } : {}) },
    body: new URLSearchParams(form),
  });

const cookieOf = (res: Response) => res.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");

describe("EXPORTAL_DEMO=false and create-owner", () => {
  it("starts with an empty database and says how to make the first organization", async () => {
    expect(app.output()).toContain("npm run admin -- create-owner");
    expect(app.output()).not.toContain("Demo accounts");
    expect(await fresh`select count(*)::int as n from organization`).toEqual([{ n: 0 }]);
    expect(await fresh`select count(*)::int as n from "user"`).toEqual([{ n: 0 }]);
  });

  it("create-owner → the link → a password → signed in, in the empty organization; the link works once", async () => {
    const made = await adminCli("create-owner", "--email", "Nora@Northwind.example", "--org", "Northwind Clinics", "--name", "Nora North");
    expect(made.stderr).toBe("");
    expect(made.code).toBe(0);
    expect(made.stdout).toContain("Created organization “Northwind Clinics” (/o/northwind-clinics) with tenant “Production”, owned by Nora North <nora@northwind.example>.");
    const link = linkIn(made.stdout)!;
    expect(link).toMatch(new RegExp(`^${app.url}/set-password/[A-Za-z0-9_-]{43}$`));
    // Only a hash of the token is kept.
    const token = link.split("/").pop()!;
    expect(await fresh`select count(*)::int as n from verification where identifier like ${"%" + token + "%"}`).toEqual([{ n: 0 }]);

    const page = await request(link);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("Set your password");
    expect(html).toContain("nora@northwind.example");

    const mismatch = await post(link, { password: "a-long-password", confirmPassword: "another-password" });
    expect(mismatch.status).toBe(400);
    expect(await mismatch.text()).toContain("The two passwords do not match.");

    const set = await post(link, { password: "a-long-password", confirmPassword: "a-long-password" });
    expect(set.status).toBe(302);
    expect(set.headers.get("Location")).toBe("/o/northwind-clinics/t/production/exports");
    const cookie = cookieOf(set);
    expect(cookie).toContain("session_token");

    const exportsPage = await request(app.url + set.headers.get("Location"), { headers: { Cookie: cookie } });
    expect(exportsPage.status).toBe(200);
    const exportsHtml = await exportsPage.text();
    expect(exportsHtml).toContain("No exports yet.");
    expect(exportsHtml).toContain("Northwind Clinics");
    // Home lands there too: one organization, one tenant.
    const home = await request(`${app.url}/`, { headers: { Cookie: cookie }, redirect: "manual" });
    expect(home.headers.get("Location")).toBe("/o/northwind-clinics/t/production/exports");

    // The password signs in on its own.
    const signIn = await post(`${app.url}/sign-in`, { email: "nora@northwind.example", password: "a-long-password" });
    expect(signIn.status).toBe(302);

    const again = await request(link);
    expect(again.status).toBe(410);
    expect(await again.text()).toContain("This link no longer works");
    const reuse = await post(link, { password: "an-attackers-password", confirmPassword: "an-attackers-password" });
    expect(reuse.status).toBe(410);
    expect((await post(`${app.url}/sign-in`, { email: "nora@northwind.example", password: "an-attackers-password" })).status).toBe(401);

    const events = await fresh`select action, subject_type, actor_user_id from audit_event where action in ('account.password_set', 'auth.sign_in') order by id`;
    const [{ id }] = await fresh`select id from "user" where email = 'nora@northwind.example'`;
    expect(events).toEqual([
      { action: "account.password_set", subject_type: "user", actor_user_id: id },
      { action: "auth.sign_in", subject_type: "account", actor_user_id: id },
      { action: "auth.sign_in", subject_type: "account", actor_user_id: id },
    ]);
    expect(await fresh`select role from member where "userId" = ${id}`).toEqual([{ role: "owner" }]);
  }, 120_000);

  it("refuses an expired link and an unknown one", async () => {
    const made = await adminCli("create-owner", "--email", "late@example.com", "--org", "Late Labs");
    expect(made.code, made.stderr).toBe(0);
    const link = linkIn(made.stdout)!;
    const [{ id }] = await fresh`select id from "user" where email = 'late@example.com'`;
    await fresh`update verification set "expiresAt" = now() - interval '1 minute' where value = ${id}`;
    const expired = await request(link);
    expect(expired.status).toBe(410);
    expect(await expired.text()).toContain("This link no longer works");
    expect((await post(link, { password: "a-long-password", confirmPassword: "a-long-password" })).status).toBe(410);
    expect((await request(`${app.url}/set-password/not-a-token`)).status).toBe(410);
  }, 120_000);

  it("says what is wrong: missing flags (usage, exit 2), an email in use, an organization name taken (exit 1)", async () => {
    // Each is a process of its own: run them side by side.
    const [missing, nothing, notEmail, email, org] = await Promise.all([
      adminCli("create-owner", "--email", "x@example.com"),
      adminCli(),
      adminCli("create-owner", "--email", "not-an-email", "--org", "X"),
      adminCli("create-owner", "--email", "NORA@northwind.example", "--org", "Another Org"),
      adminCli("create-owner", "--email", "someone@example.com", "--org", "northwind clinics"),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("Missing --org.");
    expect(missing.stderr).toContain("Usage: npm run admin -- create-owner");
    expect(nothing.code).toBe(2);
    expect(notEmail.code).toBe(2);
    expect(notEmail.stderr.trim()).toBe("“not-an-email” is not an email address.");

    expect(email.code).toBe(1);
    expect(email.stderr.trim()).toBe("An account with the email nora@northwind.example already exists.");
    expect(org.code).toBe(1);
    expect(org.stderr.trim()).toBe("An organization named “northwind clinics” already exists.");
    expect(await fresh`select count(*)::int as n from "user" where email in ('someone@example.com', 'x@example.com')`).toEqual([{ n: 0 }]);
  }, 120_000);
});

describe("joining the embedded PostgreSQL npm start runs", () => {
  it("finds the running server from its data directory, and nothing once it stopped", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "exportal-join-"));
    await chmod(dir, 0o755); // the embedded server may run as the postgres user
    const pg = await startEmbeddedPostgres(path.join(dir, "postgres"), "exportal", "join-test-password");
    try {
      const url = await runningEmbeddedPostgres(path.join(dir, "postgres"), "exportal", "join-test-password");
      expect(url).toBe(pg.url);
      const sql = postgres(url!, { max: 1, onnotice: () => {} });
      expect(await sql`select 1 as one`).toEqual([{ one: 1 }]);
      await sql.end();
      expect(await runningEmbeddedPostgres(path.join(dir, "postgres"), "exportal", "a-wrong-password")).toBeNull();
    } finally {
      await pg.destroy();
      await rm(dir, { recursive: true, force: true });
    }
    expect(await runningEmbeddedPostgres(path.join(dir, "postgres"), "exportal", "join-test-password")).toBeNull();
  }, 60_000);
});
