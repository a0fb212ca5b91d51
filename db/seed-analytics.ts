import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import type { DB } from "./client";
import type { CredentialKind } from "./schema";

interface MetricSeed {
  id: string;
  name: string;
  unit: string;
  /** SQL expression of day number d (0 = a year ago) and random r giving the value. */
  value: string;
}

const SERVICES: Record<string, { type: "oauth" | "api_key"; account: Record<string, unknown>; metrics: MetricSeed[]; credentials: CredentialKind[] }> = {
  stripe: {
    type: "api_key",
    account: { accountName: "Acme Payments", accountId: "acct_1Demo" },
    metrics: [
      { id: "stripe.mrr", name: "Monthly recurring revenue", unit: "USD", value: "round((42000 + d * 85 + r * 1500)::numeric, 2)" },
      { id: "stripe.new_customers", name: "New customers", unit: "count", value: "floor(3 + r * 12 + d / 60.0)" },
      { id: "stripe.churn", name: "Churned revenue", unit: "USD", value: "round((300 + r * 900)::numeric, 2)" },
    ],
    credentials: ["api_key", "webhook_secret"],
  },
  github: {
    type: "oauth",
    account: { login: "acme-health", plan: "team" },
    metrics: [
      { id: "github.open_issues", name: "Open issues", unit: "count", value: "floor(40 + 20 * sin(d / 20.0) + r * 6)" },
      { id: "github.stars", name: "Stars", unit: "count", value: "floor(800 + d * 2.5 + r * 3)" },
    ],
    credentials: ["oauth_access_token", "oauth_refresh_token"],
  },
  "google-analytics": {
    type: "oauth",
    account: { propertyId: "GA4-123456", propertyName: "acme.example" },
    metrics: [
      { id: "ga.sessions", name: "Sessions", unit: "count", value: "floor(1200 + 400 * sin(d / 7.0 * pi()) + d * 3 + r * 200)" },
      { id: "ga.bounce_rate", name: "Bounce rate", unit: "%", value: "round((38 + r * 14)::numeric, 1)" },
    ],
    credentials: ["oauth_access_token", "oauth_refresh_token"],
  },
};

// Which services each of a tenant's projects (in seed order) connects.
const PROJECT_SERVICES = [["stripe", "github"], ["github", "google-analytics"], ["stripe", "google-analytics"]];

/**
 * Integration connections for each project, their encrypted credentials and a
 * year of daily metric points per connected metric, plus a few custom points.
 */
/** Encrypts a credential for storage; the app's own sealing, passed in since db/ imports nothing from app/. */
export type SealCredential = (plaintext: string) => { ciphertext: Buffer; nonce: Buffer; auth_tag: Buffer };

export async function createIntegrations(db: DB, tenantId: string, projectIds: string[], seal: SealCredential) {
  for (const [i, projectId] of projectIds.entries()) {
    for (const [j, service] of (PROJECT_SERVICES[i % PROJECT_SERVICES.length]).entries()) {
      const spec = SERVICES[service];
      const failing = i === 1 && j === 1;
      const connection = await db
        .insertInto("integration_connection")
        .values({
          tenant_id: tenantId,
          project_id: projectId,
          service,
          type: spec.type,
          status: failing ? "error" : "active",
          last_sync_at: sql<Date>`now() - interval '${sql.raw(String(15 + i * 40 + j * 7))} minutes'`,
          account_info: spec.account,
          configuration: { syncIntervalMinutes: 60, metrics: spec.metrics.map((m) => m.id), ...(failing ? { lastError: "Token expired; reconnect the account." } : {}) },
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      await db
        .insertInto("integration_credential")
        .values(spec.credentials.map((kind) => ({ tenant_id: tenantId, connection_id: connection.id, kind, ...seal(`${kind}_${randomBytes(18).toString("base64url")}`) })))
        .execute();
      for (const metric of spec.metrics) {
        await sql`
          insert into metric_point (tenant_id, project_id, connection_id, metric_id, metric_name, value, unit, recorded_at, service, quality, metadata)
          select ${tenantId}, ${projectId}, ${connection.id}, ${metric.id}, ${metric.name}, ${sql.raw(metric.value)}, ${metric.unit},
                 date_trunc('day', now()) - interval '1 day' * (365 - d), ${service},
                 case when r > 0.97 then 'suspect' when r > 0.9 then 'estimated' else 'good' end,
                 jsonb_build_object('source', ${service}::text, 'sync', 'daily')
          from (select d, random() as r from generate_series(0, 364) d) days`.execute(db);
      }
    }
  }
  await sql`
    insert into metric_point (tenant_id, metric_id, metric_name, value, unit, recorded_at, service, metadata)
    select ${tenantId}, 'custom.deployments', 'Deployments', 1 + floor(random() * 4), 'count',
           date_trunc('day', now()) - interval '1 day' * (90 - d) + interval '14 hours', 'custom', jsonb_build_object('pipeline', 'release')
    from generate_series(0, 89) d`.execute(db);
}

type WidgetSeed = [type: "metric" | "chart" | "table", title: string, x: number, y: number, w: number, h: number, config: Record<string, unknown>, visible?: boolean];

const DASHBOARDS: { name: string; slug: string; type: "custom" | "category"; isDefault: boolean; description: string; widgets: WidgetSeed[] }[] = [
  {
    name: "Overview",
    slug: "overview",
    type: "category",
    isDefault: true,
    description: "Revenue, traffic and engineering at a glance.",
    widgets: [
      ["metric", "MRR", 0, 0, 3, 2, { metricId: "stripe.mrr", aggregate: "last" }],
      ["metric", "New customers (30 days)", 3, 0, 3, 2, { metricId: "stripe.new_customers", aggregate: "sum", rangeDays: 30 }],
      ["metric", "Open issues", 6, 0, 3, 2, { metricId: "github.open_issues", aggregate: "last" }],
      ["metric", "Bounce rate", 9, 0, 3, 2, { metricId: "ga.bounce_rate", aggregate: "avg", rangeDays: 30 }],
      ["chart", "Sessions per week", 0, 2, 8, 4, { metricId: "ga.sessions", interval: "week", aggregate: "sum", rangeDays: 180 }],
      ["table", "Deployments", 8, 2, 4, 4, { metricId: "custom.deployments", limit: 10 }],
    ],
  },
  {
    name: "Growth",
    slug: "growth",
    type: "custom",
    isDefault: false,
    description: "Customer and community growth.",
    widgets: [
      ["chart", "MRR per month", 0, 0, 6, 4, { metricId: "stripe.mrr", interval: "month", aggregate: "avg", rangeDays: 365 }],
      ["chart", "Stars", 6, 0, 6, 4, { metricId: "github.stars", interval: "week", aggregate: "max", rangeDays: 365 }],
      ["table", "Recent new customers", 0, 4, 6, 3, { metricId: "stripe.new_customers", limit: 14 }],
      ["metric", "Churned revenue", 6, 4, 3, 2, { metricId: "stripe.churn", aggregate: "sum" }, false],
    ],
  },
];

/** Two dashboards per tenant: a default overview and a custom one with a hidden widget. */
export async function createDashboards(db: DB, tenantId: string, creatorUserId: string | null) {
  for (const d of DASHBOARDS) {
    const dashboard = await db
      .insertInto("dashboard")
      .values({ tenant_id: tenantId, name: d.name, slug: d.slug, type: d.type, is_default: d.isDefault, description: d.description, created_by_user_id: creatorUserId })
      .returning("id")
      .executeTakeFirstOrThrow();
    await db
      .insertInto("dashboard_widget")
      .values(d.widgets.map(([type, title, x, y, w, h, config, visible = true]) => ({ tenant_id: tenantId, dashboard_id: dashboard.id, type, title, x, y, w, h, config, visible })))
      .execute();
  }
}
