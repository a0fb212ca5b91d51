import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import { startApp, type RunningApp } from "../setup/app-server";
import { signIn } from "../setup/routes";
import { tenantBySlug } from "../setup/api";

// The exports page's answers, kept by the portal as `npm start` runs it, over HTTP: sent again, or 304 while
// the reader's copy is current, until anything the page shows changes. Changes made behind the portal's back
// (SQL here, another process in production) reach it by notification within milliseconds, hence expect.poll;
// the portal's own forms empty what it kept at once.
let app: RunningApp;
let editor: string;

beforeAll(async () => {
  app = await startApp();
  editor = await signIn("production-editor@acme.test");
}, 90_000);
afterAll(() => app?.stop());

const PAGE = "/o/acme-health/t/production/exports";
const POLL = `${PAGE}.data?_routes=${encodeURIComponent("routes/o.$org.t.$tenant.exports._index")}`;
const get = (cookie: string, tag?: string, path = POLL) =>
  fetch(app.url + path, { headers: { Cookie: cookie, ...(tag && { "If-None-Match": tag }) }, redirect: "manual" });
/** The answer once it is no longer `tag`'s: what a change made behind the portal's back brings within milliseconds. */
async function changed(cookie: string, tag: string, path = POLL) {
  let res = await get(cookie, tag, path);
  await expect.poll(async () => (res = await get(cookie, tag, path)).status, { timeout: 2000, interval: 10 }).not.toBe(304);
  return res;
}

async function insertExport(status: string) {
  const tenant = await tenantBySlug("production");
  const { rows } = await sql<{ id: string }>`
    insert into export (tenant_id, organization_id, scope, filters, data_types, formats, status, rows_done, rows_expected)
    values (${tenant.id}, ${tenant.organization_id}, '{"type":"tenant"}', '{}', array['hsi_records'], array['ndjson'], ${status}, 0, 100)
    returning id`.execute(getDb());
  return rows[0].id;
}

describe("the exports page's kept answers", () => {
  it("answer 304 while nothing changed, and the new page with a new tag once an export moves, appears or goes", async () => {
    const id = await insertExport("running");
    let first = await get(editor);
    await expect.poll(async () => (first = await get(editor)).text().then((t) => t.includes(id)), { timeout: 2000, interval: 10 }).toBe(true);
    expect(first.status).toBe(200);
    expect(first.headers.get("cache-control")).toBe("private, no-cache");
    const tag = first.headers.get("etag")!;
    expect(tag).toMatch(/^W\/".+"$/);

    const again = await get(editor, tag);
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect(again.headers.get("etag")).toBe(tag);

    // The page itself, as a reload asks it, is kept the same way.
    const document = await get(editor, undefined, PAGE);
    expect(document.status).toBe(200);
    expect(document.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await document.text()).toContain("</html>");
    expect((await get(editor, document.headers.get("etag")!, PAGE)).status).toBe(304);

    // Progress, a new export and a removed one each bring a new answer, whose tag is then current.
    let added = "";
    const changes = [
      // turbo-stream writes each distinct value once, so the progress shows as the string "40" in the answer.
      { change: () => getDb().updateTable("export").set({ rows_done: "40" }).where("id", "=", id).execute(), shows: (body: string) => expect(body).toContain('"40"') },
      { change: async () => void (added = await insertExport("pending")), shows: (body: string) => expect(body).toContain(added) },
      { change: () => getDb().deleteFrom("export").where("id", "=", id).execute(), shows: (body: string) => expect(body).not.toContain(id) },
    ];
    let current = tag;
    for (const { change, shows } of changes) {
      await change();
      const res = await changed(editor, current);
      expect(res.status).toBe(200);
      shows(await res.text());
      current = res.headers.get("etag")!;
      expect((await get(editor, current)).status).toBe(304);
    }
  });

  it("show at once what the portal's own forms did", async () => {
    const id = await insertExport("pending");
    await expect.poll(async () => (await (await get(editor)).text()).includes(id), { timeout: 2000, interval: 10 }).toBe(true);
    const cancel = await fetch(`${app.url}${PAGE}?index`, {
      method: "POST",
      headers: { Cookie: editor, Origin: app.url },
      body: new URLSearchParams({ intent: "cancel", exportId: id }),
      redirect: "manual",
    });
    expect(cancel.status).toBe(200);
    // No waiting: the very next read is rendered anew.
    const after = await (await get(editor)).text();
    expect(after).toMatch(new RegExp(`"${id}","status","cancelled"`));
  });

  it("are never another session's, a signed-out cookie's, or a former role's", async () => {
    const mine = await get(editor);
    const tag = mine.headers.get("etag")!;
    // Someone else gets their own page: the admin may do more than the editor.
    const admin = await signIn("production-admin@acme.test");
    const theirs = await get(admin, tag);
    expect(theirs.status).toBe(200);
    expect(theirs.headers.get("etag")).not.toBe(tag);

    // A demoted editor gets the page of a viewer, who may not start exports.
    const user = await getDb().selectFrom("user").select("id").where("email", "=", "production-editor@acme.test").executeTakeFirstOrThrow();
    const tenant = await tenantBySlug("production");
    const role = (r: "viewer" | "editor") => getDb().updateTable("tenant_member").set({ role: r }).where("tenant_id", "=", tenant.id).where("user_id", "=", user.id).execute();
    const editorsPage = await get(editor, undefined, PAGE);
    expect(await editorsPage.text()).toContain("New export");
    await role("viewer");
    let viewersTag = "";
    try {
      const demoted = await changed(editor, editorsPage.headers.get("etag")!, PAGE);
      expect(demoted.status).toBe(200);
      viewersTag = demoted.headers.get("etag")!;
      const html = await demoted.text();
      expect(html).not.toContain("New export");
      expect(html).toContain("You don&#x27;t have permission to create exports");
    } finally {
      await role("editor");
    }
    expect(await (await changed(editor, viewersTag, PAGE)).text()).toContain("New export");

    // Signed out: the old cookie at once gets only what Remix answers a signed-out request.
    const current = (await get(editor)).headers.get("etag")!;
    const out = await fetch(app.url + "/sign-out", { method: "POST", headers: { Cookie: editor, Origin: app.url }, redirect: "manual" });
    expect(out.status).toBe(302);
    const gone = await get(editor, current);
    expect(gone.status).not.toBe(304);
    expect(gone.headers.get("etag")).toBeNull();
    expect((await get(editor, undefined, PAGE)).status).toBe(302);
  });
});
