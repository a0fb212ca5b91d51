import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import * as apiImport from "../../app/routes/api.v1.dashboards.import";
import * as apiDashboard from "../../app/routes/api.v1.dashboards.$id";
import * as exportRoute from "../../app/routes/o.$org.t.$tenant.dashboards.$id.export";
import * as importPage from "../../app/routes/o.$org.t.$tenant.dashboards.import";
import { ALL_KEY_PERMISSIONS, createKey, tenantBySlug } from "../setup/api";
import { callRoute, makeRequest, signIn } from "../setup/routes";

const ORG = "acme-health";
const db = () => getDb();

let viewerCookie: string;
let prodEditorCookie: string;
let editorCookie: string;
let stagingKey: string;

beforeAll(async () => {
  viewerCookie = await signIn("production-viewer@acme.test");
  prodEditorCookie = await signIn("production-editor@acme.test");
  editorCookie = await signIn("staging-editor@acme.test");
  stagingKey = await createKey("staging", ALL_KEY_PERMISSIONS, { name: "dashboard import" });
});

async function dashboardId(tenant: string, slug: string) {
  const t = await tenantBySlug(tenant);
  return (await db().selectFrom("dashboard").where("tenant_id", "=", t.id).where("slug", "=", slug).select("id").executeTakeFirstOrThrow()).id;
}

/** "Export dashboard" as a signed-in user clicks it. */
async function exportFile(tenant: string, id: string, cookie: string) {
  return callRoute(exportRoute.loader, makeRequest(`/o/${ORG}/t/${tenant}/dashboards/${id}/export`, { cookie }), { org: ORG, tenant, id });
}

/** POST /api/v1/dashboards/import with a staging key. */
async function apiImportFile(body: string, key = stagingKey) {
  const request = new Request("http://localhost:3000/api/v1/dashboards/import", {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body,
  });
  return callRoute(apiImport.action, request);
}

/** The portal's Import dashboard form, uploading a file. */
async function uploadFile(tenant: string, content: string, cookie: string, name = "dashboard.json") {
  const form = new FormData();
  form.set("file", new File([content], name, { type: "application/json" }));
  const request = new Request(`http://localhost:3000/o/${ORG}/t/${tenant}/dashboards/import`, { method: "POST", headers: { Cookie: cookie }, body: form });
  return callRoute(importPage.action, request, { org: ORG, tenant });
}

/** A file without what differs by design between tenants and moments: ids and timestamps. */
function withoutIdsAndTimes(file: any) {
  const { exportedAt: _e, dashboard, ...rest } = file;
  const { id: _i, createdAt: _c, updatedAt: _u, widgets, ...fields } = dashboard;
  return { ...rest, dashboard: { ...fields, widgets: widgets.map(({ id: _w, ...w }: { id: string }) => w) } };
}

describe("dashboard export and import", () => {
  it("round-trips: export, import into another tenant, export again gives the same file but for ids and timestamps", async () => {
    const sourceId = await dashboardId("production", "growth");
    const first = await exportFile("production", sourceId, prodEditorCookie);
    expect(first.status).toBe(200);
    expect(first.headers.get("content-disposition")).toBe(`attachment; filename="dashboard-${sourceId}.json"`);
    expect(first.headers.get("content-type")).toMatch(/^application\/json/);
    expect(first.data).toMatchObject({ format: "exportal.dashboard", formatVersion: 1, dashboard: { id: sourceId, name: "Growth" } });
    expect(first.data.dashboard.widgets).toHaveLength(4);

    // Staging has its own "growth"; remove it so the slug carries over unchanged (numbering is tested below).
    await db().deleteFrom("dashboard").where("id", "=", await dashboardId("staging", "growth")).execute();
    const imported = await apiImportFile(JSON.stringify(first.data));
    expect(imported.status).toBe(201);
    expect(imported.data.flaggedWidgets).toEqual([]);
    const newId = imported.data.dashboard.id;
    expect(newId).not.toBe(sourceId);
    expect(imported.headers.get("location")).toBe(`/api/v1/dashboards/${newId}`);

    const again = await exportFile("staging", newId, editorCookie);
    expect(again.status).toBe(200);
    expect(withoutIdsAndTimes(again.data)).toEqual(withoutIdsAndTimes(first.data));
    const oldWidgetIds = new Set(first.data.dashboard.widgets.map((w: { id: string }) => w.id));
    expect(again.data.dashboard.widgets.some((w: { id: string }) => oldWidgetIds.has(w.id))).toBe(false);
  });

  it("imports from the portal: a taken slug gets a number, the tenant keeps its default, missing metrics are flagged", async () => {
    const source = (await exportFile("production", await dashboardId("production", "overview"), prodEditorCookie)).data;
    source.dashboard.widgets[0].config.metricId = "nowhere.not_a_metric";
    const result = await uploadFile("staging", JSON.stringify(source), editorCookie, "overview.json");
    expect(result.status).toBe(201);
    expect(result.data.imported).toMatchObject({
      name: "Overview",
      slug: "overview-2",
      isDefault: false,
      widgetCount: source.dashboard.widgets.length,
      flaggedWidgets: [{ title: source.dashboard.widgets[0].title, metricId: "nowhere.not_a_metric", warning: "Metric nowhere.not_a_metric does not exist in this tenant." }],
    });
    const staging = await tenantBySlug("staging");
    const defaults = await db().selectFrom("dashboard").where("tenant_id", "=", staging.id).where("is_default", "=", true).select("slug").execute();
    expect(defaults).toEqual([{ slug: "overview" }]);

    // The API shows the flag on the widget; other widgets carry none.
    const request = new Request(`http://localhost:3000/api/v1/dashboards/${result.data.imported.id}`, { headers: { Authorization: `Bearer ${stagingKey}` } });
    const shown = await callRoute(apiDashboard.loader, request, { id: result.data.imported.id });
    expect(shown.data.widgets.filter((w: { warning: string | null }) => w.warning).map((w: { title: string }) => w.title)).toEqual([source.dashboard.widgets[0].title]);
  });

  it("refuses bad files with a message naming what is wrong, and creates nothing", async () => {
    const staging = await tenantBySlug("staging");
    const count = async () => (await db().selectFrom("dashboard").where("tenant_id", "=", staging.id).select("id").execute()).length;
    const before = await count();
    const valid = (await exportFile("production", await dashboardId("production", "growth"), prodEditorCookie)).data;

    const notJson = await uploadFile("staging", "{ not json", editorCookie, "broken.json");
    expect(notJson.status).toBe(400);
    expect(notJson.data.error).toMatch(/^The file is not valid JSON \(.+\)\. Choose a file written by "Export dashboard"\.$/);
    expect(notJson.data.fileName).toBe("broken.json");

    const wrongKind = await apiImportFile(JSON.stringify({ format: "something.else", dashboard: {} }));
    expect(wrongKind.status).toBe(400);
    expect(wrongKind.data.error).toMatchObject({ code: "INVALID_REQUEST", message: 'This is not an Exportal dashboard file: its "format" is "something.else", expected "exportal.dashboard".' });

    const newer = await apiImportFile(JSON.stringify({ ...valid, formatVersion: 2 }));
    expect(newer.status).toBe(400);
    expect(newer.data.error.message).toBe("This file has format version 2, written by a newer Exportal; this one reads version 1. Import it where Exportal is up to date.");

    const badWidget = structuredClone(valid);
    badWidget.dashboard.widgets[1].position.w = 13;
    badWidget.dashboard.widgets[2].type = "pie";
    badWidget.dashboard.widgets[3].position = { x: 9, y: 0, w: 6, h: 2 };
    const invalid = await apiImportFile(JSON.stringify(badWidget));
    expect(invalid.status).toBe(400);
    expect(invalid.data.error.details.problems).toEqual([
      { path: "dashboard.widgets.1.position.w", message: "must be at most 12" },
      { path: "dashboard.widgets.2.type", message: "must be metric, chart or table" },
      { path: "dashboard.widgets.3.position.w", message: "must fit the 12 columns: x + w at most 12" },
    ]);
    expect(invalid.data.error.message).toBe("The dashboard file is not valid: dashboard.widgets.1.position.w must be at most 12; dashboard.widgets.2.type must be metric, chart or table; dashboard.widgets.3.position.w must fit the 12 columns: x + w at most 12.");

    // PostgreSQL cannot hold U+0000 or (in jsonb) an unpaired surrogate: a 400 naming it, not a database error.
    const nul = structuredClone(valid);
    nul.dashboard.widgets[0].title = "Stars\u0000";
    expect((await apiImportFile(JSON.stringify(nul))).data.error).toMatchObject({ code: "INVALID_REQUEST", message: expect.stringMatching(/^The body holds a NUL character/) });
    expect((await uploadFile("staging", JSON.stringify(nul), editorCookie)).data.error).toMatch(/^The file holds a NUL character/);
    const surrogate = structuredClone(valid);
    surrogate.dashboard.widgets[0].config["\ud800"] = 1; // jsonb refuses an unpaired surrogate
    expect((await apiImportFile(JSON.stringify(surrogate))).data.error.code).toBe("INVALID_REQUEST");

    const empty = await uploadFile("staging", "", editorCookie);
    expect(empty.data.error).toBe("Choose a dashboard file to import.");
    expect(await count()).toBe(before);
  });

  it("needs dashboards.export and dashboards.import, which viewers lack, and answers another tenant's dashboard like an unknown one", async () => {
    const viewerUpload = await uploadFile("production", "{}", viewerCookie);
    expect(viewerUpload.status).toBe(403);
    const viewerDownload = await exportFile("production", await dashboardId("production", "growth"), viewerCookie);
    expect(viewerDownload.status).toBe(403);
    const readOnlyKey = await createKey("staging", ["dashboards.read"]);
    const denied = await apiImportFile("{}", readOnlyKey);
    expect(denied.status).toBe(403);
    expect(denied.data.error.details.permission).toBe("dashboards.import");

    const stagingDashboard = await dashboardId("staging", "overview");
    const foreign = await exportFile("production", stagingDashboard, prodEditorCookie);
    const unknown = await exportFile("production", "00000000-0000-4000-8000-000000000000", prodEditorCookie);
    expect(foreign.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(foreign.data).toEqual(unknown.data);
  });
});
