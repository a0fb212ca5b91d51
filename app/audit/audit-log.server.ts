import { DAY_MS } from "../lib/dates";
import { sql, type ExpressionBuilder } from "kysely";
import type { DB } from "../../db/client";
import type { Database } from "../../db/schema";
import { can } from "../auth/permissions";
import { authorize, type Requester } from "../auth/requester";
import { AppError } from "../lib/errors";
import { isUuid } from "../lib/ids";
import { actorParam, type AuditFilters, type AuditView } from "./audit-filters";

export const AUDIT_PAGE_SIZE = 50;

type Reader = Pick<Requester, "tenantId" | "organizationId" | "ability" | "actor">;
type Events = ExpressionBuilder<Database & { e: Database["audit_event"] }, "e">;

/**
 * Whether the requester reads the whole organization's trail: organization
 * owners and admins, the ones who may also export the whole organization
 * (`org.exports.create` is what sets them apart; no API key holds it).
 */
export function readsOrganization(requester: Pick<Requester, "ability">): boolean {
  return can(requester.ability, "audit.read") && can(requester.ability, "org.exports.create");
}

/**
 * Sign-in events (stored without an organization) of the organization's
 * members: those they made, and those tried on their email.
 */
function memberSignIns(db: DB, organizationId: string, eb: Events) {
  const members = db.selectFrom("member as m").innerJoin("user as u", "u.id", "m.userId").where("m.organizationId", "=", organizationId);
  return eb.and([
    eb("e.organization_id", "is", null),
    eb("e.action", "like", "auth.%"),
    eb.or([
      eb("e.actor_user_id", "in", members.select("m.userId")),
      eb.and([eb("e.subject_type", "=", "account"), eb(sql`lower(e.subject_id)`, "in", members.select(sql<string>`lower(u.email)`.as("email")))]),
    ]),
  ]);
}

/**
 * The events of one place the requester may read: the tenant's, or (for
 * organization owners and admins) every event of the organization, of any
 * tenant or none, with its members' sign-ins. Never another organization's.
 */
function eventsIn(db: DB, requester: Reader, view: AuditView) {
  authorize(requester, "audit.read");
  const events = db.selectFrom("audit_event as e");
  if (view === "tenant") return events.where("e.tenant_id", "=", requester.tenantId).where("e.organization_id", "=", requester.organizationId);
  if (!readsOrganization(requester)) {
    throw new AppError("FORBIDDEN", "Only organization owners and admins may read the whole organization's audit log.", { permission: "org.exports.create" });
  }
  return events.where((eb) => eb.or([eb("e.organization_id", "=", requester.organizationId), memberSignIns(db, requester.organizationId, eb)]));
}

const nextDay = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) + DAY_MS).toISOString();
// ILIKE treats % and _ as wildcards; a search for them means the characters themselves.
const likeText = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

function filtered(db: DB, requester: Reader, view: AuditView, filters: AuditFilters) {
  let query = eventsIn(db, requester, view);
  const { actor, action, subject, from, to } = filters;
  if (actor?.by === "user") query = query.where("e.actor_user_id", "=", actor.value);
  // A key id that is not a uuid matches nothing, rather than making PostgreSQL refuse the query.
  if (actor?.by === "key") query = isUuid(actor.value) ? query.where("e.actor_api_key_id", "=", actor.value) : query.where(sql<boolean>`false`);
  if (actor?.by === "label") query = query.where("e.actor_user_id", "is", null).where("e.actor_api_key_id", "is", null).where("e.actor_label", "=", actor.value);
  if (action) query = query.where("e.action", "=", action);
  if (subject && "type" in subject) query = query.where("e.subject_type", "=", subject.type).where("e.subject_id", "=", subject.id);
  if (subject && "text" in subject) query = query.where("e.subject_id", "ilike", likeText(subject.text));
  if (from) query = query.where("e.created_at", ">=", new Date(`${from}T00:00:00Z`));
  if (to) query = query.where("e.created_at", "<", new Date(nextDay(to)));
  return query;
}

/** One page of the events in the place that pass the filters, newest first, and how many pass in all. */
export async function listAuditEvents(db: DB, requester: Reader, view: AuditView, filters: AuditFilters, page = 1) {
  const [events, count] = await Promise.all([
    filtered(db, requester, view, filters)
      .leftJoin("tenant as t", "t.id", "e.tenant_id")
      .select([
        "e.id", "e.created_at", "e.tenant_id", "t.slug as tenant_slug", "t.name as tenant_name",
        "e.actor_user_id", "e.actor_api_key_id", "e.actor_label", "e.client_ip", "e.user_agent",
        "e.action", "e.subject_type", "e.subject_id", "e.details",
      ])
      .orderBy("e.created_at", "desc")
      .orderBy("e.id", "desc")
      .limit(AUDIT_PAGE_SIZE)
      .offset((page - 1) * AUDIT_PAGE_SIZE)
      .execute(),
    filtered(db, requester, view, filters).select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow(),
  ]);
  return { events, total: Number(count.n) };
}

export interface AuditChoice {
  value: string;
  label: string;
}

// Enough for any real list; a place with more distinct actors than this shows its most recent ones.
const MAX_CHOICES = 500;

/** The actors and actions seen in the place, for the filters' lists: actors by name, each once, under their latest name. */
export async function auditFilterChoices(db: DB, requester: Reader, view: AuditView): Promise<{ actors: AuditChoice[]; actions: string[] }> {
  const [actorRows, actionRows] = await Promise.all([
    eventsIn(db, requester, view)
      .select(["e.actor_user_id", "e.actor_api_key_id", "e.actor_label"])
      .select((eb) => eb.fn.max("e.created_at").as("last"))
      .groupBy(["e.actor_user_id", "e.actor_api_key_id", "e.actor_label"])
      .orderBy("last", "desc")
      .limit(MAX_CHOICES)
      .execute(),
    eventsIn(db, requester, view).select("e.action").distinct().orderBy("e.action").limit(MAX_CHOICES).execute(),
  ]);
  const actors = new Map<string, string>();
  for (const row of actorRows) {
    const value = actorParam({ userId: row.actor_user_id, apiKeyId: row.actor_api_key_id, label: row.actor_label });
    if (!actors.has(value)) actors.set(value, row.actor_label);
  }
  return {
    actors: [...actors].map(([value, label]) => ({ value, label })).sort((a, b) => a.label.localeCompare(b.label)),
    actions: actionRows.map((r) => r.action),
  };
}
