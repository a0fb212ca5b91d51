// How the audit log says things to people. Other features add actions as
// they go; one this map does not know still reads well from its own name.

const ACTION_LABELS: Record<string, string> = {
  "auth.sign_in": "Signed in",
  "auth.sign_out": "Signed out",
  "auth.sign_in_failed": "Sign-in failed",
  "auth.sign_in_locked": "Sign-in locked (too many attempts)",
  "account.password_changed": "Password changed",
  "account.password_set": "Password set",
  "account.sessions_revoked": "Signed out everywhere",
  "member.invited": "Member invited",
  "member.role_changed": "Member's role changed",
  "member.removed": "Member removed",
  "invitation.accepted": "Invitation accepted",
  "invitation.revoked": "Invitation revoked",
  "invitation.resent": "Invitation resent",
  "tenant.created": "Tenant created",
  "tenant.renamed": "Tenant renamed",
  "tenant.archived": "Tenant archived",
  "tenant.restored": "Tenant restored",
  "tenant.limits_changed": "API limits changed",
  "project.created": "Project created",
  "project.renamed": "Project renamed",
  "app.created": "App created",
  "app.renamed": "App renamed",
  "api_key.created": "API key created",
  "api_key.revoked": "API key revoked",
  "export.requested": "Export requested",
  "export.started": "Export started",
  "export.done": "Export finished",
  "export.failed": "Export failed",
  "export.cancelled": "Export cancelled",
  "export.link_issued": "Download link issued",
  "export.downloaded": "Export downloaded",
  "export.expired": "Export expired",
};

const words = (name: string) => name.replace(/[_-]+/g, " ").trim();

/** An action in words: "member.role_changed" → "Member's role changed"; unknown ones from their name ("widget.moved" → "Widget moved"). */
export function actionLabel(action: string): string {
  const known = ACTION_LABELS[action];
  if (known) return known;
  const text = action.split(".").map(words).filter(Boolean).join(" ");
  return text ? text[0].toUpperCase() + text.slice(1) : action;
}

const MAX_VALUE = 80;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** A tenant, project or person as details store them (`{id, name, role?}`) reads as its name: "Production (editor)". */
function named(value: unknown): string | undefined {
  if (!isObject(value) || typeof value.name !== "string") return undefined;
  return typeof value.role === "string" ? `${value.name} (${value.role})` : value.name;
}

function short(value: unknown): string {
  if (value === null || value === undefined) return "—";
  const items = Array.isArray(value) ? value.map((v) => (typeof v !== "object" || v === null ? String(v) : named(v))) : [];
  const text =
    typeof value === "string" ? value
    : Array.isArray(value) && items.every((i) => i !== undefined) ? items.join(", ")
    : named(value) ?? JSON.stringify(value);
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}
const isChange = (value: unknown): value is { from: unknown; to: unknown } => isObject(value) && "from" in value && "to" in value;

/** `{from, to}` as "from → to"; two objects as one line per key that differs. */
function changeLines(change: { from: unknown; to: unknown }, prefix = ""): string[] {
  if (isObject(change.from) && isObject(change.to)) {
    const from = change.from;
    const to = change.to;
    const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])];
    return keys.filter((k) => JSON.stringify(from[k]) !== JSON.stringify(to[k])).map((k) => `${prefix}${words(k)}: ${short(from[k])} → ${short(to[k])}`);
  }
  return [`${prefix}${short(change.from)} → ${short(change.to)}`];
}

/**
 * An event's details as short lines for the "What changed" column: a change
 * (`{from, to}`, at the top or under a key) as "from → to", anything else as
 * "key: value".
 */
export function detailLines(details: Record<string, unknown>): string[] {
  if (isChange(details)) {
    const { from, to, ...rest } = details;
    return [...changeLines({ from, to }), ...detailLines(rest)];
  }
  return Object.entries(details).flatMap(([key, value]) => (isChange(value) ? changeLines(value, `${words(key)}: `) : [`${words(key)}: ${short(value)}`]));
}
