import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import { importedDashboard, importedDashboards } from "../../app/api/schemas";
import { importDashboards } from "../../app/analytics/dashboard-file.server";
import { createExport } from "../../app/exports/exports.server";
import * as apiImport from "../../app/routes/api.v1.dashboards.import";
import * as apiDashboard from "../../app/routes/api.v1.dashboards.$id";
import * as apiExport from "../../app/routes/api.v1.dashboards.$id.export";
import * as exportRoute from "../../app/routes/o.$org.t.$tenant.dashboards.$id.export";
import * as importPage from "../../app/routes/o.$org.t.$tenant.dashboards.import";
import { ALL_KEY_PERMISSIONS, createKey, ownerIn, tenantBySlug } from "../setup/api";
import { openArchive, runQueuedJobs } from "../setup/exports";
import { callRoute, makeRequest, requesterFor, signIn } from "../setup/routes";

const ORG = "acme-health";
const db = () => getDb();

let viewerCookie: string;
let prodEditorCookie: string;
let editorCookie: string;
let stagingKey: string;
let prodKey: string;

beforeAll(async () => {
  viewerCookie = await signIn("production-viewer@acme.test");
  prodEditorCookie = await signIn("production-editor@acme.test");
  editorCookie = await signIn("staging-editor@acme.test");
  stagingKey = await createKey("staging", ALL_KEY_PERMISSIONS, { name: "dashboard import" });
  prodKey = await createKey("production", ALL_KEY_PERMISSIONS, { name: "dashboard export" });
});

async function dashboardId(tenant: string, slug: string) {
  const t = await tenantBySlug(tenant);
  return (await db().selectFrom("dashboard").where("tenant_id", "=", t.id).where("slug", "=", slug).select("id").executeTakeFirstOrThrow()).id;
}

/** "Export dashboard" as a signed-in user clicks it. */
async function exportFile(tenant: string, id: string, cookie: string) {
  return callRoute(exportRoute.loader, makeRequest(`/o/${ORG}/t/${tenant}/dashboards/${id}/export`, { cookie }), { org: ORG, tenant, id });
}

/** GET /api/v1/dashboards/:id/export with a key, as a program downloads it: status, headers and the text as sent. */
async function apiExportFile(id: string, key: string) {
  const request = new Request(`http://localhost:3000/api/v1/dashboards/${id}/export`, { headers: { Authorization: `Bearer ${key}` } });
  const res: Response = await apiExport.loader({ request, params: { id }, context: {} });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, data: JSON.parse(text) };
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
  it("round-trips through the API: export with a Production key, import with a Staging key, export again gives the same file but for ids and timestamps", async () => {
    const sourceId = await dashboardId("production", "growth");
    const first = await apiExportFile(sourceId, prodKey);
    expect(first.status).toBe(200);
    expect(first.headers.get("content-disposition")).toBe(`attachment; filename="dashboard-${sourceId}.json"`);
    expect(first.headers.get("content-type")).toMatch(/^application\/json/);
    expect(first.data).toMatchObject({ format: "exportal.dashboard", formatVersion: 1, dashboard: { id: sourceId, name: "Growth" } });
    expect(first.data.dashboard.widgets).toHaveLength(4);
    // The very file the portal's "Export dashboard" writes, byte for byte but for the moment it was written.
    const portal = await exportFile("production", sourceId, prodEditorCookie);
    expect(portal.headers.get("content-disposition")).toBe(first.headers.get("content-disposition"));
    const moment = (text: string) => text.replace(/"exportedAt": "[^"]+"/, '"exportedAt": ""');
    expect(moment(first.text)).toBe(moment(JSON.stringify(portal.data, null, 2) + "\n"));

    // Staging has its own "growth"; remove it so the slug carries over unchanged (numbering is tested below).
    await db().deleteFrom("dashboard").where("id", "=", await dashboardId("staging", "growth")).execute();
    const imported = await apiImportFile(first.text);
    expect(imported.status).toBe(201);
    expect(imported.data.flaggedWidgets).toEqual([]);
    const newId = importedDashboard.parse(imported.data).dashboard.id;
    expect(newId).not.toBe(sourceId);
    expect(imported.headers.get("location")).toBe(`/api/v1/dashboards/${newId}`);

    const again = await apiExportFile(newId, stagingKey);
    expect(again.status).toBe(200);
    expect(withoutIdsAndTimes(again.data)).toEqual(withoutIdsAndTimes(first.data));
    const oldWidgetIds = new Set(first.data.dashboard.widgets.map((w: { id: string }) => w.id));
    expect(again.data.dashboard.widgets.some((w: { id: string }) => oldWidgetIds.has(w.id))).toBe(false);
  });

  it("exports through the API only with dashboards.export, and answers another tenant's dashboard like an unknown one", async () => {
    const growth = await dashboardId("production", "growth");
    const readOnly = await createKey("production", ["dashboards.read", "dashboards.import"]);
    const denied = await apiExportFile(growth, readOnly);
    expect(denied.status).toBe(403);
    expect(denied.data.error).toMatchObject({ code: "FORBIDDEN", details: { permission: "dashboards.export" }, message: expect.stringContaining("dashboards.export") });

    const foreign = await apiExportFile(await dashboardId("staging", "overview"), prodKey);
    const unknown = await apiExportFile("00000000-0000-4000-8000-000000000000", prodKey);
    expect(foreign.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(foreign.data.error.code).toBe("NOT_FOUND");
    expect(foreign.data.error.message).toBe(unknown.data.error.message);
  });

  it("imports from the portal: a taken slug gets a number, the tenant keeps its default, missing metrics are flagged", async () => {
    const source = (await exportFile("production", await dashboardId("production", "overview"), prodEditorCookie)).data;
    source.dashboard.widgets[0].config.metricId = "nowhere.not_a_metric";
    const result = await uploadFile("staging", JSON.stringify(source), editorCookie, "overview.json");
    expect(result.status).toBe(201);
    expect(result.data.imported).toHaveLength(1);
    expect(result.data.imported[0]).toMatchObject({
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
    const request = new Request(`http://localhost:3000/api/v1/dashboards/${result.data.imported[0].id}`, { headers: { Authorization: `Bearer ${stagingKey}` } });
    const shown = await callRoute(apiDashboard.loader, request, { id: result.data.imported[0].id });
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
    expect(wrongKind.data.error).toMatchObject({
      code: "INVALID_REQUEST",
      message: 'This is not an Exportal dashboard file: its "format" is "something.else", expected "exportal.dashboard" (or "exportal.dashboards", an export\'s dashboards.json).',
    });

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

  it("imports an export's dashboards.json: every dashboard, as a single import would, through the API and the portal", async () => {
    // A real bulk export of Production's dashboards.
    const owner = await requesterFor("production-admin@acme.test", "production");
    const exp = await createExport(db(), owner, { scope: { type: "tenant" }, dataTypes: ["dashboards"] });
    await runQueuedJobs();
    const bulk = JSON.parse((await openArchive(exp.id)).get("dashboards.json")!.toString("utf8"));
    expect(bulk.format).toBe("exportal.dashboards");
    const production = await tenantBySlug("production");
    const sources = await db().selectFrom("dashboard").where("tenant_id", "=", production.id).select(["id", "slug", "is_default"]).orderBy("created_at").orderBy("id").execute();
    expect(bulk.dashboards.map((d: { id: string }) => d.id)).toEqual(sources.map((d) => d.id));
    expect(sources.length).toBeGreaterThanOrEqual(2);
    expect(sources.some((d) => d.is_default)).toBe(true);
    // One widget shows a metric Staging lacks.
    bulk.dashboards[0].widgets[0].config.metricId = "nowhere.not_a_metric";

    const staging = await tenantBySlug("staging");
    const slugsBefore = async () => new Set((await db().selectFrom("dashboard").where("tenant_id", "=", staging.id).select("slug").execute()).map((d) => d.slug));
    /** The slugs a run of imports should take: each file's own, numbered past those taken, in order. */
    const expectedSlugs = (taken: Set<string>) =>
      bulk.dashboards.map((d: { slug: string }) => {
        let slug = d.slug;
        for (let n = 2; taken.has(slug); n++) slug = `${d.slug}-${n}`;
        taken.add(slug);
        return slug;
      });
    const defaultOf = async () => (await db().selectFrom("dashboard").where("tenant_id", "=", staging.id).where("is_default", "=", true).select("id").execute()).map((d) => d.id);
    const stagingDefault = await defaultOf();
    expect(stagingDefault).toHaveLength(1);

    const slugs = expectedSlugs(await slugsBefore());
    const viaApi = await apiImportFile(JSON.stringify(bulk));
    expect(viaApi.status).toBe(201);
    const created = importedDashboards.parse(viaApi.data).dashboards;
    expect(created.map((c) => c.dashboard.slug)).toEqual(slugs);
    expect(created.map((c) => c.dashboard.name)).toEqual(bulk.dashboards.map((d: { name: string }) => d.name));
    expect(created.every((c) => !c.dashboard.isDefault)).toBe(true);
    expect(await defaultOf()).toEqual(stagingDefault);
    expect(created.map((c) => c.flaggedWidgets)).toEqual(
      bulk.dashboards.map((_: unknown, i: number) => (i === 0 ? [{ title: bulk.dashboards[0].widgets[0].title, metricId: "nowhere.not_a_metric", warning: "Metric nowhere.not_a_metric does not exist in this tenant." }] : [])),
    );
    // Each dashboard as the file held it, with new ids: exported again, it gives back its entry of the file.
    for (const [i, c] of created.entries()) {
      expect(sources.map((d) => d.id)).not.toContain(c.dashboard.id);
      const again = await apiExportFile(c.dashboard.id, stagingKey);
      expect(withoutIdsAndTimes(again.data).dashboard).toEqual({ ...withoutIdsAndTimes({ dashboard: bulk.dashboards[i] }).dashboard, slug: slugs[i], isDefault: false });
    }

    // The portal's Import dashboard page takes the same file.
    const portalSlugs = expectedSlugs(await slugsBefore());
    const viaPortal = await uploadFile("staging", JSON.stringify(bulk), editorCookie, "dashboards.json");
    expect(viaPortal.status).toBe(201);
    expect(viaPortal.data.imported.map((d: { slug: string }) => d.slug)).toEqual(portalSlugs);
    expect(viaPortal.data.imported.map((d: { widgetCount: number }) => d.widgetCount)).toEqual(bulk.dashboards.map((d: { widgets: unknown[] }) => d.widgets.length));
  });

  it("imports a dashboards.json all or nothing, and refuses a bad one naming the dashboard at fault", async () => {
    const staging = await tenantBySlug("staging");
    const count = async () => Number((await db().selectFrom("dashboard").where("tenant_id", "=", staging.id).select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow()).n);
    const one = (await apiExportFile(await dashboardId("production", "growth"), prodKey)).data.dashboard;
    const file = { format: "exportal.dashboards", formatVersion: 1, dashboards: [one, { ...structuredClone(one), name: "Second", slug: "second" }] };
    const before = await count();

    const bad = structuredClone(file);
    bad.dashboards[1].widgets[0].position.w = 13;
    const refused = await apiImportFile(JSON.stringify(bad));
    expect(refused.status).toBe(400);
    expect(refused.data.error.details.problems).toEqual([{ path: "dashboards.1.widgets.0.position.w", message: "must be at most 12" }]);
    expect((await apiImportFile(JSON.stringify({ ...file, dashboards: [] }))).data.error.details.problems).toEqual([{ path: "dashboards", message: "must hold at least one dashboard" }]);
    expect((await apiImportFile(JSON.stringify({ ...file, formatVersion: 2 }))).data.error.message).toMatch(/^This file has format version 2/);

    // The database refuses the second dashboard: the first, already inserted, goes with it.
    await sql`create function refuse_second() returns trigger language plpgsql as $$ begin
      if new.name = 'Second' then raise exception 'refused'; end if; return new; end $$`.execute(db());
    await sql`create trigger refuse_second before insert on dashboard for each row execute function refuse_second()`.execute(db());
    try {
      await expect(importDashboards(db(), await ownerIn("staging"), file)).rejects.toThrow(/refused/);
    } finally {
      await sql`drop trigger refuse_second on dashboard`.execute(db());
      await sql`drop function refuse_second()`.execute(db());
    }
    expect(await count()).toBe(before);
    expect((await importDashboards(db(), await ownerIn("staging"), file)).dashboards.map((d) => d.name)).toEqual(["Growth", "Second"]);
    expect(await count()).toBe(before + 2);
  });
});
