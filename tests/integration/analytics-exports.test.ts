import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import { AppError } from "../../app/lib/errors";
import { createExport } from "../../app/exports/exports.server";
import { buildAbility } from "../../app/auth/permissions";
import { parseCsv } from "../setup/csv";
import { exportRow, openArchive, runQueuedJobs } from "../setup/exports";
import { requesterFor } from "../setup/routes";
import { day } from "../setup/dates";

type Requester = Awaited<ReturnType<typeof requesterFor>>;
const db = () => getDb();

let editor: Requester;
let tenantId: string;

beforeAll(async () => {
  editor = await requesterFor("staging-editor@acme.test", "staging");
  tenantId = editor.tenantId;
});

async function exportedFiles(request: Record<string, unknown>, requester = editor) {
  const exp = await createExport(db(), requester, request);
  await runQueuedJobs();
  return { files: await openArchive(exp.id), row: await exportRow(exp.id) };
}

const ndjson = (buffer: Buffer | undefined) =>
  buffer!
    .toString("utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));

const csvObjects = (buffer: Buffer | undefined) => {
  const [header, ...rows] = parseCsv(buffer!.toString("utf8"));
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
};

async function refusal(request: Record<string, unknown>, requester = editor): Promise<AppError> {
  const error = await createExport(db(), requester, request).catch((e) => e);
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe("metrics, integration connections and dashboards in exports", () => {
  it("a tenant export holds each as NDJSON and CSV, dashboards also as one JSON file, all counted in the manifest", async () => {
    // A month inside the seed's last year of daily metric points.
    const [from, to] = [day(-60), day(-30)];
    const { files, row } = await exportedFiles({
      scope: { type: "tenant" },
      dataTypes: ["metrics", "integration_connections", "dashboards"],
      dateRange: { from, to },
      format: "both",
    });
    expect([...files.keys()].sort()).toEqual([
      "dashboard_widgets.csv",
      "dashboard_widgets.ndjson",
      "dashboards.csv",
      "dashboards.json",
      "dashboards.ndjson",
      "integration_connections.csv",
      "integration_connections.ndjson",
      "manifest.json",
      "manifest.sig",
      "metrics.csv",
      "metrics.ndjson",
    ]);

    // Metric points follow the date range; connections and dashboards are settings, exported whole.
    const points = await db()
      .selectFrom("metric_point")
      .where("tenant_id", "=", tenantId)
      .where("recorded_at", ">=", new Date(`${from}T00:00:00Z`))
      .where("recorded_at", "<", new Date(`${to}T00:00:00Z`))
      .select(["id", "metric_id", "value", "recorded_at"])
      .orderBy("recorded_at")
      .orderBy("id")
      .execute();
    expect(points.length).toBeGreaterThan(100);
    const metricLines = ndjson(files.get("metrics.ndjson"));
    expect(metricLines.map((m) => [String(m.id), m.metric_id, m.value])).toEqual(points.map((p) => [String(p.id), p.metric_id, p.value]));
    expect(Object.keys(metricLines[0])).toEqual(["id", "project_id", "connection_id", "metric_id", "metric_name", "value", "unit", "recorded_at", "service", "quality", "metadata"]);
    expect(csvObjects(files.get("metrics.csv")).map((m) => m.recorded_at)).toEqual(points.map((p) => p.recorded_at.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z")));

    const connections = await db().selectFrom("integration_connection").where("tenant_id", "=", tenantId).select(["id", "service", "status"]).orderBy("created_at").orderBy("id").execute();
    expect(connections.length).toBeGreaterThan(0);
    expect(ndjson(files.get("integration_connections.ndjson")).map((c) => [c.id, c.service, c.status])).toEqual(connections.map((c) => [c.id, c.service, c.status]));

    const dashboards = await db().selectFrom("dashboard").where("tenant_id", "=", tenantId).selectAll().orderBy("created_at").orderBy("id").execute();
    const widgets = await db().selectFrom("dashboard_widget").where("tenant_id", "=", tenantId).selectAll().execute();
    expect(ndjson(files.get("dashboards.ndjson")).map((d) => [d.id, d.name, d.is_default])).toEqual(dashboards.map((d) => [d.id, d.name, d.is_default]));
    expect(csvObjects(files.get("dashboards.csv")).map((d) => d.is_default).sort()).toEqual(dashboards.map((d) => String(d.is_default)).sort());
    expect(ndjson(files.get("dashboard_widgets.ndjson")).map((w) => w.id).sort()).toEqual(widgets.map((w) => w.id).sort());

    const document = JSON.parse(files.get("dashboards.json")!.toString("utf8"));
    expect(document).toMatchObject({ format: "exportal.dashboards", formatVersion: 1 });
    expect(document.dashboards.map((d: { id: string }) => d.id)).toEqual(dashboards.map((d) => d.id));
    for (const d of document.dashboards) {
      const own = widgets.filter((w) => w.dashboard_id === d.id).sort((a, b) => a.y - b.y || a.x - b.x || a.id.localeCompare(b.id));
      expect(d.widgets).toEqual(own.map((w) => ({ id: w.id, type: w.type, title: w.title, position: { x: w.x, y: w.y, w: w.w, h: w.h }, visible: w.visible, config: w.config })));
    }

    const byName = new Map(row.manifest!.files.map((f) => [f.name, f]));
    expect(byName.get("metrics.ndjson")!.rows).toBe(points.length);
    expect(byName.get("metrics.csv")!.rows).toBe(points.length);
    expect(byName.get("integration_connections.csv")!.rows).toBe(connections.length);
    expect(byName.get("dashboard_widgets.ndjson")!.rows).toBe(widgets.length);
    expect(byName.get("dashboards.json")).toMatchObject({ dataType: "dashboards", format: "json", rows: dashboards.length, bytes: files.get("dashboards.json")!.length });
    expect(row.data_types).toEqual(["metrics", "integration_connections", "dashboards", "dashboard_widgets"]);
  });

  it("a project export holds that project's metric points and connections only", async () => {
    const project = await db().selectFrom("project").where("tenant_id", "=", tenantId).select("id").orderBy("name").executeTakeFirstOrThrow();
    const { files } = await exportedFiles({ scope: { type: "project", projectId: project.id }, dataTypes: ["metrics", "integration_connections"], dateRange: { preset: "last_30_days" }, format: "ndjson" });
    const points = ndjson(files.get("metrics.ndjson"));
    const connections = ndjson(files.get("integration_connections.ndjson"));
    expect(points.length).toBeGreaterThan(0);
    expect(new Set(points.map((p) => p.project_id))).toEqual(new Set([project.id]));
    const expected = await db().selectFrom("integration_connection").where("project_id", "=", project.id).select("id").execute();
    expect(connections.map((c) => c.id).sort()).toEqual(expected.map((c) => c.id).sort());
  });

  it("refuses data types the scope cannot hold, naming the field and the scopes that can", async () => {
    const project = await db().selectFrom("project").where("tenant_id", "=", tenantId).select("id").executeTakeFirstOrThrow();
    const app = await db().selectFrom("app").where("project_id", "=", project.id).select("id").executeTakeFirstOrThrow();
    const before = await db().selectFrom("export").where("tenant_id", "=", tenantId).select("id").execute();
    const forApps = await refusal({ scope: { type: "app", projectId: project.id, appIds: [app.id] }, dataTypes: ["hsi_records", "metrics"] });
    expect(forApps.status).toBe(400);
    expect(forApps.details.fieldErrors?.dataTypes).toBe(
      "Metrics cannot be exported for chosen apps. Choose the whole tenant, the entire organization or a project as the scope, or leave Metrics out.",
    );
    const forProject = await refusal({ scope: { type: "project", projectId: project.id }, dataTypes: ["dashboards"] });
    expect(forProject.details.fieldErrors?.dataTypes).toMatch(/^Dashboards cannot be exported for a project\. Choose the whole tenant or the entire organization/);
    expect(await db().selectFrom("export").where("tenant_id", "=", tenantId).select("id").execute()).toEqual(before);
  });

  it("needs the data type's own permission besides the export permissions", async () => {
    const withoutMetrics = { ...editor, ability: buildAbility(["data.read", "data.exports.create", "dashboards.read"]) };
    const error = await refusal({ scope: { type: "tenant" }, dataTypes: ["metrics"] }, withoutMetrics);
    expect(error.status).toBe(403);
    expect(error.details.permission).toBe("metrics.read");
    expect(error.message).toBe("Exporting Metrics needs the permission metrics.read, which you do not have.");
    const allowed = await createExport(db(), withoutMetrics, { scope: { type: "tenant" }, dataTypes: ["dashboards"] });
    expect(allowed.data_types).toEqual(["dashboards", "dashboard_widgets"]);
  });
});
