import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import * as exportsPage from "../../app/routes/o.$org.t.$tenant.exports._index";
import * as cohortPage from "../../app/routes/o.$org.t.$tenant.studies.$studyId.cohorts.$cohortId";
import * as dashboardPage from "../../app/routes/o.$org.t.$tenant.dashboards.$id";
import * as importPage from "../../app/routes/o.$org.t.$tenant.dashboards.import";
import * as customMetric from "../../app/routes/api.v1.metrics.custom";
import * as apiImport from "../../app/routes/api.v1.dashboards.import";
import { createKey } from "../setup/api";
import { callRoute, makeRequest, signIn } from "../setup/routes";

// Input nobody meant to send is a 400 (or a message on one widget), never a 500.
const PROD = { org: "acme-health", tenant: "production" };
let editor: string;
let key: string;

beforeAll(async () => {
  editor = await signIn("production-editor@acme.test");
  key = await createKey("production");
});

async function cohortIds() {
  return getDb()
    .selectFrom("cohort as c").innerJoin("study as s", "s.id", "c.study_id").innerJoin("tenant as t", "t.id", "s.tenant_id")
    .where("t.slug", "=", "production").select(["s.id as studyId", "c.id as cohortId"]).orderBy("c.name").executeTakeFirstOrThrow();
}

describe("?page= out of range", () => {
  it.each(["1e300", "9007199254740993", "100000000"])("the exports list sends page=%s to its last page", async (page) => {
    const res = await callRoute(exportsPage.loader, makeRequest(`/o/acme-health/t/production/exports?page=${page}`, { cookie: editor }), PROD);
    expect(res.status).toBe(302);
    expect(res.headers.get("Location")).toBe("/o/acme-health/t/production/exports?page=1");
  });

  it("a cohort's participants keep the search and go to the last page", async () => {
    const ids = await cohortIds();
    const path = `/o/acme-health/t/production/studies/${ids.studyId}/cohorts/${ids.cohortId}`;
    const first = await callRoute(cohortPage.loader, makeRequest(path, { cookie: editor }), { ...PROD, ...ids });
    expect(first.status).toBe(200);
    const res = await callRoute(cohortPage.loader, makeRequest(`${path}?q=P&page=1e300`, { cookie: editor }), { ...PROD, ...ids });
    expect(res.status).toBe(302);
    expect(res.headers.get("Location")).toBe(`${path}?q=P&page=${first.data.pages}`);
    const last = await callRoute(cohortPage.loader, makeRequest(res.headers.get("Location")!, { cookie: editor }), { ...PROD, ...ids });
    expect(last.status).toBe(200);
  });

  it("pages that exist are left alone", async () => {
    const res = await callRoute(exportsPage.loader, makeRequest("/o/acme-health/t/production/exports?page=1", { cookie: editor }), PROD);
    expect(res.status).toBe(200);
    expect(res.data.page).toBe(1);
  });
});

describe("a chart widget whose range needs too many buckets", () => {
  it("says so on that widget while the rest of the dashboard renders", async () => {
    const metricId = (await getDb().selectFrom("metric_point as m").innerJoin("tenant as t", "t.id", "m.tenant_id")
      .where("t.slug", "=", "production").select("m.metric_id").executeTakeFirstOrThrow()).metric_id;
    const file = {
      format: "exportal.dashboard",
      formatVersion: 1,
      exportedAt: new Date().toISOString(),
      dashboard: {
        name: "Ten years by the hour",
        slug: "ten-years-hourly",
        type: "custom",
        isDefault: false,
        description: "",
        widgets: [
          { type: "chart", title: "Hourly for ten years", position: { x: 0, y: 0, w: 6, h: 3 }, visible: true, config: { metricId, interval: "hour", rangeDays: 3650 } },
          { type: "metric", title: "Latest", position: { x: 6, y: 0, w: 3, h: 2 }, visible: true, config: { metricId } },
        ],
      },
    };
    const form = new FormData();
    form.set("file", new File([JSON.stringify(file)], "dashboard.json", { type: "application/json" }));
    const imported = await callRoute(importPage.action, new Request("http://localhost:3000/o/acme-health/t/production/dashboards/import", { method: "POST", headers: { Cookie: editor }, body: form }), PROD);
    expect(imported.status).toBe(201);
    const id = imported.data.imported[0].id;

    const page = await callRoute(dashboardPage.loader, makeRequest(`/o/acme-health/t/production/dashboards/${id}`, { cookie: editor }), { ...PROD, id });
    expect(page.status).toBe(200);
    const [chart, latest] = page.data.dashboard.widgets;
    expect(chart.content.kind).toBe("problem");
    expect(chart.content.message).toMatch(/too many hourly points.*coarser interval or a shorter range/);
    expect(latest.content.kind).toBe("metric");
  });
});

/** `depth` nested arrays around a number: [[[…1…]]]. */
const nested = (depth: number) => "[".repeat(depth) + "1" + "]".repeat(depth);

describe("deeply nested JSON bodies", () => {
  const post = (route: { action: (args: any) => unknown }, path: string, body: string) =>
    callRoute(route.action as any, new Request(`http://localhost:3000${path}`, { method: "POST", headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" }, body }));

  it.each([
    ["a pushed metric", customMetric, "/api/v1/metrics/custom", `{"metricId":"custom.deep","value":1,"metadata":{"x":${nested(10_000)}}}`],
    ["a dashboard import", apiImport, "/api/v1/dashboards/import", nested(10_000)],
  ])("%s nested 10,000 deep is a 400 naming the body", async (_what, route, path, body) => {
    const res = await post(route, path, body);
    expect(res.status).toBe(400);
    expect(res.data.error.code).toBe("INVALID_REQUEST");
    expect(res.data.error.details.field).toBe("body");
    expect(res.data.error.message).toMatch(/nested/);
  });

  it("a body nested a little is still taken", async () => {
    const res = await post(customMetric, "/api/v1/metrics/custom", `{"metricId":"custom.shallow","value":1,"metadata":{"x":${nested(20)}}}`);
    expect(res.status).toBe(201);
  });

  it("the portal's dashboard import refuses a deeply nested file with a message", async () => {
    const form = new FormData();
    form.set("file", new File([nested(10_000)], "dashboard.json", { type: "application/json" }));
    const res = await callRoute(importPage.action, new Request("http://localhost:3000/o/acme-health/t/production/dashboards/import", { method: "POST", headers: { Cookie: editor }, body: form }), PROD);
    expect(res.status).toBe(400);
    expect(res.data.error).toMatch(/nested/);
  });
});

describe("control characters in query parameters", () => {
  it("a NUL in metricIds is a 400 naming the parameter, not a database error", async () => {
    const metrics = await import("../../app/routes/api.v1.metrics");
    for (const value of ["%00", "a%00b", "stripe.mrr,%01"]) {
      const request = new Request(`http://localhost:3000/api/v1/metrics?metricIds=${value}`, { headers: { Authorization: `Bearer ${key}` } });
      const res = await metrics.loader({ request, params: {}, context: {} });
      expect(res.status, value).toBe(400);
      expect((await res.json()).error.details.parameter).toMatch(/^metricIds/);
    }
  });
});

describe("objects where strings belong", () => {
  it("a data type that is an object with its own toString is a 400 naming dataTypes", async () => {
    const exportsApi = await import("../../app/routes/api.v1.exports");
    const request = new Request("http://localhost:3000/api/v1/exports", {
      method: "POST",
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
      body: JSON.stringify({ dataTypes: [{ toString: 0 }] }),
    });
    const res = await exportsApi.loader({ request, params: {}, context: {} });
    expect(res.status).toBe(400);
    expect((await res.json()).error.details.fields).toEqual({ "dataTypes.0": 'Unknown data type {"toString":0}. Choose from hsi_records, lab_results, metrics, integration_connections, dashboards, audit_events.' });
  });
});
