import type { LoaderFunctionArgs } from "@remix-run/node";
import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import * as apiDownload from "../../app/routes/api.v1.exports.$id.download";
import * as apiExport from "../../app/routes/api.v1.exports.$id";
import * as apiExports from "../../app/routes/api.v1.exports";
import * as apiCancel from "../../app/routes/api.v1.exports.$id.cancel";
import * as signedDownload from "../../app/routes/downloads.$id";
import * as detail from "../../app/routes/o.$org.t.$tenant.exports.$id";
import * as exportsPage from "../../app/routes/o.$org.t.$tenant.exports._index";
import * as portalDownload from "../../app/routes/o.$org.t.$tenant.exports.$id.download";
import { listExportEvents } from "../../app/audit/audit.server";
import { createExport } from "../../app/exports/exports.server";
import { signedDownloadPath } from "../../app/exports/signed-links.server";
import { ALL_KEY_PERMISSIONS, createKey } from "../setup/api";
import { exportRow, runQueuedJobs } from "../setup/exports";
import { callRoute, makeRequest, requesterFor, signIn } from "../setup/routes";

// Organization-wide exports belong to the organization: started from one
// tenant, they are still out of reach of that tenant's editors and keys.
const PROD = { org: "acme-health", tenant: "production" };
const base = "/o/acme-health/t/production/exports";
let orgExportId: string;
let prodExportId: string;
let owner: string;
let editor: string;
let prodKey: string;

type Route = { loader: (args: LoaderFunctionArgs) => unknown };

/** Calls an API route the way Remix does, with a key and the address server.ts would have set. */
function callApi(route: Route, path: string, key: string, init: { method?: string; params?: Record<string, string>; headers?: Record<string, string> } = {}) {
  const headers = { Authorization: `Bearer ${key}`, "x-exportal-client-ip": "203.0.113.7", "User-Agent": "access-test/1.0", ...init.headers };
  return callRoute(route.loader, new Request(`http://localhost:3000${path}`, { method: init.method ?? "GET", headers }), init.params);
}

function fetchSigned(path: string) {
  const url = new URL(path, "http://localhost:3000");
  const request = new Request(url, { headers: { "x-exportal-client-ip": "198.51.100.9", "User-Agent": "curl/8.0" } });
  return signedDownload.loader({ request, params: { id: url.pathname.split("/").pop()! }, context: {} });
}

beforeAll(async () => {
  [owner, editor] = await Promise.all([signIn("owner@acme.test"), signIn("production-editor@acme.test")]);
  prodKey = await createKey("production", ALL_KEY_PERMISSIONS, { name: "all of production" });
  const ownerInProduction = await requesterFor("owner@acme.test", "production");
  orgExportId = (await createExport(getDb(), ownerInProduction, { scope: { type: "organization" }, dataTypes: ["lab_results"] })).id;
  await runQueuedJobs();
  prodExportId = (await createExport(getDb(), await requesterFor("production-editor@acme.test", "production"), { dataTypes: ["lab_results"] })).id;
  await runQueuedJobs();
});

describe("an organization-wide export started from a tenant", () => {
  it("is listed, opened and downloaded by the organization's owner", async () => {
    const list = await callRoute(exportsPage.loader, makeRequest(base, { cookie: owner }), PROD);
    expect(list.data.exports.map((e: { id: string }) => e.id)).toContain(orgExportId);
    const page = await callRoute(detail.loader, makeRequest(`${base}/${orgExportId}`, { cookie: owner }), { ...PROD, id: orgExportId });
    expect(page.status).toBe(200);
    expect(page.data.signedLink).toMatch(/scope=organization/);
    const download = await callRoute(portalDownload.loader, makeRequest(`${base}/${orgExportId}/download`, { cookie: owner }), { ...PROD, id: orgExportId });
    expect(download.status).toBe(200);
  });

  it("is invisible to the tenant's editor: not listed, and its page and download answer 404 like an unknown id", async () => {
    const list = await callRoute(exportsPage.loader, makeRequest(base, { cookie: editor }), PROD);
    const ids = list.data.exports.map((e: { id: string }) => e.id);
    expect(ids).toContain(prodExportId);
    expect(ids).not.toContain(orgExportId);
    expect(list.data.total).toBe(ids.length);
    for (const path of [`${base}/${orgExportId}`, `${base}/${orgExportId}/download`]) {
      const route = path.endsWith("download") ? portalDownload.loader : detail.loader;
      expect((await callRoute(route, makeRequest(path, { cookie: editor }), { ...PROD, id: orgExportId })).status, path).toBe(404);
    }
  });

  it("cannot be cancelled by the tenant's editor", async () => {
    const running = (await createExport(getDb(), await requesterFor("owner@acme.test", "production"), { scope: { type: "organization" }, dataTypes: ["lab_results"] })).id;
    const cancel = await callRoute(exportsPage.action, makeRequest(base, { cookie: editor, form: { intent: "cancel", exportId: running } }), PROD);
    expect(cancel.status).toBe(404);
    expect((await exportRow(running)).status).toBe("pending");
    // While it runs, the editor's own export is refused without naming it.
    const blocked = await callRoute(exportsPage.action, makeRequest(base, { cookie: editor, form: { dataTypes: "lab_results", dataTypesShown: "1" } }), PROD);
    expect(blocked.status).toBe(409);
    expect(blocked.data.exportId).toBeUndefined();
    expect(blocked.data.error).not.toContain(running);
    await runQueuedJobs();
  });

  it("is out of reach of every API key of the tenant: not listed, 404 to read, download and cancel", async () => {
    const list = await callApi(apiExports, "/api/v1/exports?limit=100", prodKey);
    expect(list.status).toBe(200);
    expect(list.data.data.map((e: { id: string }) => e.id)).toContain(prodExportId);
    expect(list.data.data.map((e: { id: string }) => e.id)).not.toContain(orgExportId);
    const params = { id: orgExportId };
    expect((await callApi(apiExport, `/api/v1/exports/${orgExportId}`, prodKey, { params })).status).toBe(404);
    expect((await callApi(apiDownload, `/api/v1/exports/${orgExportId}/download`, prodKey, { params })).status).toBe(404);
    expect((await callApi(apiCancel, `/api/v1/exports/${orgExportId}/cancel`, prodKey, { method: "POST", params })).status).toBe(404);
  });

  it("opens only by a link signed for it: a link signed as a tenant export, or with its scope removed, is refused", async () => {
    const row = await exportRow(orgExportId);
    const good = signedDownloadPath(orgExportId, row.tenant_id, row.expires_at!, true);
    expect((await fetchSigned(good)).status).toBe(200);
    expect((await fetchSigned(signedDownloadPath(orgExportId, row.tenant_id, row.expires_at!))).status).toBe(403);
    expect((await fetchSigned(good.replace("scope=organization&", ""))).status).toBe(403);
  });
});

describe("expiry is checked when the download is asked for", () => {
  it("a done export past its expires_at answers 410 in the portal, by signed link and in the API, before the cleanup task ran", async () => {
    const row = await exportRow(prodExportId);
    const link = signedDownloadPath(prodExportId, row.tenant_id, new Date(Date.now() + 3_600_000));
    expect((await fetchSigned(link)).status).toBe(200);
    await getDb().updateTable("export").set({ expires_at: new Date(Date.now() - 1000) }).where("id", "=", prodExportId).execute();
    expect((await exportRow(prodExportId)).status).toBe("done");
    expect((await fetchSigned(link)).status).toBe(410);
    const portal = await callRoute(portalDownload.loader, makeRequest(`${base}/${prodExportId}/download`, { cookie: editor }), { ...PROD, id: prodExportId });
    expect(portal.status).toBe(410);
    const api = await callApi(apiDownload, `/api/v1/exports/${prodExportId}/download`, prodKey, { params: { id: prodExportId } });
    expect(api.status).toBe(410);
    expect(api.data.error.code).toBe("GONE");
    const page = await callRoute(detail.loader, makeRequest(`${base}/${prodExportId}`, { cookie: editor }), { ...PROD, id: prodExportId });
    expect(page.data.signedLink).toBeNull();
    await getDb().updateTable("export").set({ expires_at: row.expires_at }).where("id", "=", prodExportId).execute();
  });
});

describe("the audit trail", () => {
  it("records who downloaded, from where: the person, the key that minted a link, and the signed link's client", async () => {
    const download = await callRoute(
      portalDownload.loader,
      (() => {
        const request = makeRequest(`${base}/${prodExportId}/download`, { cookie: editor });
        request.headers.set("x-exportal-client-ip", "192.0.2.44");
        request.headers.set("User-Agent", "Firefox/140");
        return request;
      })(),
      { ...PROD, id: prodExportId },
    );
    expect(download.status).toBe(200);
    const minted = await callApi(apiDownload, `/api/v1/exports/${prodExportId}/download`, prodKey, { params: { id: prodExportId }, headers: { Accept: "application/json" } });
    expect(minted.status).toBe(200);
    expect((await fetchSigned(new URL(minted.data.url).pathname + new URL(minted.data.url).search)).status).toBe(200);

    const events = await listExportEvents(getDb(), (await exportRow(prodExportId)).tenant_id, prodExportId);
    const key = await getDb().selectFrom("api_key").select("id").where("name", "=", "all of production").executeTakeFirstOrThrow();
    const editorId = (await getDb().selectFrom("user").select("id").where("email", "=", "production-editor@acme.test").executeTakeFirstOrThrow()).id;
    expect(events.filter((e) => ["export.downloaded", "export.link_issued"].includes(e.action)).slice(-3)).toMatchObject([
      { action: "export.downloaded", actor_user_id: editorId, actor_label: "Production Editor", client_ip: "192.0.2.44", user_agent: "Firefox/140" },
      { action: "export.link_issued", actor_api_key_id: key.id, actor_label: "API key all of production", client_ip: "203.0.113.7", user_agent: "access-test/1.0" },
      { action: "export.downloaded", actor_user_id: null, actor_label: "signed link", client_ip: "198.51.100.9", user_agent: "curl/8.0" },
    ]);
    const requested = events.find((e) => e.action === "export.requested")!;
    expect(requested).toMatchObject({ actor_user_id: editorId, actor_label: "Production Editor" });
  });

  it("refuses TRUNCATE, as it refuses UPDATE and DELETE", async () => {
    const before = await getDb().selectFrom("audit_event").select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow();
    await expect(sql`truncate audit_event`.execute(getDb())).rejects.toThrow(/append-only/);
    await expect(sql`delete from audit_event`.execute(getDb())).rejects.toThrow(/append-only/);
    await expect(sql`update audit_event set actor_label = 'someone else'`.execute(getDb())).rejects.toThrow(/append-only/);
    const after = await getDb().selectFrom("audit_event").select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
  });
});
