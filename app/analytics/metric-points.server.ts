import { sql } from "kysely";
import type { z } from "zod";
import type { DB } from "../../db/client";
import type { customMetricBody, listMetricsQuery, metricPoint, timeseriesQuery } from "../api/schemas";
import { utcInstant as instant } from "../lib/dates";
import { AppError } from "../lib/errors";
import { authorize, type Requester } from "../auth/requester";
import { assertTenantWritable } from "../tenants/archived.server";

type MetricPoint = z.infer<typeof metricPoint>;


const POINT_COLUMNS = ["id", "metric_id", "metric_name", "value", "unit", "recorded_at", "service", "project_id", "connection_id", "quality", "metadata"] as const;

function toPoint(row: { id: string; metric_id: string; metric_name: string; value: number; unit: string; recorded_at: Date; service: string; project_id: string | null; connection_id: string | null; quality: MetricPoint["quality"]; metadata: Record<string, unknown> }): MetricPoint {
  return {
    id: String(row.id),
    metricId: row.metric_id,
    metricName: row.metric_name,
    value: row.value,
    unit: row.unit,
    timestamp: row.recorded_at.toISOString(),
    service: row.service,
    projectId: row.project_id,
    connectionId: row.connection_id,
    quality: row.quality,
    metadata: row.metadata,
  };
}

/** The tenant's metric points, newest first, filtered and paged by offset, with the total. */
export async function listMetricPoints(db: DB, requester: Requester, query: z.output<typeof listMetricsQuery>) {
  authorize(requester, "metrics.read");
  const { tenantId } = requester;
  let base = db.selectFrom("metric_point").where("tenant_id", "=", tenantId);
  if (query.metricIds?.length) base = base.where("metric_id", "in", query.metricIds);
  if (query.startDate) base = base.where("recorded_at", ">=", instant(query.startDate));
  if (query.endDate) base = base.where("recorded_at", "<", instant(query.endDate));
  const [rows, count] = await Promise.all([
    base.select(POINT_COLUMNS).orderBy("recorded_at", "desc").orderBy("id", "desc").limit(query.limit).offset(query.offset).execute(),
    base.select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow(),
  ]);
  const total = Number(count.n);
  return { data: rows.map(toPoint), total, limit: query.limit, offset: query.offset, hasMore: query.offset + rows.length < total };
}

const INTERVAL_SECONDS = { hour: 3600, day: 86_400, week: 604_800, month: 2_629_800 };
const MAX_BUCKETS = 10_000;

/** One metric aggregated per hour, day, week or month, in SQL; buckets start at UTC boundaries. */
export async function metricTimeseries(db: DB, requester: Requester, metricId: string, query: z.output<typeof timeseriesQuery>) {
  authorize(requester, "metrics.read");
  const { tenantId } = requester;
  const from = instant(query.startDate);
  const to = instant(query.endDate);
  if ((to.getTime() - from.getTime()) / 1000 / INTERVAL_SECONDS[query.interval] > MAX_BUCKETS) {
    throw new AppError("INVALID_REQUEST", `Invalid query parameter interval: ${query.interval} gives more than ${MAX_BUCKETS} buckets over this range; choose a coarser interval or a shorter range.`, {
      parameter: "interval",
    });
  }
  const known = await db.selectFrom("metric_point").select("metric_id").where("tenant_id", "=", tenantId).where("metric_id", "=", metricId).limit(1).executeTakeFirst();
  if (!known) throw new AppError("NOT_FOUND", `No metric ${metricId} in this tenant.`, { metricId });
  // A literal (the enum was validated), so SELECT and GROUP BY are the same expression.
  const bucket = sql<Date>`date_trunc(${sql.lit(query.interval)}, recorded_at, 'UTC')`;
  const rows = await db
    .selectFrom("metric_point")
    .where("tenant_id", "=", tenantId)
    .where("metric_id", "=", metricId)
    .where("recorded_at", ">=", from)
    .where("recorded_at", "<", to)
    .select([
      bucket.as("bucket"),
      sql<string>`count(*)`.as("count"),
      sql<number>`sum(value)`.as("sum"),
      sql<number>`avg(value)`.as("avg"),
      sql<number>`min(value)`.as("min"),
      sql<number>`max(value)`.as("max"),
    ])
    .groupBy(bucket)
    .orderBy(bucket)
    .execute();
  return {
    metricId,
    interval: query.interval,
    startDate: from.toISOString(),
    endDate: to.toISOString(),
    points: rows.map((r) => ({ bucket: new Date(r.bucket).toISOString(), count: Number(r.count), sum: r.sum, avg: r.avg, min: r.min, max: r.max })),
  };
}

/**
 * Stores one custom metric point pushed by a program. Points are immutable;
 * ids that an integration feeds are refused, so pushed numbers never mix with synced ones.
 */
export async function pushCustomMetric(db: DB, requester: Requester, body: z.output<typeof customMetricBody>): Promise<MetricPoint> {
  authorize(requester, "metrics.write");
  await assertTenantWritable(db, requester.tenantId);
  const { tenantId } = requester;
  const apiKeyId = requester.actor.apiKeyId ?? null;
  const existing = await db
    .selectFrom("metric_point")
    .select(["service", "metric_name"])
    .where("tenant_id", "=", tenantId)
    .where("metric_id", "=", body.metricId)
    .orderBy(sql`service = 'custom'`) // an integration's point first, if there is one
    .limit(1)
    .executeTakeFirst();
  if (existing && existing.service !== "custom") {
    throw new AppError("CONFLICT", `Metric ${body.metricId} is fed by the ${existing.service} integration; give custom metrics an id of their own.`, { fieldErrors: { metricId: "is fed by an integration" } });
  }
  const row = await db
    .insertInto("metric_point")
    .values({
      tenant_id: tenantId,
      metric_id: body.metricId,
      metric_name: existing?.metric_name ?? body.metricId,
      value: body.value,
      unit: body.unit ?? "",
      recorded_at: body.timestamp === undefined ? new Date() : new Date(body.timestamp),
      service: "custom",
      metadata: body.metadata ?? {},
      created_by_api_key_id: apiKeyId,
    })
    .returning(POINT_COLUMNS)
    .executeTakeFirstOrThrow();
  return toPoint(row);
}

export interface MetricSummary {
  metricId: string;
  name: string;
  unit: string;
  service: string;
  points: number;
  firstAt: Date;
  lastAt: Date;
}

/** The tenant's metrics (all, or those of `metricIds`), one row per metric id, by service and name. */
export async function listMetrics(db: DB, requester: Requester, metricIds?: string[]): Promise<MetricSummary[]> {
  authorize(requester, "metrics.read");
  const { tenantId } = requester;
  if (metricIds?.length === 0) return [];
  let query = db.selectFrom("metric_point").where("tenant_id", "=", tenantId);
  if (metricIds) query = query.where("metric_id", "in", metricIds);
  const rows = await query
    .select([
      "metric_id",
      sql<string>`min(metric_name)`.as("name"),
      sql<string>`min(unit)`.as("unit"),
      sql<string>`min(service)`.as("service"),
      sql<string>`count(*)`.as("points"),
      sql<Date>`min(recorded_at)`.as("first_at"),
      sql<Date>`max(recorded_at)`.as("last_at"),
    ])
    .groupBy("metric_id")
    .orderBy(sql`min(service)`)
    .orderBy("metric_id")
    .execute();
  return rows.map((r) => ({ metricId: r.metric_id, name: r.name, unit: r.unit, service: r.service, points: Number(r.points), firstAt: new Date(r.first_at), lastAt: new Date(r.last_at) }));
}
