import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import { day } from "../setup/dates";
import * as home from "../../app/routes/_index";
import * as exportsNoTenant from "../../app/routes/exports";
import * as orgIndex from "../../app/routes/o.$org._index";
import * as layout from "../../app/routes/o.$org.t.$tenant";
import * as exportsPage from "../../app/routes/o.$org.t.$tenant.exports._index";
import * as exportDetail from "../../app/routes/o.$org.t.$tenant.exports.$id";
import * as download from "../../app/routes/o.$org.t.$tenant.exports.$id.download";
import * as members from "../../app/routes/o.$org.t.$tenant.members";
import * as projects from "../../app/routes/o.$org.t.$tenant.projects";
import * as studies from "../../app/routes/o.$org.t.$tenant.studies._index";
import * as settings from "../../app/routes/o.$org.t.$tenant.settings";
import * as apiDocs from "../../app/routes/o.$org.t.$tenant.api";
import * as switcher from "../../app/routes/switch";
import * as integrationsPage from "../../app/routes/o.$org.t.$tenant.integrations";
import * as metricsPage from "../../app/routes/o.$org.t.$tenant.metrics";
import * as dashboardsPage from "../../app/routes/o.$org.t.$tenant.dashboards._index";
import * as dashboardPage from "../../app/routes/o.$org.t.$tenant.dashboards.$id";
import * as dashboardFile from "../../app/routes/o.$org.t.$tenant.dashboards.$id.export";
import * as dashboardImport from "../../app/routes/o.$org.t.$tenant.dashboards.import";
import { createExport } from "../../app/exports/exports.server";
import { callRoute, makeRequest, requesterFor, signIn } from "../setup/routes";

const PROD = { org: "acme-health", tenant: "production" };
const STAGING = { org: "acme-health", tenant: "staging" };
const GLOBEX = { org: "globex", tenant: "main" };
const path = (p: { org: string; tenant: string }, rest: string) => `/o/${p.org}/t/${p.tenant}/${rest}`;

async function tenantId(slug: string) {
  return (await getDb().selectFrom("tenant").select("id").where("slug", "=", slug).executeTakeFirstOrThrow()).id;
}
async function exportCount(slug: string) {
  const row = await getDb().selectFrom("export").select((e) => e.fn.countAll<string>().as("n")).where("tenant_id", "=", await tenantId(slug)).executeTakeFirstOrThrow();
  return Number(row.n);
}

let editor: string;
let viewer: string;
let owner: string;
let stagingExportId: string;
let stagingDashboardId: string;

beforeAll(async () => {
  [editor, viewer, owner] = await Promise.all([
    signIn("production-editor@acme.test"),
    signIn("production-viewer@acme.test"),
    signIn("owner@acme.test"),
  ]);
  stagingExportId = (await createExport(getDb(), await requesterFor("staging-admin@acme.test", "staging"), {})).id;
  stagingDashboardId = (await getDb().selectFrom("dashboard").select("id").where("tenant_id", "=", await tenantId("staging")).executeTakeFirstOrThrow()).id;
});

describe("organization and tenant selection", () => {
  it("offers each user only the tenants they may open", async () => {
    const mine = await callRoute(exportsNoTenant.loader, makeRequest("/exports", { cookie: editor }));
    // The editor's one tenant is no choice at all: the chooser opens it.
    expect(mine.status).toBe(302);
    expect(mine.headers.get("Location")).toBe("/o/acme-health/t/production/exports");
    const owners = await callRoute(exportsNoTenant.loader, makeRequest("/exports", { cookie: owner }));
    expect(owners.data.shell.choices.map((c: any) => `${c.orgSlug}/${c.tenantSlug}`)).toEqual([
      "acme-health/production",
      "acme-health/staging",
    ]);
  });

  it("the switcher goes to the chosen tenant, keeping the section, and the choice sticks for the next visit", async () => {
    const cookie = await signIn("admin@acme.test");
    const before = await callRoute(home.loader, makeRequest("/", { cookie }));
    expect(before.headers.get("Location")).toBe("/exports");

    const switched = await callRoute(switcher.loader, makeRequest("/switch?org=acme-health&tenant=staging&section=members", { cookie }));
    expect(switched.headers.get("Location")).toBe("/o/acme-health/t/staging/members");
    // Opening the tenant's frame remembers it.
    expect((await callRoute(layout.loader, makeRequest(path(STAGING, "members"), { cookie }), STAGING)).status).toBe(200);

    const again = await callRoute(home.loader, makeRequest("/", { cookie: await signIn("admin@acme.test") }));
    expect(again.headers.get("Location")).toBe("/o/acme-health/t/staging/exports");
  });

  it("choosing only an organization opens its first tenant the user may see; a foreign one goes nowhere", async () => {
    const toOrg = await callRoute(switcher.loader, makeRequest("/switch?org=acme-health", { cookie: editor }));
    expect(toOrg.headers.get("Location")).toBe("/o/acme-health/t/production/exports");
    const foreign = await callRoute(switcher.loader, makeRequest("/switch?org=globex&tenant=main", { cookie: editor }));
    expect(foreign.headers.get("Location")).toBe("/exports");
    const orgPage = await callRoute(orgIndex.loader, makeRequest("/o/globex", { cookie: editor }), { org: "globex" });
    expect(orgPage.status).toBe(404);
  });
});

describe("tenant pages", () => {
  it("lists the tenant's projects with their apps, and its members with their roles", async () => {
    const p = await callRoute(projects.loader, makeRequest(path(PROD, "projects"), { cookie: viewer }), PROD);
    expect(p.status).toBe(200);
    expect(p.data.projects.map((x: any) => x.name)).toEqual(["Cardio Study", "Metabolic Health", "Sleep Lab"]);
    expect(p.data.projects[0].apps.map((a: any) => a.name)).toEqual(["Phone", "Ring", "Watch"]);

    const st = await callRoute(studies.loader, makeRequest(path(PROD, "studies"), { cookie: viewer }), PROD);
    expect(st.data.canExport).toBe(false);
    expect(st.data.studies.map((x: any) => `${x.projectName}: ${x.name} (${x.cohorts.map((c: any) => `${c.name} ${c.participants}`).join(", ")})`)).toEqual([
      "Cardio Study: Cardio-2025 (Cohort A 30, Cohort B 30)",
      "Metabolic Health: Metabolic-2025 (Cohort A 30, Cohort B 30)",
      "Sleep Lab: Sleep-2025 (Cohort A 30, Cohort B 30)",
    ]);

    const set = await callRoute(settings.loader, makeRequest(path(PROD, "settings"), { cookie: viewer }), PROD);
    expect(set.data).toMatchObject({ tenantRole: "viewer", linkHours: 24, historyDays: 30 });
    expect(set.data.granted).toEqual(["See projects, studies and data", "See who can open this tenant", "See exports", "Read metrics", "See dashboards"]);
    // An organization owner holds every permission, and the page lists only those something checks.
    const all = await callRoute(settings.loader, makeRequest(path(PROD, "settings"), { cookie: owner }), PROD);
    expect(all.data.granted).toEqual([
      "See projects, studies and data", "See who can open this tenant", "See exports", "Start exports", "Download exports", "Cancel exports",
      "Schedule exports and their delivery", "Export the entire organization", "Export study cohorts (identifiers removed or de-identified)", "Export participant data in full, identifiers included (any scope)",
      "Read metrics", "Push custom metrics", "See dashboards", "Manage API keys", "Manage tenants", "Invite people, change their roles and remove them", "Create and rename projects and apps",
      "Import dashboards", "Download dashboard files", "Read the audit log",
    ]);

    const m = await callRoute(members.loader, makeRequest(path(PROD, "members"), { cookie: viewer }), PROD);
    const roles = Object.fromEntries(m.data.members.map((x: any) => [x.email, `${x.orgRole}/${x.tenantRole}`]));
    expect(roles).toEqual({
      "owner@acme.test": "owner/null",
      "admin@acme.test": "admin/null",
      "production-admin@acme.test": "member/admin",
      "production-editor@acme.test": "member/editor",
      "production-viewer@acme.test": "member/viewer",
    });
  });
});

describe("exports list", () => {
  it("pages through the history newest first, 25 at a time", async () => {
    const tenant = await getDb().selectFrom("tenant").select(["id", "organization_id"]).where("slug", "=", "production").executeTakeFirstOrThrow();
    const base = Date.parse(`${day(365)}T00:00:00Z`); // newer than any export the tests create
    await getDb().insertInto("export").values(
      Array.from({ length: 30 }, (_, i) => ({
        tenant_id: tenant.id, organization_id: tenant.organization_id, requested_by_user_id: null,
        scope: { type: "tenant" as const }, data_types: ["hsi_records"], formats: ["ndjson" as const],
        status: "cancelled" as const, created_at: new Date(base + i * 60_000),
      })),
    ).execute();
    const total = await exportCount("production");
    const first = await callRoute(exportsPage.loader, makeRequest(path(PROD, "exports"), { cookie: viewer }), PROD);
    expect(first.data.exports).toHaveLength(25);
    expect(first.data).toMatchObject({ page: 1, pages: Math.ceil(total / 25), total });
    expect(first.data.exports[0].created_at).toEqual(new Date(base + 29 * 60_000));
    const second = await callRoute(exportsPage.loader, makeRequest(path(PROD, "exports?page=2"), { cookie: viewer }), PROD);
    expect(second.data.exports[0].created_at).toEqual(new Date(base + 4 * 60_000));
    const ids = new Set([...first.data.exports, ...second.data.exports].map((e: { id: string }) => e.id));
    expect(ids.size).toBe(first.data.exports.length + second.data.exports.length);
    const junk = await callRoute(exportsPage.loader, makeRequest(path(PROD, "exports?page=abc"), { cookie: viewer }), PROD);
    expect(junk.data.page).toBe(1);
  });
});

describe("create action", () => {
  it("answers a body that is not a form with 400 and creates nothing", async () => {
    const before = await exportCount("production");
    const request = new Request("http://localhost:3000/o/acme-health/t/production/exports", {
      method: "POST", body: "{}", headers: { "Content-Type": "application/json", Cookie: editor },
    });
    const res = await callRoute(exportsPage.action, request, PROD);
    expect(res.status).toBe(400);
    expect(await exportCount("production")).toBe(before);
  });

  it("names the field at fault and hands back what was sent", async () => {
    const res = await callRoute(
      exportsPage.action,
      makeRequest(path(PROD, "exports"), { cookie: editor, form: { scope: "app", projectId: "nope", dataTypesShown: "1", format: "csv" } }),
      PROD,
    );
    expect(res.status).toBe(400);
    expect(res.data.fieldErrors).toEqual({ "scope.appIds": "Choose at least one app.", dataTypes: "Choose at least one data type." });
    expect(res.data.values).toMatchObject({ scope: "app", projectId: "nope", dataTypes: [], format: ["csv"] });
  });
});

describe("viewer", () => {
  it("sees the exports list but may not create or download", async () => {
    const page = await callRoute(exportsPage.loader, makeRequest(path(PROD, "exports"), { cookie: viewer }), PROD);
    expect(page.status).toBe(200);
    expect(page.data.canCreate).toBe(false);
    expect(page.data.exports.length).toBeGreaterThan(0);
    expect(page.data.exports.filter((e: { downloadable: boolean }) => e.downloadable)).toEqual([]);
  });

  it("gets 403 when cancelling, and the export goes on", async () => {
    const res = await callRoute(
      exportsPage.action,
      makeRequest(path(STAGING, "exports"), { cookie: await signIn("staging-viewer@acme.test"), form: { intent: "cancel", exportId: stagingExportId } }),
      STAGING,
    );
    expect(res.status).toBe(403);
    expect((await getDb().selectFrom("export").select("status").where("id", "=", stagingExportId).executeTakeFirstOrThrow()).status).toBe("pending");
  });

  it("gets 403 on a direct POST, and nothing is created", async () => {
    const before = await exportCount("production");
    const res = await callRoute(exportsPage.action, makeRequest(path(PROD, "exports"), { cookie: viewer, method: "POST" }), PROD);
    expect(res.status).toBe(403);
    expect(res.data.message).toContain("Ask an organization or tenant admin");
    expect(await exportCount("production")).toBe(before);
  });
});

describe("cross-tenant access answers 404, as for what does not exist", () => {
  const cases: [string, (cookie: string) => Promise<number>][] = [
    ["another tenant's exports page", async (c) => (await callRoute(exportsPage.loader, makeRequest(path(STAGING, "exports"), { cookie: c }), STAGING)).status],
    ["another tenant's export cancelled from my tenant", async (c) => (await callRoute(exportsPage.action, makeRequest(path(PROD, "exports"), { cookie: c, form: { intent: "cancel", exportId: stagingExportId } }), PROD)).status],
    ["another tenant's create action", async (c) => (await callRoute(exportsPage.action, makeRequest(path(STAGING, "exports"), { cookie: c, method: "POST" }), STAGING)).status],
    ["another tenant's projects", async (c) => (await callRoute(projects.loader, makeRequest(path(STAGING, "projects"), { cookie: c }), STAGING)).status],
    ["another tenant's studies", async (c) => (await callRoute(studies.loader, makeRequest(path(STAGING, "studies"), { cookie: c }), STAGING)).status],
    ["another tenant's settings", async (c) => (await callRoute(settings.loader, makeRequest(path(STAGING, "settings"), { cookie: c }), STAGING)).status],
    ["another tenant's API page", async (c) => (await callRoute(apiDocs.loader, makeRequest(path(STAGING, "api"), { cookie: c }), STAGING)).status],
    ["another tenant's members", async (c) => (await callRoute(members.loader, makeRequest(path(STAGING, "members"), { cookie: c }), STAGING)).status],
    ["another tenant's frame", async (c) => (await callRoute(layout.loader, makeRequest(path(STAGING, "exports"), { cookie: c }), STAGING)).status],
    ["another organization's tenant", async (c) => (await callRoute(exportsPage.loader, makeRequest(path(GLOBEX, "exports"), { cookie: c }), GLOBEX)).status],
    ["an unknown tenant", async (c) => (await callRoute(exportsPage.loader, makeRequest(path({ org: "acme-health", tenant: "nope" }, "exports"), { cookie: c }), { org: "acme-health", tenant: "nope" })).status],
    ["another tenant's export by id, asked in its own tenant", async (c) => (await callRoute(exportDetail.loader, makeRequest(path(STAGING, `exports/${stagingExportId}`), { cookie: c }), { ...STAGING, id: stagingExportId })).status],
    ["another tenant's export by id, asked in my tenant", async (c) => (await callRoute(exportDetail.loader, makeRequest(path(PROD, `exports/${stagingExportId}`), { cookie: c }), { ...PROD, id: stagingExportId })).status],
    ["another tenant's download, asked in my tenant", async (c) => (await callRoute(download.loader, makeRequest(path(PROD, `exports/${stagingExportId}/download`), { cookie: c }), { ...PROD, id: stagingExportId })).status],
    ["another tenant's integrations", async (c) => (await callRoute(integrationsPage.loader, makeRequest(path(STAGING, "integrations"), { cookie: c }), STAGING)).status],
    ["another tenant's metrics", async (c) => (await callRoute(metricsPage.loader, makeRequest(path(STAGING, "metrics"), { cookie: c }), STAGING)).status],
    ["another tenant's dashboards", async (c) => (await callRoute(dashboardsPage.loader, makeRequest(path(STAGING, "dashboards"), { cookie: c }), STAGING)).status],
    ["another tenant's dashboard, asked in my tenant", async (c) => (await callRoute(dashboardPage.loader, makeRequest(path(PROD, `dashboards/${stagingDashboardId}`), { cookie: c }), { ...PROD, id: stagingDashboardId })).status],
    ["another tenant's dashboard file, asked in my tenant", async (c) => (await callRoute(dashboardFile.loader, makeRequest(path(PROD, `dashboards/${stagingDashboardId}/export`), { cookie: c }), { ...PROD, id: stagingDashboardId })).status],
    ["another tenant's dashboard file, asked in its own tenant", async (c) => (await callRoute(dashboardFile.loader, makeRequest(path(STAGING, `dashboards/${stagingDashboardId}/export`), { cookie: c }), { ...STAGING, id: stagingDashboardId })).status],
    ["another tenant's dashboard import page", async (c) => (await callRoute(dashboardImport.loader, makeRequest(path(STAGING, "dashboards/import"), { cookie: c }), STAGING)).status],
    ["another tenant's dashboard import action", async (c) => (await callRoute(dashboardImport.action, makeRequest(path(STAGING, "dashboards/import"), { cookie: c, method: "POST" }), STAGING)).status],
    ["an export id that is not an id", async (c) => (await callRoute(exportDetail.loader, makeRequest(path(PROD, "exports/x'--"), { cookie: c }), { ...PROD, id: "x'--" })).status],
  ];
  for (const [what, status] of cases) {
    it(what, async () => {
      expect(await status(editor)).toBe(404);
    });
  }

  it("the staging export is really there for staging's own members", async () => {
    const cookie = await signIn("staging-viewer@acme.test");
    const res = await callRoute(exportDetail.loader, makeRequest(path(STAGING, `exports/${stagingExportId}`), { cookie }), { ...STAGING, id: stagingExportId });
    expect(res.status).toBe(200);
    expect(res.data.exp.id).toBe(stagingExportId);
  });
});
