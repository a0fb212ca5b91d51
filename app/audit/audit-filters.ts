/** Which trail the audit log shows: the tenant's, or the whole organization's (owners and admins). */
export const AUDIT_VIEWS = ["tenant", "organization"] as const;
export type AuditView = (typeof AUDIT_VIEWS)[number];

/**
 * The audit log's filters, as the page's GET form sends them. `actor` is
 * `user:<id>`, `key:<id>`, or `label:<words>` for actors that are neither
 * (system, signed link, anonymous); `subject` is `type:id` or text found in
 * subject ids; `from` and `to` are UTC dates, both included.
 */
export interface AuditFilters {
  actor?: { by: "user" | "key" | "label"; value: string };
  action?: string;
  subject?: { type: string; id: string } | { text: string };
  from?: string;
  to?: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const ACTOR = /^(user|key|label):(.+)$/s;
// A subject type is a word; anything else before a colon is part of the text searched for.
const TYPED_SUBJECT = /^([a-z][a-z_]{0,39}):(.+)$/s;
const MAX_TEXT = 320;

// A real day: JavaScript reads 2026-02-30 as 2 March, so the date must read back as written.
function validDate(value: string): boolean {
  const date = new Date(`${value}T00:00:00Z`);
  return DATE.test(value) && !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

/**
 * The filters in a URL's query, and a message for each one that cannot be
 * used (it is then left out, so the page still shows the rest).
 */
export function parseAuditFilters(params: URLSearchParams): { filters: AuditFilters; fieldErrors: Record<string, string> } {
  const filters: AuditFilters = {};
  const fieldErrors: Record<string, string> = {};
  const text = (name: string) => {
    const value = params.get(name)?.trim() ?? "";
    if (value.length > MAX_TEXT) {
      fieldErrors[name] = `Keep it under ${MAX_TEXT} characters.`;
      return "";
    }
    // PostgreSQL refuses U+0000 in text; no action, actor or subject holds a control character.
    if (/[\u0000-\u001f\u007f]/.test(value)) {
      fieldErrors[name] = "Use letters, digits and punctuation only.";
      return "";
    }
    return value;
  };
  const actor = text("actor");
  if (actor) {
    const match = ACTOR.exec(actor);
    if (match) filters.actor = { by: match[1] as "user" | "key" | "label", value: match[2] };
    else fieldErrors.actor = "Choose an actor from the list.";
  }
  const action = text("action");
  if (action) filters.action = action;
  const subject = text("subject");
  if (subject) {
    const typed = TYPED_SUBJECT.exec(subject);
    filters.subject = typed ? { type: typed[1], id: typed[2].trim() } : { text: subject };
  }
  for (const name of ["from", "to"] as const) {
    const value = text(name);
    if (!value) continue;
    if (validDate(value)) filters[name] = value;
    else fieldErrors[name] = "Enter a date as YYYY-MM-DD.";
  }
  if (filters.from && filters.to && filters.from > filters.to) {
    fieldErrors.to = "Choose a date on or after From.";
    delete filters.to;
  }
  return { filters, fieldErrors };
}

/** The form's value for an actor: the inverse of the `actor` parsing above. */
export function actorParam(actor: { userId: string | null; apiKeyId: string | null; label: string }): string {
  if (actor.userId) return `user:${actor.userId}`;
  if (actor.apiKeyId) return `key:${actor.apiKeyId}`;
  return `label:${actor.label}`;
}
