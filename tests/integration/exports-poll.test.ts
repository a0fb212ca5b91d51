import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import { startApp, type RunningApp } from "../setup/app-server";
import { signIn } from "../setup/routes";
import { tenantBySlug } from "../setup/api";

// The exports page's 1.5 s poll over HTTP, against the portal as `npm start` runs it: a 304 while the
// reader's copy is current, a full answer with a new tag as soon as anything the page shows changes.
let app: RunningApp;
let editor: string;

beforeAll(async () => {
  app = await startApp();
  editor = await signIn("production-editor@acme.test");
}, 90_000);
afterAll(() => app?.stop());

const POLL = `/o/acme-health/t/production/exports.data?_routes=${encodeURIComponent("routes/o.$org.t.$tenant.exports._index")}`;
const poll = (cookie: string, tag?: string, path = POLL) =>
  fetch(app.url + path, { headers: { Cookie: cookie, ...(tag && { "If-None-Match": tag }) }, redirect: "manual" });

async function insertExport(status: string) {
  const tenant = await tenantBySlug("production");
  const { rows } = await sql<{ id: string }>`
    insert into export (tenant_id, organization_id, scope, filters, data_types, formats, status, rows_done, rows_expected)
    values (${tenant.id}, ${tenant.organization_id}, '{"type":"tenant"}', '{}', array['hsi_records'], array['ndjson'], ${status}, 0, 100)
    returning id`.execute(getDb());
  return rows[0].id;
}

describe("the exports page's poll", () => {
  it("answers 304 with no body while nothing changed, and the full data with a new tag once an export moves, appears or goes", async () => {
    const id = await insertExport("running");
    const first = await poll(editor);
    expect(first.status).toBe(200);
    expect(first.headers.get("cache-control")).toBe("private, no-cache");
    const tag = first.headers.get("etag")!;
    expect(tag).toMatch(/^W\/".+"$/);
    expect(await first.text()).toContain(id);

    const again = await poll(editor, tag);
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect(again.headers.get("etag")).toBe(tag);

    // Progress, a new export and a removed one each make a new tag and a full answer.
    const changes = [
      () => getDb().updateTable("export").set({ rows_done: "40" }).where("id", "=", id).execute(),
      () => insertExport("pending"),
      () => getDb().deleteFrom("export").where("id", "=", id).execute(),
    ];
    let current = tag;
    for (const change of changes) {
      await change();
      const res = await poll(editor, current);
      expect(res.status).toBe(200);
      expect(res.headers.get("etag")).not.toBe(current);
      current = res.headers.get("etag")!;
      expect((await poll(editor, current)).status).toBe(304);
    }
  });

  it("never answers 304 to someone else, to a signed-out cookie, after a change of role, or outside the poll", async () => {
    const tag = (await poll(editor)).headers.get("etag")!;
    // Someone else has a tag of their own.
    const admin = await signIn("production-admin@acme.test");
    expect((await poll(admin, tag)).status).toBe(200);
    // The same page at another address (another page of the list) and a navigation's data request are not the poll.
    expect((await poll(editor, tag, `${POLL}&page=1`)).status).not.toBe(304);
    expect((await poll(editor, tag, "/o/acme-health/t/production/exports.data")).status).not.toBe(304);

    // A demoted editor gets a full answer, whose permissions say what they may do now.
    const user = await getDb().selectFrom("user").select("id").where("email", "=", "production-editor@acme.test").executeTakeFirstOrThrow();
    const tenant = await tenantBySlug("production");
    const role = (r: "viewer" | "editor") => getDb().updateTable("tenant_member").set({ role: r }).where("tenant_id", "=", tenant.id).where("user_id", "=", user.id).execute();
    await role("viewer");
    try {
      expect((await poll(editor, tag)).status).toBe(200);
    } finally {
      await role("editor");
    }
    expect((await poll(editor, tag)).status).toBe(304);

    // Signed out: the old cookie gets no 304, only what Remix answers a signed-out data request (the session's
    // end reaches the poll's check by notification, within milliseconds).
    await fetch(app.url + "/sign-out", { method: "POST", headers: { Cookie: editor, Origin: app.url }, redirect: "manual" });
    await expect.poll(async () => (await poll(editor, tag)).headers.get("etag"), { timeout: 1000, interval: 10 }).toBeNull();
    expect((await poll(editor, tag)).status).not.toBe(304);
  });
});
