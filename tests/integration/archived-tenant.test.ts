import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import * as apiExports from "../../app/routes/api.v1.exports";
import * as apiCustomMetric from "../../app/routes/api.v1.metrics.custom";
import * as layout from "../../app/routes/o.$org.t.$tenant";
import * as tenantsPage from "../../app/routes/o.$org.t.$tenant.tenants";
import * as exportsPage from "../../app/routes/o.$org.t.$tenant.exports._index";
import * as keysPage from "../../app/routes/o.$org.t.$tenant.api-keys";
import * as projectsPage from "../../app/routes/o.$org.t.$tenant.projects";
import * as dashboardImport from "../../app/routes/o.$org.t.$tenant.dashboards.import";
import * as portalDownload from "../../app/routes/o.$org.t.$tenant.exports.$id.download";
import * as signedDownload from "../../app/routes/downloads.$id";
import { keyCacheSettled } from "../../app/api/key-cache.server";
import { exportDashboardFile } from "../../app/analytics/dashboard-file.server";
import { pushCustomMetric } from "../../app/analytics/metric-points.server";
import { createExport } from "../../app/exports/exports.server";
import { signedDownloadPath } from "../../app/exports/signed-links.server";
import { buildAbility, permissionsFor } from "../../app/auth/permissions";
import { createKey, ownerIn, tenantBySlug } from "../setup/api";
import { exportRow, runQueuedJobs } from "../setup/exports";
import { callRoute, makeRequest, requesterFor, signIn } from "../setup/routes";

// An archived tenant is read-only: nothing new is written, its API keys stop,
// and what it already has stays readable and downloadable. Restoring it
// makes it writable again.
const STAGING = { org: "acme-health", tenant: "staging" };
const page = (rest: string) => `/o/acme-health/t/staging/${rest}`;
const ARCHIVED = /Staging is archived/;

let owner: string;
let admin: string;
let editor: string;
let key: string;
let tenantId: string;
let doneExportId: string;

function api(route: { loader: any }, path: string, init: { method?: string; json?: unknown } = {}) {
  const headers: Record<string, string> = { Authorization: `Bearer ${key}` };
  if (init.json !== undefined) headers["Content-Type"] = "application/json";
  const request = new Request(`http://localhost:3000${path}`, { method: init.method ?? "GET", headers, body: init.json === undefined ? undefined : JSON.stringify(init.json) });
  return callRoute(route.loader, request);
}
const startExport = () => callRoute(exportsPage.action, makeRequest(page("exports"), { cookie: editor, form: { scope: "tenant", dataTypes: "lab_results", format: "csv" } }), STAGING);
const createKeyInPortal = () => callRoute(keysPage.action, makeRequest(page("api-keys"), { cookie: admin, form: { name: "After archive", permissions: "data.exports.read" } }), STAGING);
const setArchived = (intent: "archive" | "restore") => callRoute(tenantsPage.action, makeRequest(page("tenants"), { cookie: owner, form: { intent, tenantId } }), STAGING);
const exportCount = async () => Number((await getDb().selectFrom("export").select((e) => e.fn.countAll<string>().as("n")).where("tenant_id", "=", tenantId).executeTakeFirstOrThrow()).n);

beforeAll(async () => {
  [owner, admin, editor] = await Promise.all([signIn("owner@acme.test"), signIn("staging-admin@acme.test"), signIn("staging-editor@acme.test")]);
  tenantId = (await tenantBySlug("staging")).id;
  key = await createKey("staging");
  doneExportId = (await createExport(getDb(), await requesterFor("staging-editor@acme.test", "staging"), { format: "csv", dataTypes: ["lab_results"] })).id;
  await runQueuedJobs();
  expect((await exportRow(doneExportId)).status).toBe("done");
  expect((await api(apiExports, "/api/v1/exports")).status).toBe(200);
  expect((await setArchived("archive")).status).toBe(200);
});

describe("an archived tenant", () => {
  it("still opens, for its members too, with the archived flag for the banner, and the switcher marks it", async () => {
    for (const cookie of [owner, editor]) {
      const frame = await callRoute(layout.loader, makeRequest(page("exports"), { cookie }), STAGING);
      expect(frame.status).toBe(200);
      expect(frame.data.tenant).toMatchObject({ name: "Staging", archived: true });
      expect(frame.data.shell.choices.find((c: any) => c.tenantSlug === "staging")).toMatchObject({ archived: true });
    }
    const prod = await callRoute(layout.loader, makeRequest("/o/acme-health/t/production/exports", { cookie: owner }), { org: "acme-health", tenant: "production" });
    expect(prod.data.tenant.archived).toBe(false);
    expect(prod.data.shell.choices.map((c: any) => `${c.tenantSlug}:${c.archived}`)).toEqual(["production:false", "staging:true"]);
  });

  it("refuses its API keys with a 403 that says the tenant is archived", async () => {
    for (const res of [await api(apiExports, "/api/v1/exports"), await api(apiExports, "/api/v1/exports", { method: "POST", json: { dataTypes: ["lab_results"] } })]) {
      expect(res.status).toBe(403);
      expect(res.data.error.code).toBe("FORBIDDEN");
      expect(res.data.error.message).toMatch(ARCHIVED);
    }
    const push = await api(apiCustomMetric, "/api/v1/metrics/custom", { method: "POST", json: { metricId: "archived.test", value: 1 } });
    expect(push.status).toBe(403);
    // A wrong key still learns nothing.
    const real = key;
    key = real.slice(0, -1) + (real.endsWith("a") ? "b" : "a");
    try {
      expect((await api(apiExports, "/api/v1/exports")).status).toBe(401);
    } finally {
      key = real;
    }
  });

  it("refuses new exports in the portal and in the service every caller shares, naming the tenant", async () => {
    // The page offers nothing to start (the banner says why), not even the permission notice.
    expect((await callRoute(exportsPage.loader, makeRequest(page("exports"), { cookie: editor }), STAGING)).data.canCreate).toBe(false);
    const before = await exportCount();
    const portal = await startExport();
    expect(portal.status).toBe(409);
    expect(portal.data.error).toMatch(ARCHIVED);
    expect(portal.data.values).toMatchObject({ format: ["csv"] });
    // As the API calls it, with a key's requester.
    const asKey = { tenantId, organizationId: (await tenantBySlug("staging")).organization_id, actor: { userId: null, apiKeyId: "k", label: "API key test" }, ability: buildAbility(permissionsFor("owner", null)) };
    await expect(createExport(getDb(), asKey, { format: "csv", dataTypes: ["lab_results"] })).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringMatching(ARCHIVED) });
    expect(await exportCount()).toBe(before);
  });

  it("refuses new API keys, dashboard imports, custom metrics and projects with 409", async () => {
    const keyRes = await createKeyInPortal();
    expect(keyRes.status).toBe(409);
    expect(keyRes.data.error).toMatch(ARCHIVED);

    const ownerReq = await ownerIn("staging");
    const dashboard = await getDb().selectFrom("dashboard").select("id").where("tenant_id", "=", tenantId).executeTakeFirstOrThrow();
    const file = await exportDashboardFile(getDb(), ownerReq, dashboard.id);
    const form = new FormData();
    form.append("file", new Blob([JSON.stringify(file)], { type: "application/json" }), "dashboard.json");
    const imported = await callRoute(dashboardImport.action, new Request(`http://localhost:3000${page("dashboards/import")}`, { method: "POST", body: form, headers: { Cookie: editor } }), STAGING);
    expect(imported.status).toBe(409);
    expect(imported.data.error).toMatch(ARCHIVED);

    await expect(pushCustomMetric(getDb(), ownerReq, { metricId: "archived.test", value: 1 })).rejects.toMatchObject({ code: "CONFLICT" });

    const project = await callRoute(projectsPage.action, makeRequest(page("projects"), { cookie: admin, form: { intent: "create-project", name: "After archive" } }), STAGING);
    expect(project.status).toBe(409);
    expect(project.data.error).toMatch(ARCHIVED);
    const cardio = await getDb().selectFrom("project").select("id").where("tenant_id", "=", tenantId).orderBy("name").executeTakeFirstOrThrow();
    const rename = await callRoute(projectsPage.action, makeRequest(page("projects"), { cookie: admin, form: { intent: "rename-project", projectId: cardio.id, name: "Renamed" } }), STAGING);
    expect(rename.status).toBe(409);
    // The page offers no forms while archived.
    expect((await callRoute(projectsPage.loader, makeRequest(page("projects"), { cookie: admin }), STAGING)).data.canManage).toBe(false);
  });

  it("keeps its finished exports downloadable in the portal and by signed link", async () => {
    const portal = await portalDownload.loader({ request: makeRequest(page(`exports/${doneExportId}/download`), { cookie: editor }), params: { ...STAGING, id: doneExportId }, context: {} });
    expect(portal.status).toBe(200);
    expect(Buffer.from(await portal.arrayBuffer()).subarray(0, 2).toString()).toBe("PK");
    const row = await exportRow(doneExportId);
    const link = new URL(signedDownloadPath(doneExportId, tenantId, row.expires_at!), "http://localhost:3000");
    const signed = await signedDownload.loader({ request: new Request(link), params: { id: doneExportId }, context: {} });
    expect(signed.status).toBe(200);
    expect(Buffer.from(await signed.arrayBuffer()).length).toBe(Number(row.archive_bytes));
  });

  it("restored, it is writable again and its keys work again", async () => {
    expect((await setArchived("restore")).status).toBe(200);
    await keyCacheSettled(); // the restore's notification reached this process, as it reaches every web process within milliseconds
    expect((await api(apiExports, "/api/v1/exports")).status).toBe(200);
    expect((await callRoute(exportsPage.loader, makeRequest(page("exports"), { cookie: editor }), STAGING)).data.canCreate).toBe(true);
    expect((await startExport()).status).toBe(201);
    expect((await createKeyInPortal()).status).toBe(201);
    const frame = await callRoute(layout.loader, makeRequest(page("exports"), { cookie: editor }), STAGING);
    expect(frame.data.tenant.archived).toBe(false);
  });
});
