import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import { exportDashboardFile, importDashboards } from "../../app/analytics/dashboard-file.server";
import { getDashboard, listDashboards } from "../../app/analytics/dashboards.server";
import { listConnections } from "../../app/analytics/integrations.server";
import { listMetricPoints, listMetrics, metricTimeseries, pushCustomMetric } from "../../app/analytics/metric-points.server";
import { createApiKey, listApiKeys, revokeApiKey } from "../../app/api/keys.server";
import { getApiLimits, setApiLimits } from "../../app/api/limits.server";
import { buildAbility, permissionsFor, type Permission } from "../../app/auth/permissions";
import type { Requester } from "../../app/auth/requester";
import { downloadExport, issueSignedLink } from "../../app/exports/download.server";
import { cancelExport, createExport } from "../../app/exports/exports.server";
import { getCohort, listCohortParticipants, listStudies } from "../../app/studies/studies.server";
import { listProjects, listTenantMembers } from "../../app/tenants/tenant-data.server";
import { archiveTenant, createTenant, listTenants, renameTenant, restoreTenant } from "../../app/tenants/tenants.server";
import { createApp, createProject, renameApp, renameProject } from "../../app/tenants/projects.server";
import { ownerIn } from "../setup/api";
import { runQueuedJobs } from "../setup/exports";

// Every service function that reveals or changes tenant data checks its
// permission itself, whoever calls it: a route, the API, a schedule, a CLI.
let owner: Requester;
let exportId: string;
let dashboardId: string;
let keyId: string;
let cohort: { id: string; studyId: string };
let projectId: string;
let appId: string;

/** The owner of the tenant with only these permissions. */
const holding = (...permissions: Permission[]): Requester => ({ ...owner, ability: buildAbility(permissions) });

beforeAll(async () => {
  owner = await ownerIn("production");
  exportId = (await createExport(getDb(), owner, { dataTypes: ["lab_results"] })).id;
  await runQueuedJobs();
  dashboardId = (await listDashboards(getDb(), owner))[0].id;
  keyId = (await createApiKey(getDb(), owner, { name: "victim", permissions: ["data.exports.read"] })).id;
  const c = await getDb().selectFrom("cohort").select(["id", "study_id"]).where("tenant_id", "=", owner.tenantId).executeTakeFirstOrThrow();
  cohort = { id: c.id, studyId: c.study_id };
  const app = await getDb().selectFrom("app").select(["id", "project_id"]).where("tenant_id", "=", owner.tenantId).executeTakeFirstOrThrow();
  [projectId, appId] = [app.project_id, app.id];
});

const file = () => ({ format: "exportal.dashboard", formatVersion: 1, dashboard: { name: "Sneaked in", widgets: [] } });

// What each call needs; the requester holds everything a viewer holds but that.
const CALLS: [name: string, needs: Permission, call: (r: Requester) => Promise<unknown>][] = [
  ["createExport", "data.exports.create", (r) => createExport(getDb(), r, { dataTypes: ["lab_results"] })],
  ["cancelExport", "data.exports.cancel", (r) => cancelExport(getDb(), r, exportId)],
  ["downloadExport", "data.exports.download", (r) => downloadExport(getDb(), r, exportId, new Request("http://localhost/"))],
  ["issueSignedLink", "data.exports.download", (r) => issueSignedLink(getDb(), r, exportId)],
  ["importDashboards", "dashboards.import", (r) => importDashboards(getDb(), r, file())],
  ["exportDashboardFile", "dashboards.export", (r) => exportDashboardFile(getDb(), r, dashboardId)],
  ["pushCustomMetric", "metrics.write", (r) => pushCustomMetric(getDb(), r, { metricId: "sneaky.metric", value: 1 })],
  ["setApiLimits", "tenants.manage", (r) => setApiLimits(getDb(), r, { api_requests_per_hour: "1" })],
  ["createApiKey", "api_keys.manage", (r) => createApiKey(getDb(), r, { name: "x", permissions: ["data.exports.read"] })],
  ["revokeApiKey", "api_keys.manage", (r) => revokeApiKey(getDb(), r, keyId)],
  ["listApiKeys", "api_keys.manage", (r) => listApiKeys(getDb(), r)],
  ["listTenants", "tenants.manage", (r) => listTenants(getDb(), r)],
  ["createTenant", "tenants.manage", (r) => createTenant(getDb(), r, { name: "Sneaky tenant" })],
  ["renameTenant", "tenants.manage", (r) => renameTenant(getDb(), r, r.tenantId, { name: "Sneaky" })],
  ["archiveTenant", "tenants.manage", (r) => archiveTenant(getDb(), r, r.tenantId)],
  ["restoreTenant", "tenants.manage", (r) => restoreTenant(getDb(), r, r.tenantId)],
  ["createProject", "projects.manage", (r) => createProject(getDb(), r, { name: "Sneaky project" })],
  ["renameProject", "projects.manage", (r) => renameProject(getDb(), r, projectId, { name: "Sneaky" })],
  ["createApp", "projects.manage", (r) => createApp(getDb(), r, projectId, { name: "Sneaky app", platform: "iOS" })],
  ["renameApp", "projects.manage", (r) => renameApp(getDb(), r, appId, { name: "Sneaky" })],
  ["listCohortParticipants with identifiers", "studies.export.full", (r) => listCohortParticipants(getDb(), r, cohort.id, { page: 1, identifying: true })],
];

// Reads need what a viewer has; a requester without it gets nothing.
const READS: [name: string, needs: Permission, call: (r: Requester) => Promise<unknown>][] = [
  ["listDashboards", "dashboards.read", (r) => listDashboards(getDb(), r)],
  ["getDashboard", "dashboards.read", (r) => getDashboard(getDb(), r, dashboardId)],
  ["listMetrics", "metrics.read", (r) => listMetrics(getDb(), r)],
  ["listMetricPoints", "metrics.read", (r) => listMetricPoints(getDb(), r, { limit: 10, offset: 0 })],
  ["metricTimeseries", "metrics.read", (r) => metricTimeseries(getDb(), r, "stripe.mrr", { startDate: "2020-01-01", endDate: "2030-01-01", interval: "month" })],
  ["listConnections", "data.read", (r) => listConnections(getDb(), r)],
  ["listProjects", "data.read", (r) => listProjects(getDb(), r)],
  ["listStudies", "data.read", (r) => listStudies(getDb(), r)],
  ["getCohort", "data.read", (r) => getCohort(getDb(), r, cohort.studyId, cohort.id)],
  ["listTenantMembers", "members.read", (r) => listTenantMembers(getDb(), r)],
  ["getApiLimits", "data.read", (r) => getApiLimits(getDb(), r)],
];

describe("service functions check their own permission", () => {
  const viewer = () => permissionsFor("member", "viewer");
  for (const [name, needs, call] of CALLS) {
    it(`${name} refuses a requester without ${needs}`, async () => {
      const without = holding(...viewer().filter((p) => p !== needs));
      await expect(call(without)).rejects.toMatchObject({ code: "FORBIDDEN", details: { permission: needs } });
    });
  }
  for (const [name, needs, call] of READS) {
    it(`${name} reveals nothing to a requester without ${needs}`, async () => {
      const without = holding(...viewer().filter((p) => p !== needs));
      await expect(call(without)).rejects.toMatchObject({ code: "FORBIDDEN", details: { permission: needs } });
      await expect(call(holding(needs))).resolves.toBeDefined();
    });
  }

  it("nothing was changed by the refused calls", async () => {
    expect(await getDb().selectFrom("export").select("status").where("id", "=", exportId).executeTakeFirstOrThrow()).toEqual({ status: "done" });
    expect(await getDb().selectFrom("dashboard").select("id").where("name", "=", "Sneaked in").execute()).toEqual([]);
    expect(await getDb().selectFrom("metric_point").select("id").where("metric_id", "=", "sneaky.metric").execute()).toEqual([]);
    expect(await getDb().selectFrom("api_key").select("revoked_at").where("id", "=", keyId).executeTakeFirstOrThrow()).toEqual({ revoked_at: null });
    expect((await getApiLimits(getDb(), owner)).api_requests_per_hour).toBeNull();
    expect(await getDb().selectFrom("tenant").select(["name", "archived_at"]).where("id", "=", owner.tenantId).executeTakeFirstOrThrow()).toEqual({ name: "Production", archived_at: null });
    expect(await getDb().selectFrom("tenant").select("id").where("name", "=", "Sneaky tenant").execute()).toEqual([]);
    expect(await getDb().selectFrom("project").select("id").where("name", "like", "Sneaky%").execute()).toEqual([]);
    expect(await getDb().selectFrom("app").select("id").where("name", "like", "Sneaky%").execute()).toEqual([]);
  });
});
