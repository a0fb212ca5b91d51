import { sql } from "kysely";
import type { DB } from "../../db/client";
import { ACTIVE_EXPORT_STATUSES, type Export } from "../../db/schema";
import { abilityCondition } from "../auth/ability-sql.server";
import type { Requester } from "../auth/requester";
import { AppError } from "../lib/errors";
import { isUuid } from "../lib/ids";
import { can } from "../auth/permissions";
import { exportJobKeySql } from "./engine/queue.server";
import { cachedSettledExport, rememberIfSettled, settledExportsGeneration } from "./settled-exports.server";

/** Who asks to see exports: the tenant they look from and what they may see. */
export type Viewer = Pick<Requester, "tenantId" | "ability">;

/**
 * The exports of the viewer's tenant that the viewer may know of: the
 * permissions' conditions keep organization-wide exports from anyone who may
 * not export the organization.
 */
export function visibleExports(db: DB, viewer: Viewer) {
  return db
    .selectFrom("export as e")
    .where("e.tenant_id", "=", viewer.tenantId)
    .where(abilityCondition(viewer.ability, "read", "data.exports", { "scope.type": sql`e.scope->>'type'` }));
}

/**
 * Where a waiting export stands in its tenant's line: 1 for the next its
 * tenant will run, null for any other status or once a worker claimed its
 * job. graphile-worker takes jobs by priority, then run_at, then id, so the
 * position counts the tenant's unclaimed waiting jobs up to this one; other
 * tenants' queues stay unseen.
 */
const queuePosition = sql<number | null>`case when e.status = 'pending' then (
  select nullif(count(*), 0)::int
  from graphile_worker.jobs me, export q join graphile_worker.jobs j on j.key = ${exportJobKeySql("q.id")}
  where me.key = ${exportJobKeySql("e.id")} and me.locked_at is null
    and q.tenant_id = e.tenant_id and q.status = 'pending' and j.locked_at is null
    and (j.priority, j.run_at, j.id) <= (me.priority, me.run_at, me.id)) end`;

/** The viewer's exports with who asked: a person's name, or "API key <name>" for a program. */
function withAsker(db: DB, viewer: Viewer) {
  return visibleExports(db, viewer)
    .leftJoin("user as u", "u.id", "e.requested_by_user_id")
    .leftJoin("api_key as k", "k.id", "e.requested_by_api_key_id")
    .selectAll("e")
    .select(sql<string | null>`coalesce(u.name, 'API key ' || k.name)`.as("requestedBy"));
}

/** The viewer's exports, each with who asked, the schedule that made it and its place in line. */
function withRequester(db: DB, viewer: Viewer) {
  return withAsker(db, viewer)
    .leftJoin("export_schedule_run as sr", "sr.id", "e.schedule_run_id")
    .leftJoin("export_schedule as s", "s.id", "sr.schedule_id")
    .leftJoin("user as so", "so.id", "s.owner_user_id")
    .select(sql<ExportListItem["schedule"]>`case when s.id is null then null else json_build_object('id', s.id, 'name', s.name, 'ownerName', so.name) end`.as("schedule"))
    .select(queuePosition.as("queuePosition"));
}

export interface ExportListItem extends Export {
  requestedBy: string | null;
  /** 1 for the tenant's next export to run; null unless it waits in line. */
  queuePosition: number | null;
  /** For an export a schedule's run made: "Scheduled by <ownerName>, schedule <name>"; null otherwise (or once the schedule is deleted). */
  schedule: { id: string; name: string; ownerName: string | null } | null;
}

export const PAGE_SIZE = 25;

/**
 * One page of the exports the viewer may see, newest first, and how many there are in all.
 * The exports page polls this every 1.5 s while something runs. The page's rows are read
 * with the light query: withRequester's schedule joins and per-row queue subquery cost
 * PostgreSQL milliseconds to plan for 25 rows, though most rows are neither scheduled nor
 * waiting. Schedules and places in line are then read in one statement each, for only the
 * rows that have them, and not at all when none does.
 */
export async function listExports(db: DB, viewer: Viewer, page = 1): Promise<{ exports: ExportListItem[]; total: number }> {
  // The count rides on the rows (a window over all the viewer's exports); only a page past the end asks again.
  const rows = await withAsker(db, viewer)
    .select(sql<string>`count(*) over ()`.as("total"))
    .orderBy("e.created_at", "desc")
    .orderBy("e.id", "desc")
    .limit(PAGE_SIZE)
    .offset((page - 1) * PAGE_SIZE)
    .execute();
  const [schedules, positions, total] = await Promise.all([
    schedulesOf(db, rows),
    queuePositionsOf(db, rows),
    rows.length > 0 ? Number(rows[0].total) : countExports(db, viewer),
  ]);
  const exports = rows.map(({ total: _, ...e }) => ({
    ...e,
    schedule: (e.schedule_run_id !== null && schedules.get(e.schedule_run_id)) || null,
    queuePosition: positions.get(e.id) ?? null,
  }));
  return { exports, total };
}

async function countExports(db: DB, viewer: Viewer): Promise<number> {
  const { n } = await visibleExports(db, viewer).select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow();
  return Number(n);
}

/** The schedules whose runs made these exports, by run id, as withRequester gives them; a deleted schedule is absent. */
async function schedulesOf(db: DB, rows: Pick<Export, "schedule_run_id">[]): Promise<Map<string, NonNullable<ExportListItem["schedule"]>>> {
  const runIds = [...new Set(rows.flatMap((e) => (e.schedule_run_id === null ? [] : [e.schedule_run_id])))];
  if (runIds.length === 0) return new Map();
  const found = await db
    .selectFrom("export_schedule_run as sr")
    .innerJoin("export_schedule as s", "s.id", "sr.schedule_id")
    .leftJoin("user as so", "so.id", "s.owner_user_id")
    .select(["sr.id as runId", "s.id", "s.name", "so.name as ownerName"])
    .where("sr.id", "in", runIds)
    .execute();
  return new Map(found.map(({ runId, ...schedule }) => [runId, schedule]));
}

/** Where each of these exports that waits stands in its tenant's line, by export id (see queuePosition). */
async function queuePositionsOf(db: DB, rows: Pick<Export, "id" | "status">[]): Promise<Map<string, number | null>> {
  const pending = rows.flatMap((e) => (e.status === "pending" ? [e.id] : []));
  if (pending.length === 0) return new Map();
  const found = await db.selectFrom("export as e").select(["e.id", queuePosition.as("queuePosition")]).where("e.id", "in", pending).execute();
  return new Map(found.map((e) => [e.id, e.queuePosition]));
}

/**
 * One export the viewer may see; undefined for an unknown id, another tenant's export or one hidden from the viewer alike.
 * `fromCache`: a finished export may come from this process's cache (settled-exports.server.ts), for what only shows
 * an export (the API's GET, which clients poll). Downloads, cancels and pages read the database: what they decide or
 * show must not lag a change by the notification's milliseconds.
 */
export async function getExport(db: DB, viewer: Viewer, id: string, { fromCache = false } = {}): Promise<Readonly<ExportListItem> | undefined> {
  if (!isUuid(id)) return undefined;
  const cached = fromCache ? cachedSettledExport(id) : undefined;
  // The cache holds rows whoever read them: the tenant and the viewer's rights are checked here, as the query checks them.
  if (cached) return cached.tenant_id === viewer.tenantId && can(viewer.ability, "data.exports.read", cached) ? cached : undefined;
  const generation = settledExportsGeneration();
  // Most exports read one at a time (an API client polling one) are neither waiting nor scheduled. Their row
  // alone is one cheap statement; the schedule and queue joins cost PostgreSQL ten times more to plan and run.
  const exp = await withAsker(db, viewer).where("e.id", "=", id).executeTakeFirst();
  if (exp && exp.status !== "pending" && exp.schedule_run_id === null) {
    const item = { ...exp, schedule: null, queuePosition: null };
    rememberIfSettled(item, generation);
    return item;
  }
  return exp && withRequester(db, viewer).where("e.id", "=", id).executeTakeFirst();
}

/** The viewer's exports that are running or waiting: running first, then in the order they will run. */
export function listActiveExports(db: DB, viewer: Viewer): Promise<ExportListItem[]> {
  return withRequester(db, viewer)
    .where("e.status", "in", ACTIVE_EXPORT_STATUSES)
    .orderBy(sql`e.status = 'running'`, "desc")
    .orderBy(queuePosition, (ob) => ob.asc().nullsFirst())
    .orderBy("e.created_at")
    .execute();
}

const CURSOR = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)\|([0-9a-f-]{36})$/;

/**
 * A page of the tenant's exports for the API, newest first, after `cursor`.
 * The cursor carries the last row's creation time to the microsecond and its
 * id, so pages neither skip nor repeat rows while exports are being added.
 */
export async function listExportsAfter(db: DB, viewer: Viewer, options: { limit: number; cursor?: string; status?: string }) {
  let query = withRequester(db, viewer)
    .select(sql<string>`to_char(e.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as("cursor_at"))
    .orderBy("e.created_at", "desc")
    .orderBy("e.id", "desc")
    .limit(options.limit + 1);
  if (options.status) query = query.where("e.status", "=", options.status as Export["status"]);
  if (options.cursor !== undefined) {
    const match = CURSOR.exec(Buffer.from(options.cursor, "base64url").toString("utf8"));
    if (!match || !isUuid(match[2])) {
      throw new AppError("INVALID_REQUEST", "Invalid query parameter cursor: is not a cursor from this API; pass the nextCursor of the previous page.", { parameter: "cursor" });
    }
    // Sent as text: postgres.js would send a timestamptz parameter through a Date and drop the microseconds.
    query = query.where(sql<boolean>`(e.created_at, e.id) < (${match[1]}::text::timestamptz, ${match[2]}::uuid)`);
  }
  const rows = await query.execute();
  const page = rows.slice(0, options.limit);
  const last = page.at(-1);
  const hasMore = rows.length > options.limit;
  return {
    exports: page as ExportListItem[],
    hasMore,
    nextCursor: hasMore && last ? Buffer.from(`${last.cursor_at}|${last.id}`).toString("base64url") : null,
  };
}

/**
 * An export of the tenant by id whoever may see it: for a signed link, whose
 * valid signature is the permission to download exactly that export.
 */
export function getExportForLink(db: DB, tenantId: string, id: string): Promise<Export | undefined> {
  if (!isUuid(id)) return Promise.resolve(undefined);
  return db.selectFrom("export").selectAll().where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst();
}
