import { beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { getDb } from "../../db/client";
import { sealCredential } from "../../app/analytics/credential-crypto.server";
import * as integrations from "../../app/routes/o.$org.t.$tenant.integrations";
import * as metrics from "../../app/routes/o.$org.t.$tenant.metrics";
import * as dashboards from "../../app/routes/o.$org.t.$tenant.dashboards._index";
import * as dashboard from "../../app/routes/o.$org.t.$tenant.dashboards.$id";
import { tenantBySlug } from "../setup/api";
import { callRoute, makeRequest, signIn } from "../setup/routes";
import { day } from "../setup/dates";

const PROD = { org: "acme-health", tenant: "production" };
const path = (rest: string) => `/o/${PROD.org}/t/${PROD.tenant}/${rest}`;
let viewer: string;
let editor: string;

beforeAll(async () => {
  [viewer, editor] = await Promise.all([signIn("production-viewer@acme.test"), signIn("production-editor@acme.test")]);
});

const metricsPage = (query: string, cookie = viewer) => callRoute(metrics.loader, makeRequest(path(`metrics${query}`), { cookie }), PROD);

async function dashboardIdBySlug(tenant: string, slug: string) {
  const t = await tenantBySlug(tenant);
  return (await getDb().selectFrom("dashboard").where("tenant_id", "=", t.id).where("slug", "=", slug).select("id").executeTakeFirstOrThrow()).id;
}

describe("integrations page", () => {
  it("shows each project's connections with status and last sync, and nothing of their credentials", async () => {
    const secret = "CANARY-integration-secret-3b1f";
    const sealed = sealCredential(secret);
    await getDb().updateTable("integration_credential").set(sealed).execute();

    const page = await callRoute(integrations.loader, makeRequest(path("integrations"), { cookie: viewer }), PROD);
    expect(page.status).toBe(200);
    const rows = page.data.connections.map((c: any) => `${c.service} ${c.status} ${c.account}`);
    expect(rows).toContain("stripe active Acme Payments");
    expect(page.data.connections.some((c: any) => c.status === "error" && c.lastError)).toBe(true);
    expect(page.data.connections.every((c: any) => c.lastSyncAt)).toBe(true);
    const sent = JSON.stringify(page.data);
    for (const leak of [secret, sealed.ciphertext.toString("base64"), sealed.ciphertext.toString("hex")]) expect(sent.includes(leak)).toBe(false);

    const project = page.data.projects[0];
    const filtered = await callRoute(integrations.loader, makeRequest(path(`integrations?project=${project.id}`), { cookie: viewer }), PROD);
    expect(new Set(filtered.data.connections.map((c: any) => c.projectId))).toEqual(new Set([project.id]));
  });
});

describe("metrics page", () => {
  it("charts the chosen metric from SQL buckets over the chosen range", async () => {
    const page = await metricsPage("?metric=stripe.mrr&range=30d&interval=day");
    expect(page.status).toBe(200);
    expect(page.data.metrics.map((m: any) => m.metricId)).toContain("ga.sessions");
    const { chart } = page.data;
    expect(chart.metric).toMatchObject({ metricId: "stripe.mrr", unit: "USD" });
    expect(Date.parse(chart.to) - Date.parse(chart.from)).toBe(30 * 86_400_000);
    // One point per day that has data in the range: the seed wrote every day before it ran, so 28 to 30
    // days depending on whether midnight passed between the seed and this test.
    const t = await tenantBySlug("production");
    const { days } = await getDb()
      .selectFrom("metric_point")
      .where("tenant_id", "=", t.id)
      .where("metric_id", "=", "stripe.mrr")
      .where("recorded_at", ">=", new Date(chart.from))
      .where("recorded_at", "<", new Date(chart.to))
      .select(sql<number>`count(distinct date_trunc('day', recorded_at, 'UTC'))::int`.as("days"))
      .executeTakeFirstOrThrow();
    expect(days).toBeGreaterThanOrEqual(28);
    expect(chart.points.length).toBe(days);
    // Average per day by default for money: two Stripe connections give two points a day.
    const day = chart.points[5];
    const raw = await getDb()
      .selectFrom("metric_point")
      .where("tenant_id", "=", t.id)
      .where("metric_id", "=", "stripe.mrr")
      .where("recorded_at", ">=", new Date(day.at))
      .where("recorded_at", "<", new Date(Date.parse(day.at) + 86_400_000))
      .select("value")
      .execute();
    expect(day.count).toBe(raw.length);
    expect(day.value).toBeCloseTo(raw.reduce((s, r) => s + r.value, 0) / raw.length, 6);
  });

  it("refuses bad choices with a 400 naming the field, and keeps what was typed", async () => {
    const year = day(0).slice(0, 4);
    const badDate = await metricsPage(`?metric=ga.sessions&range=custom&from=${year}-02-30&to=${year}-03-10`);
    expect(badDate.status).toBe(400);
    expect(badDate.data.errors).toEqual({ from: "Enter From as a date (YYYY-MM-DD)." });
    expect(badDate.data.values).toMatchObject({ metric: "ga.sessions", range: "custom", from: `${year}-02-30`, to: `${year}-03-10` });
    expect(badDate.data.chart).toBeNull();

    const backwards = await metricsPage(`?metric=ga.sessions&range=custom&from=${day(-20)}&to=${day(-29)}`);
    expect(backwards.data.errors).toEqual({ to: "To must be on or after From." });
    const unknown = await metricsPage("?metric=nope&interval=hour");
    expect(unknown.status).toBe(400);
    expect(unknown.data.errors).toEqual({ metric: "Choose a metric from the list.", interval: "Choose day, week, month or automatic." });
    const tooFine = await metricsPage(`?metric=ga.sessions&range=custom&from=${day(-20 * 365)}&to=${day(0)}`);
    expect(tooFine.data.errors).toEqual({ to: "Choose at most 10 years." });
  });

  it("shows an empty range as such, not as an error", async () => {
    // Years before the seed's first metric point.
    const page = await metricsPage(`?metric=ga.sessions&range=custom&from=${day(-3000)}&to=${day(-2970)}`);
    expect(page.status).toBe(200);
    expect(page.data.chart.points).toEqual([]);
  });
});

describe("dashboards", () => {
  it("lists the tenant's dashboards, the default first, and who may import", async () => {
    const asViewer = await callRoute(dashboards.loader, makeRequest(path("dashboards"), { cookie: viewer }), PROD);
    expect(asViewer.data.dashboards.map((d: any) => `${d.name}${d.isDefault ? " (default)" : ""} ${d.widgetCount}`)).toEqual(["Overview (default) 6", "Growth 4"]);
    expect(asViewer.data.canImport).toBe(false);
    const asEditor = await callRoute(dashboards.loader, makeRequest(path("dashboards"), { cookie: editor }), PROD);
    expect(asEditor.data.canImport).toBe(true);
  });

  it("renders each visible widget from its metric, and says so when a widget's metric is missing", async () => {
    const id = await dashboardIdBySlug("production", "growth");
    const t = await tenantBySlug("production");
    await getDb()
      .insertInto("dashboard_widget")
      .values({ tenant_id: t.id, dashboard_id: id, type: "metric", title: "Orphan", x: 9, y: 4, w: 3, h: 2, config: { metricId: "nowhere.metric" } })
      .execute();
    const page = await callRoute(dashboard.loader, makeRequest(path(`dashboards/${id}`), { cookie: viewer }), { ...PROD, id });
    expect(page.status).toBe(200);
    const byTitle = Object.fromEntries(page.data.dashboard.widgets.map((w: any) => [w.title, w.content]));
    expect(Object.keys(byTitle).sort()).toEqual(["MRR per month", "Orphan", "Recent new customers", "Stars"]);
    expect(page.data.hiddenCount).toBe(1);
    expect(byTitle.Orphan).toEqual({ kind: "problem", message: "Metric nowhere.metric not found in this tenant." });
    expect(byTitle.Stars.kind).toBe("chart");
    expect(byTitle.Stars.points.length).toBeGreaterThan(40);
    expect(byTitle["Recent new customers"]).toMatchObject({ kind: "table", unit: "count" });
    expect(byTitle["Recent new customers"].rows).toHaveLength(14);
    // Viewers look; only editors and up may take the dashboard file away.
    expect(page.data.canExport).toBe(false);
    const asEditor = await callRoute(dashboard.loader, makeRequest(path(`dashboards/${id}`), { cookie: editor }), { ...PROD, id });
    expect(asEditor.data.canExport).toBe(true);
  });

  it("answers another tenant's dashboard exactly like an unknown one", async () => {
    const foreign = await dashboardIdBySlug("staging", "overview");
    const a = await callRoute(dashboard.loader, makeRequest(path(`dashboards/${foreign}`), { cookie: viewer }), { ...PROD, id: foreign });
    const b = await callRoute(dashboard.loader, makeRequest(path("dashboards/00000000-0000-4000-8000-000000000000"), { cookie: viewer }), { ...PROD, id: "00000000-0000-4000-8000-000000000000" });
    expect(a.status).toBe(404);
    expect(b.status).toBe(404);
    expect(a.data).toEqual(b.data);
  });
});
