import type { z } from "zod";
import type { DB } from "../../db/client";
import type { dashboardSummary, widget } from "./api-schemas";
import { isUuid } from "./ids";

type DashboardSummary = z.infer<typeof dashboardSummary>;

const SUMMARY_COLUMNS = ["d.id", "d.name", "d.slug", "d.type", "d.is_default", "d.description", "d.created_at", "d.updated_at"] as const;

function toSummary(row: { id: string; name: string; slug: string; type: "custom" | "category"; is_default: boolean; description: string; created_at: Date; updated_at: Date; widgetCount: string | number }): DashboardSummary {
  return {
    id: row.id,
    name: row.name,
    slug: row.slug,
    type: row.type,
    isDefault: row.is_default,
    description: row.description,
    widgetCount: Number(row.widgetCount),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** The tenant's dashboards, the default first, then by name. */
export async function listDashboards(db: DB, tenantId: string): Promise<DashboardSummary[]> {
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
export async function getDashboard(db: DB, tenantId: string, id: string) {
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
    .orderBy("y")
    .orderBy("x")
    .orderBy("id")
    .execute();
  return {
    ...toSummary(row),
    widgets: widgets.map((w): z.infer<typeof widget> => ({ id: w.id, type: w.type, title: w.title, position: { x: w.x, y: w.y, w: w.w, h: w.h }, visible: w.visible, config: w.config, warning: w.import_warning })),
  };
}
