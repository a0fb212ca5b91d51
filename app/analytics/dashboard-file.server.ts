import type { z } from "zod";
import type { DB } from "../../db/client";
import { DASHBOARD_FORMAT, DASHBOARD_FORMAT_VERSION, DASHBOARDS_FORMAT, dashboardFile as fileInput, dashboardsFile } from "../api/schemas";
import { jsonProblem, MAX_JSON_DEPTH } from "../api/body.server";
import { readDashboard } from "./dashboards.server";
import { AppError } from "../lib/errors";
import { authorize, type Requester } from "../auth/requester";
import { assertTenantWritable } from "../tenants/archived.server";

// Dashboard files: "Export dashboard" writes one, an export with dashboards
// writes a `dashboards.json` of many, and "Import dashboard" (portal and API)
// reads either back into any tenant with new ids. The format version rises
// whenever a reader of the old version would misread the new one.

/** The file "Export dashboard" downloads; undefined for an unknown id or another tenant's. */
export async function exportDashboardFile(db: DB, requester: Requester, id: string) {
  authorize(requester, "dashboards.export");
  const { tenantId } = requester;
  const dashboard = await readDashboard(db, tenantId, id);
  if (!dashboard) return undefined;
  // What the portal shows beside the dashboard, not part of it: the count, and warnings from an earlier import.
  const { widgetCount: _count, widgets, ...fields } = dashboard;
  return {
    format: DASHBOARD_FORMAT,
    formatVersion: DASHBOARD_FORMAT_VERSION,
    exportedAt: new Date().toISOString(),
    dashboard: { ...fields, widgets: widgets.map(({ warning: _warning, ...widget }) => widget) },
  };
}

/**
 * A dashboard file as a download: the text "Export dashboard" writes (in the portal and through the API
 * alike) and the headers that make it an attachment named `dashboard-<id>.json`.
 */
export function dashboardFileDownload(file: NonNullable<Awaited<ReturnType<typeof exportDashboardFile>>>) {
  return {
    text: JSON.stringify(file, null, 2) + "\n",
    headers: {
      "Content-Type": "application/json; charset=utf-8",
      "Content-Disposition": `attachment; filename="dashboard-${file.dashboard.id}.json"`,
    },
  };
}

function invalidFile(message: string, problems: { path: string; message: string }[] = []): AppError {
  return new AppError("INVALID_REQUEST", message, { problems, fieldErrors: { file: message } });
}

/** A file's text as JSON, or a clear error. */
export function parseDashboardFileText(text: string): unknown {
  let file: unknown;
  try {
    file = JSON.parse(text);
  } catch (error) {
    throw invalidFile(`The file is not valid JSON (${(error as Error).message}). Choose a file written by "Export dashboard".`);
  }
  const problem = jsonProblem(file);
  if (problem === "nesting") throw invalidFile(`The file is nested more than ${MAX_JSON_DEPTH} levels deep; a dashboard file is not. Choose a file written by "Export dashboard".`);
  if (problem) throw invalidFile("The file holds a NUL character (\\u0000) or an unpaired surrogate, which Exportal cannot store. Remove it and import again.");
  return file;
}

type FileDashboard = z.output<typeof fileInput>["dashboard"];

/**
 * Checks a dashboard file, or an export's `dashboards.json`, saying what is wrong with it in words a
 * person can act on. Returns its dashboards, and whether it was the many-dashboard kind.
 */
export function readDashboardFile(input: unknown): { bulk: boolean; dashboards: FileDashboard[] } {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw invalidFile('The file does not hold a dashboard: expected a JSON object written by "Export dashboard".');
  }
  const { format, formatVersion } = input as Record<string, unknown>;
  if (format !== DASHBOARD_FORMAT && format !== DASHBOARDS_FORMAT) {
    throw invalidFile(
      `This is not an Exportal dashboard file: its "format" is ${JSON.stringify(format ?? null)}, expected "${DASHBOARD_FORMAT}" (or "${DASHBOARDS_FORMAT}", an export's dashboards.json).`,
      [{ path: "format", message: `must be "${DASHBOARD_FORMAT}" or "${DASHBOARDS_FORMAT}"` }],
    );
  }
  if (typeof formatVersion === "number" && formatVersion > DASHBOARD_FORMAT_VERSION) {
    throw invalidFile(
      `This file has format version ${formatVersion}, written by a newer Exportal; this one reads version ${DASHBOARD_FORMAT_VERSION}. Import it where Exportal is up to date.`,
      [{ path: "formatVersion", message: `must be at most ${DASHBOARD_FORMAT_VERSION}` }],
    );
  }
  const bulk = format === DASHBOARDS_FORMAT;
  const parsed = bulk ? dashboardsFile.safeParse(input) : fileInput.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join(".") || "file", message: issue.message }));
    const listed = problems.slice(0, 3).map((p) => `${p.path} ${p.message}`);
    const more = problems.length > 3 ? ` and ${problems.length - 3} more` : "";
    throw invalidFile(`The dashboard file is not valid: ${listed.join("; ")}${more}.`, problems);
  }
  return { bulk, dashboards: "dashboards" in parsed.data ? parsed.data.dashboards : [parsed.data.dashboard] };
}

export interface ImportedDashboard {
  id: string;
  name: string;
  slug: string;
  isDefault: boolean;
  widgetCount: number;
  /** Widgets kept although their metric does not exist in the tenant. */
  flaggedWidgets: { title: string; metricId: string; warning: string }[];
}

const slugOf = (name: string) =>
  name.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 90) || "dashboard";

/**
 * Recreates a dashboard file's dashboards (one, or each of an export's `dashboards.json`) in the tenant
 * with new ids, in one transaction: all or none. A taken slug gets a number; the tenant's default stays
 * its default (a tenant without one takes the file's first); a widget whose metric the tenant lacks is
 * imported with a warning.
 */
export async function importDashboards(db: DB, requester: Requester, input: unknown) {
  authorize(requester, "dashboards.import");
  await assertTenantWritable(db, requester.tenantId);
  const { tenantId } = requester;
  const userId = requester.actor.userId;
  const { bulk, dashboards } = readDashboardFile(input);
  const imported = await db.transaction().execute(async (trx) => {
    const done: ImportedDashboard[] = [];
    // In order, each seeing the ones before it: slugs and the default stay unique within the file too.
    for (const file of dashboards) done.push(await recreate(trx, tenantId, userId, file));
    return done;
  });
  // As the API shows them: whoever may import may see what they imported.
  const shown = await Promise.all(imported.map(async (d) => ({ ...d, dashboard: (await readDashboard(db, tenantId, d.id))! })));
  return { bulk, dashboards: shown };
}

async function recreate(trx: DB, tenantId: string, userId: string | null, file: FileDashboard): Promise<ImportedDashboard> {
  const base = file.slug ?? slugOf(file.name);
  const taken = new Set(
    (await trx.selectFrom("dashboard").where("tenant_id", "=", tenantId).where("slug", "like", `${base}%`).select("slug").execute()).map((r) => r.slug),
  );
  let slug = base;
  for (let n = 2; taken.has(slug); n++) slug = `${base}-${n}`;
  const hasDefault = await trx.selectFrom("dashboard").where("tenant_id", "=", tenantId).where("is_default", "=", true).select("id").executeTakeFirst();
  const isDefault = file.isDefault && !hasDefault;

  const metricIds = [...new Set(file.widgets.map((w) => w.config.metricId).filter((m): m is string => typeof m === "string"))];
  const known = new Set(
    metricIds.length
      ? (await trx.selectFrom("metric_point").where("tenant_id", "=", tenantId).where("metric_id", "in", metricIds).select("metric_id").distinct().execute()).map((m) => m.metric_id)
      : [],
  );

  const dashboard = await trx
    .insertInto("dashboard")
    .values({ tenant_id: tenantId, name: file.name, slug, type: file.type, is_default: isDefault, description: file.description, created_by_user_id: userId })
    .returning("id")
    .executeTakeFirstOrThrow();
  const flaggedWidgets: ImportedDashboard["flaggedWidgets"] = [];
  const rows = file.widgets.map((w) => {
    const metricId = w.config.metricId;
    const missing = typeof metricId === "string" && !known.has(metricId);
    const warning = missing ? `Metric ${metricId} does not exist in this tenant.` : null;
    if (missing) flaggedWidgets.push({ title: w.title, metricId, warning: warning! });
    return { tenant_id: tenantId, dashboard_id: dashboard.id, type: w.type, title: w.title, ...w.position, visible: w.visible, config: w.config, import_warning: warning };
  });
  if (rows.length) await trx.insertInto("dashboard_widget").values(rows).execute();
  return { id: dashboard.id, name: file.name, slug, isDefault, widgetCount: rows.length, flaggedWidgets };
}
