import { describe, expect, it } from "vitest";
import { actionLabel, detailLines } from "../../app/audit/audit-labels";
import { shortUserAgent } from "../../app/lib/user-agent";
import { parseAuditFilters } from "../../app/audit/audit-filters";

describe("the audit log in words", () => {
  it("names known actions, and reads unknown ones from their name", () => {
    expect(actionLabel("export.downloaded")).toBe("Export downloaded");
    expect(actionLabel("invitation.accepted")).toBe("Invitation accepted");
    expect(actionLabel("schedule.run_skipped")).toBe("Schedule run skipped");
  });

  it("shows changes as from → to, at the top, under a key, or per differing key of two objects; the rest as key: value", () => {
    expect(detailLines({ from: "editor", to: "viewer", tenant: "Production" })).toEqual(["editor → viewer", "tenant: Production"]);
    expect(detailLines({ name: { from: "Main", to: "HQ" } })).toEqual(["name: Main → HQ"]);
    expect(detailLines({ from: { a_b: 1, c: 2 }, to: { a_b: 3, c: 2 } })).toEqual(["a b: 1 → 3"]);
    expect(detailLines({ permissions: ["data.read", "audit.read"], expiresAt: null })).toEqual(["permissions: data.read, audit.read", "expiresAt: —"]);
    expect(detailLines({ note: "x".repeat(200) })[0]).toHaveLength("note: ".length + 80);
    // Tenants and people stored as {id, name, role?} read as their names, not as JSON.
    expect(detailLines({ tenant: { id: "t1", name: "Production" }, tenants: [{ id: "t1", name: "Production", role: "editor" }, { id: "t2", name: "Staging", role: "viewer" }] }))
      .toEqual(["tenant: Production", "tenants: Production (editor), Staging (viewer)"]);
  });

  it("shortens user agents", () => {
    expect(shortUserAgent("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36")).toBe("Headless Chrome 131 on Linux");
    expect(shortUserAgent("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")).toBe("Safari 17 on iOS");
    expect(shortUserAgent("curl/8.5.0")).toBe("curl/8.5.0");
  });
});

describe("the audit log's filters", () => {
  it("reads actor, subject as type:id or text, and dates, naming what it cannot use", () => {
    const q = (s: string) => parseAuditFilters(new URLSearchParams(s));
    expect(q("actor=key:abc&subject=export:123&from=2026-01-01&to=2026-01-31").filters).toEqual({
      actor: { by: "key", value: "abc" }, subject: { type: "export", id: "123" }, from: "2026-01-01", to: "2026-01-31",
    });
    expect(q("subject=Cardio Study: v2").filters.subject).toEqual({ text: "Cardio Study: v2" });
    expect(q("from=2026-02-30&to=2026-01-01&actor=x").fieldErrors).toEqual({ from: "Enter a date as YYYY-MM-DD.", actor: "Choose an actor from the list." });
    expect(q("from=2026-13-45").fieldErrors).toEqual({ from: "Enter a date as YYYY-MM-DD." });
    expect(q("from=2026-02-01&to=2026-01-01").fieldErrors).toEqual({ to: "Choose a date on or after From." });
  });
});
