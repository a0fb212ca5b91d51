import { sql, type Selectable } from "kysely";
import type { z } from "zod";
import type { DB } from "../../db/client";
import type { DashboardTable, DashboardWidgetTable } from "../../db/schema";
import type { dashboardSummary, widget } from "../api/schemas";
import { isUuid } from "../lib/ids";
import { authorize, type Requester } from "../auth/requester";

type DashboardSummary = z.infer<typeof dashboardSummary>;
type DashboardRow = Pick<Selectable<DashboardTable>, "id" | "name" | "slug" | "type" | "is_default" | "description" | "created_at" | "updated_at">;
type WidgetRow = Pick<Selectable<DashboardWidgetTable>, "id" | "type" | "title" | "x" | "y" | "w" | "h" | "visible" | "config">;

const SUMMARY_COLUMNS = ["d.id", "d.name", "d.slug", "d.type", "d.is_default", "d.description", "d.created_at", "d.updated_at"] as const;

function dashboardFields(d: DashboardRow) {
  return {
    id: d.id,
    name: d.name,
    slug: d.slug,
    type: d.type,
    isDefault: d.is_default,
    description: d.description,
    createdAt: d.created_at.toISOString(),
    updatedAt: d.updated_at.toISOString(),
  };
}

function widgetFields(w: WidgetRow) {
  return { id: w.id, type: w.type, title: w.title, position: { x: w.x, y: w.y, w: w.w, h: w.h }, visible: w.visible, config: w.config };
}

/**
 * A dashboard with its widgets as files hold it: what "Export dashboard"
 * writes, and each entry of an export's `dashboards.json`.
 */
export function dashboardDocument(d: DashboardRow, widgets: WidgetRow[]) {
  return { ...dashboardFields(d), widgets: widgets.map(widgetFields) };
}

/** Widgets in reading order: rows top to bottom, each left to right. */
export const WIDGET_ORDER = "y, x, id";

function toSummary(row: DashboardRow & { widgetCount: string | number }): DashboardSummary {
  return { ...dashboardFields(row), widgetCount: Number(row.widgetCount) };
}

/** The tenant's dashboards, the default first, then by name. */
export async function listDashboards(db: DB, requester: Requester): Promise<DashboardSummary[]> {
  authorize(requester, "dashboards.read");
  const { tenantId } = requester;
  const rows = await db
    .selectFrom("dashboard as d")
    .leftJoin("dashboard_widget as w", "w.dashboard_id", "d.id")
    .where("d.tenant_id", "=", tenantId)
    .select(SUMMARY_COLUMNS)
    .select((eb) => eb.fn.count<string>("w.id").as("widgetCount"))
    .groupBy("d.id")
    .orderBy("d.is_default", "desc")
    .orderBy("d.name")
    .execute();
  return rows.map(toSummary);
}

/** One dashboard of the tenant with its widgets in reading order; undefined for unknown or other tenants' ids. */
export async function getDashboard(db: DB, requester: Requester, id: string) {
  authorize(requester, "dashboards.read");
  return readDashboard(db, requester.tenantId, id);
}

/** getDashboard without its check, for the analytics services that checked their own permission. */
export async function readDashboard(db: DB, tenantId: string, id: string) {
  if (!isUuid(id)) return undefined;
  const row = await db
    .selectFrom("dashboard as d")
    .leftJoin("dashboard_widget as w", "w.dashboard_id", "d.id")
    .where("d.tenant_id", "=", tenantId)
    .where("d.id", "=", id)
    .select(SUMMARY_COLUMNS)
    .select((eb) => eb.fn.count<string>("w.id").as("widgetCount"))
    .groupBy("d.id")
    .executeTakeFirst();
  if (!row) return undefined;
  const widgets = await db
    .selectFrom("dashboard_widget")
    .where("dashboard_id", "=", row.id)
    .select(["id", "type", "title", "x", "y", "w", "h", "visible", "config", "import_warning"])
    .orderBy(sql.raw(WIDGET_ORDER))
    .execute();
  return {
    ...toSummary(row),
    widgets: widgets.map((w): z.infer<typeof widget> => ({ ...widgetFields(w), warning: w.import_warning })),
  };
}
