import { sql } from "kysely";
import type { Requester } from "../auth/requester";
import type { DB } from "../../db/client";
import type { ChartPoint } from "~/analytics/LineChart";
import { INTERVALS } from "../api/schemas";
import { DAY_MS as DAY } from "../lib/dates";
import { AppError } from "../lib/errors";
import { listMetricPoints, metricTimeseries, type MetricSummary } from "./metric-points.server";

const AGGREGATES = ["last", "sum", "avg", "min", "max"] as const;
type Aggregate = (typeof AGGREGATES)[number];

/** What one widget shows, ready to render; a widget that cannot show its metric says why. */
export type WidgetContent =
  | { kind: "hidden" }
  | { kind: "problem"; message: string }
  | { kind: "metric"; value: number | null; unit: string; caption: string }
  | { kind: "chart"; points: ChartPoint[]; unit: string; name: string; from: string; to: string }
  | { kind: "table"; rows: { at: string; value: number }[]; unit: string };

interface Widget {
  type: "metric" | "chart" | "table";
  visible: boolean;
  config: Record<string, unknown>;
}

const pick = <T extends string>(value: unknown, allowed: readonly T[], fallback: T): T => (allowed.includes(value as T) ? (value as T) : fallback);
const whole = (value: unknown, fallback: number, max: number) =>
  typeof value === "number" && Number.isInteger(value) && value > 0 ? Math.min(value, max) : fallback;

/**
 * The data of one widget from its config (`metricId`, `aggregate`,
 * `rangeDays`, `interval`, `limit`). Config comes from imported files too, so
 * every field is checked and falls back to a default.
 */
export async function widgetContent(db: DB, requester: Requester, widget: Widget, metrics: Map<string, MetricSummary>): Promise<WidgetContent> {
  if (!widget.visible) return { kind: "hidden" };
  const metricId = widget.config.metricId;
  if (typeof metricId !== "string" || metricId === "") return { kind: "problem", message: "This widget names no metric." };
  const metric = metrics.get(metricId);
  if (!metric) return { kind: "problem", message: `Metric ${metricId} not found in this tenant.` };
  const now = new Date();
  const days = whole(widget.config.rangeDays, 30, 3660);
  const from = new Date(now.getTime() - days * DAY);

  if (widget.type === "metric") {
    const aggregate = pick<Aggregate>(widget.config.aggregate, AGGREGATES, "last");
    const ranged = typeof widget.config.rangeDays === "number";
    const value = await aggregateValue(db, requester.tenantId, metricId, aggregate, ranged ? from : null);
    const caption = aggregate === "last" ? "latest" : `${aggregate === "avg" ? "average" : aggregate}${ranged ? `, last ${days} days` : ", all time"}`;
    return { kind: "metric", value, unit: metric.unit, caption };
  }
  if (widget.type === "chart") {
    const interval = pick(widget.config.interval, INTERVALS, days > 120 ? "week" : "day");
    const aggregate = pick(widget.config.aggregate, ["sum", "avg", "min", "max"] as const, "avg");
    const series = await metricTimeseries(db, requester, metricId, { startDate: from.toISOString(), endDate: now.toISOString(), interval }).catch((error) => {
      // An imported config may ask for more buckets than a chart may have: this widget says so, the page still renders.
      if (error instanceof AppError && error.code === "INVALID_REQUEST") return null;
      throw error;
    });
    if (!series) {
      return { kind: "problem", message: `${days} days hold too many ${interval === "day" ? "daily" : `${interval}ly`} points to chart; edit the widget to a coarser interval or a shorter range.` };
    }
    const points = series.points.map((p) => ({ at: p.bucket, value: p[aggregate] }));
    return { kind: "chart", points, unit: metric.unit, name: metric.name, from: from.toISOString(), to: now.toISOString() };
  }
  const limit = whole(widget.config.limit, 10, 50);
  const page = await listMetricPoints(db, requester, { metricIds: [metricId], limit, offset: 0 });
  return { kind: "table", rows: page.data.map((p) => ({ at: p.timestamp, value: p.value })), unit: metric.unit };
}

async function aggregateValue(db: DB, tenantId: string, metricId: string, aggregate: Aggregate, from: Date | null): Promise<number | null> {
  let query = db.selectFrom("metric_point").where("tenant_id", "=", tenantId).where("metric_id", "=", metricId);
  if (from) query = query.where("recorded_at", ">=", from);
  if (aggregate === "last") {
    const row = await query.select("value").orderBy("recorded_at", "desc").orderBy("id", "desc").limit(1).executeTakeFirst();
    return row?.value ?? null;
  }
  // A literal from the allowlist above, never from the config itself.
  const row = await query.select(sql<number | null>`${sql.raw(aggregate)}(value)`.as("value")).executeTakeFirst();
  return row?.value ?? null;
}
