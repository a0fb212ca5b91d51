import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import * as auditPage from "../../app/routes/o.$org.t.$tenant.audit";
import * as layout from "../../app/routes/o.$org.t.$tenant";
import * as detail from "../../app/routes/o.$org.t.$tenant.exports.$id";
import * as settings from "../../app/routes/o.$org.t.$tenant.settings";
import { recordEvent, recordSignInEvent } from "../../app/audit/audit.server";
import { SECTIONS, showsSection } from "../../app/components/sections";
import { createExport } from "../../app/exports/exports.server";
import { tenantBySlug } from "../setup/api";
import { runQueuedJobs } from "../setup/exports";
import { callRoute, makeRequest, signIn } from "../setup/routes";
import { requesterFor } from "../setup/routes";

// The audit log page: who reads which events, and how they are shown and filtered.
const ORG = "acme-health";
const PROD = { org: ORG, tenant: "production" };
const page = (query = "", tenant = "production") => `/o/${ORG}/t/${tenant}/audit${query}`;

const cookies: Record<string, string> = {};
let acmeId: string;
let prodId: string;
let stagingId: string;
let prodExportId: string;

const userId = async (email: string) => (await getDb().selectFrom("user").select("id").where("email", "=", email).executeTakeFirstOrThrow()).id;

async function view(who: string, query = "", params = PROD) {
  return callRoute(auditPage.loader, makeRequest(page(query, params.tenant), { cookie: cookies[who] }), params);
}

type Row = { actionName: string; subject: { text: string; href: string | null }; actor: string; changes: string[]; tenant: string | null; userAgent: { short: string; full: string } | null; ip: string | null };
const actions = (rows: Row[]) => rows.map((r) => r.actionName);
const subjects = (rows: Row[]) => rows.map((r) => r.subject.text);

beforeAll(async () => {
  for (const email of ["owner@acme.test", "admin@acme.test", "production-admin@acme.test", "staging-admin@acme.test", "production-editor@acme.test", "production-viewer@acme.test", "owner@globex.test"]) {
    cookies[email] = await signIn(email);
  }
  const [prod, staging, main] = await Promise.all([tenantBySlug("production"), tenantBySlug("staging"), tenantBySlug("main")]);
  acmeId = prod.organization_id;
  prodId = prod.id;
  stagingId = staging.id;
  const db = getDb();

  // Production: an editor's export; Staging: another; Globex: its owner's.
  prodExportId = (await createExport(db, await requesterFor("production-editor@acme.test", "production"), { dataTypes: ["lab_results"] })).id;
  await runQueuedJobs();
  await createExport(db, await requesterFor("staging-editor@acme.test", "staging"), { dataTypes: ["lab_results"] });
  await createExport(db, await requesterFor("owner@globex.test", "main", "globex"), { dataTypes: ["lab_results"] });
  await runQueuedJobs();

  // Events other features record: one of the organization with no tenant, one this page has no label for.
  const owner = { userId: await userId("owner@acme.test"), label: "Olivia Owner", ip: "203.0.113.5", userAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36" };
  await recordEvent(db, { organization_id: acmeId, tenant_id: null }, "member.invited", { type: "invitation", id: "inv-1" }, owner, { email: "new@acme.test", role: "member" });
  await recordEvent(db, { organization_id: acmeId, tenant_id: prodId }, "member.role_changed", { type: "user", id: "u-9" }, owner, { tenantRole: { from: "editor", to: "viewer" } });
  await recordEvent(db, { organization_id: acmeId, tenant_id: prodId }, "widget.frobbed_twice", { type: "widget", id: "w-1" }, owner);
  await recordEvent(db, { organization_id: main.organization_id, tenant_id: null }, "member.invited", { type: "invitation", id: "globex-inv" }, owner);

  // Sign-ins, placed nowhere: members' (made, or tried on their email), a Globex owner's, a stranger's.
  await recordSignInEvent(db, "sign_in_failed", { email: "production-editor@acme.test", ip: "198.51.100.1" });
  await recordEvent(db, { organization_id: null, tenant_id: null }, "auth.sign_in", { type: "account", id: "production-admin@acme.test" }, { userId: await userId("production-admin@acme.test"), label: "Production Admin", ip: "198.51.100.2" });
  await recordSignInEvent(db, "sign_in_failed", { email: "owner@globex.test", ip: "198.51.100.3" });
  await recordEvent(db, { organization_id: null, tenant_id: null }, "auth.sign_in", { type: "account", id: "owner@globex.test" }, { userId: await userId("owner@globex.test"), label: "Grace Globex" });
  await recordSignInEvent(db, "sign_in_failed", { email: "nobody@nowhere.test", ip: "198.51.100.4" });
});

describe("who reads the audit log", () => {
  for (const who of ["owner@acme.test", "admin@acme.test"]) {
    it(`${who} reads this tenant's events, and the whole organization's with its members' sign-ins but nothing of Globex`, async () => {
      const tenant = await view(who);
      expect(tenant.status).toBe(200);
      expect(tenant.data.wholeOrganization).toBe(true);
      const tenantRows: Row[] = tenant.data.events;
      expect(subjects(tenantRows)).toContain(`export ${prodExportId}`);
      expect(actions(tenantRows)).toContain("member.role_changed");
      expect(actions(tenantRows)).not.toContain("member.invited"); // no tenant
      expect(actions(tenantRows).some((a) => a.startsWith("auth."))).toBe(false);
      const tenantIds = await getDb().selectFrom("audit_event").select("id").where("tenant_id", "=", prodId).execute();
      expect(tenant.data.total).toBe(tenantIds.length);

      const org = await view(who, "?view=organization");
      expect(org.status).toBe(200);
      const rows: Row[] = org.data.events;
      const texts = subjects(rows);
      expect(texts).toContain("invitation inv-1");
      expect(texts).toContain("account production-editor@acme.test");
      expect(texts).toContain("account production-admin@acme.test");
      expect(rows.some((r) => r.tenant === "Staging")).toBe(true);
      expect(rows.some((r) => r.tenant === "Production")).toBe(true);
      for (const foreign of ["invitation globex-inv", "account owner@globex.test", "account nobody@nowhere.test"]) expect(texts).not.toContain(foreign);
      const globexTenant = (await tenantBySlug("main")).id;
      const globexExports = await getDb().selectFrom("export").select("id").where("tenant_id", "=", globexTenant).execute();
      for (const e of globexExports) expect(texts).not.toContain(`export ${e.id}`);
    });
  }

  it("a tenant admin reads their tenant's events only: the organization view is 403, another tenant's log 404", async () => {
    const own = await view("production-admin@acme.test");
    expect(own.status).toBe(200);
    expect(own.data.wholeOrganization).toBe(false);
    expect((own.data.events as Row[]).every((r) => r.tenant === "Production")).toBe(true);
    expect((await view("production-admin@acme.test", "?view=organization")).status).toBe(403);
    expect((await view("staging-admin@acme.test")).status).toBe(404);
    expect((await view("owner@globex.test")).status).toBe(404);
  });

  it("editors and viewers get 403, and the section is not in their navigation", async () => {
    const section = SECTIONS.find((s) => s.to === "audit")!;
    for (const who of ["production-editor@acme.test", "production-viewer@acme.test"]) {
      expect((await view(who)).status, who).toBe(403);
      const frame = await callRoute(layout.loader, makeRequest(page(), { cookie: cookies[who] }), PROD);
      expect(showsSection(section, frame.data.shell.permissions), who).toBe(false);
    }
    const frame = await callRoute(layout.loader, makeRequest(page(), { cookie: cookies["production-admin@acme.test"] }), PROD);
    expect(showsSection(section, frame.data.shell.permissions)).toBe(true);
  });

  it("an export's page links to its events for those who read the log, not for an editor", async () => {
    const path = `/o/${ORG}/t/production/exports/${prodExportId}`;
    const admin = await callRoute(detail.loader, makeRequest(path, { cookie: cookies["production-admin@acme.test"] }), { ...PROD, id: prodExportId });
    expect(admin.data.auditHref).toBe(page(`?subject=export%3A${prodExportId}`));
    const editor = await callRoute(detail.loader, makeRequest(path, { cookie: cookies["production-editor@acme.test"] }), { ...PROD, id: prodExportId });
    expect(editor.data.auditHref).toBeNull();

    const linked = await view("production-admin@acme.test", `?subject=export%3A${prodExportId}`);
    const rows: Row[] = linked.data.events;
    expect(actions(rows)).toEqual(["export.done", "export.started", "export.requested"]);
    expect(rows[0].subject.href).toBe(`/o/${ORG}/t/production/exports/${prodExportId}`);
  });
});

describe("what each event shows", () => {
  it("actor, action in words (known or not), what changed as from → to, a short user agent with the whole one kept", async () => {
    const rows: Row[] = (await view("owner@acme.test")).data.events;
    const changed = rows.find((r) => r.actionName === "member.role_changed")!;
    expect(changed).toMatchObject({ actor: "Olivia Owner", ip: "203.0.113.5", changes: ["tenantRole: editor → viewer"] });
    expect(changed.userAgent).toEqual({ short: "Chrome 131 on macOS", full: expect.stringContaining("AppleWebKit") });
    const unknown = (await view("owner@acme.test", "?action=widget.frobbed_twice")).data;
    expect(unknown.events[0].action).toBe("Widget frobbed twice");
    expect(unknown.choices.actions).toContainEqual({ value: "member.role_changed", label: "Member's role changed" });
    const requested = rows.find((r) => r.actionName === "export.requested")!;
    expect(requested.actor).toBe("Production Editor");
  });

  it("a change of API limits on the Settings page is recorded once, with each changed limit from → to", async () => {
    const save = (form: Record<string, string>) =>
      callRoute(settings.action, makeRequest(`/o/${ORG}/t/production/settings`, { cookie: cookies["owner@acme.test"], form }), PROD);
    expect((await save({ api_requests_per_hour: "500", api_exports_per_hour: "", api_export_burst: "" })).status).toBe(200);
    expect((await save({ api_requests_per_hour: "500", api_exports_per_hour: "", api_export_burst: "" })).status).toBe(200);
    const rows: Row[] = (await view("owner@acme.test", "?action=tenant.limits_changed")).data.events;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor: "Olivia Owner", action: "API limits changed", changes: ["api requests per hour: — → 500"] });
    const stored = await getDb().selectFrom("audit_event").select("details").where("action", "=", "tenant.limits_changed").executeTakeFirstOrThrow();
    expect(stored.details).toEqual({ from: { api_requests_per_hour: null }, to: { api_requests_per_hour: 500 } });
  });
});

describe("filters and pages", () => {
  it("filters by actor, action, subject (type:id or text) and dates, and says when nothing matches", async () => {
    const admin = "production-admin@acme.test";
    const editorId = await userId("production-editor@acme.test");
    const base = (await view(admin)).data;
    expect(base.choices.actors).toContainEqual({ value: `user:${editorId}`, label: "Production Editor" });
    expect(base.choices.actors).toContainEqual({ value: "label:system", label: "system" });

    const byEditor: Row[] = (await view(admin, `?actor=user%3A${editorId}`)).data.events;
    expect(byEditor.length).toBeGreaterThan(0);
    expect(byEditor.every((r) => r.actor === "Production Editor")).toBe(true);
    const bySystem: Row[] = (await view(admin, "?actor=label%3Asystem")).data.events;
    expect(new Set(actions(bySystem))).toEqual(new Set(["export.started", "export.done"]));

    const bySubjectText: Row[] = (await view(admin, `?subject=${prodExportId.slice(4, 12)}`)).data.events;
    expect(bySubjectText.length).toBe(3);
    expect((await view(admin, "?subject=export%3Anot-an-export")).data.events).toEqual([]);

    const today = new Date().toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    expect((await view(admin, `?from=${today}&to=${today}`)).data.total).toBe(base.total);
    const none = await view(admin, `?from=${tomorrow}`);
    expect(none.data).toMatchObject({ events: [], total: 0, filtered: true });

    const bad = await view(admin, "?from=31.12.2026&actor=someone");
    expect(bad.status).toBe(400);
    expect(bad.data.fieldErrors).toEqual({ from: "Enter a date as YYYY-MM-DD.", actor: "Choose an actor from the list." });
    expect(bad.data.values.from).toBe("31.12.2026");
    expect(bad.data.total).toBe(base.total);
  });

  it("pages newest first, 50 at a time, and sends a page past the end to the last", async () => {
    const db = getDb();
    const bot = { userId: null, label: "system" };
    for (let i = 0; i < 60; i++) await recordEvent(db, { organization_id: acmeId, tenant_id: stagingId }, "test.bulk", { type: "thing", id: `t-${i}` }, bot);
    const first = await view("staging-admin@acme.test", "?action=test.bulk", { org: ORG, tenant: "staging" });
    expect(first.data).toMatchObject({ total: 60, pages: 2, page: 1 });
    expect(subjects(first.data.events).slice(0, 2)).toEqual(["thing t-59", "thing t-58"]);
    const second = await view("staging-admin@acme.test", "?action=test.bulk&page=2", { org: ORG, tenant: "staging" });
    expect(subjects(second.data.events)).toEqual(Array.from({ length: 10 }, (_, i) => `thing t-${9 - i}`));
    const past = await view("staging-admin@acme.test", "?action=test.bulk&page=9", { org: ORG, tenant: "staging" });
    expect(past.status).toBe(302);
    expect(past.headers.get("Location")).toBe(page("?action=test.bulk&page=2", "staging"));
  });
});
