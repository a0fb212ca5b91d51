import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import * as apiExports from "../../app/routes/api.v1.exports";
import * as exportsPage from "../../app/routes/o.$org.t.$tenant.exports._index";
import * as detail from "../../app/routes/o.$org.t.$tenant.exports.$id";
import * as portalDownload from "../../app/routes/o.$org.t.$tenant.exports.$id.download";
import { recordEvent, recordSignInEvent } from "../../app/audit/audit.server";
import { listAuditEvents } from "../../app/audit/audit-log.server";
import type { AuditView } from "../../app/audit/audit-filters";
import type { Requester } from "../../app/auth/requester";
import { createExport } from "../../app/exports/exports.server";
import type { ExportManifest } from "../../db/schema";
import { ALL_KEY_PERMISSIONS, createKey, tenantBySlug } from "../setup/api";
import { parseCsv } from "../setup/csv";
import { exportRow, openArchive, runQueuedJobs } from "../setup/exports";
import { callRoute, makeRequest, requesterFor, signIn } from "../setup/routes";

// The audit trail as an export: the same events the audit log shows, through
// the real worker, and only for those who may read them.
const PROD = { org: "acme-health", tenant: "production" };
const exportsPath = "/o/acme-health/t/production/exports";
const COLUMNS = [
  "id", "occurred_at", "organization_id", "tenant_id", "actor_user_id", "actor_api_key_id", "actor_label",
  "client_ip", "user_agent", "action", "subject_type", "subject_id", "details",
];

function exportsApi(key: string, json: unknown) {
  const request = new Request("http://localhost:3000/api/v1/exports", {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: JSON.stringify(json),
  });
  return callRoute(apiExports.loader, request);
}

/** Every event the audit log shows the requester in that view, all pages. */
async function allEvents(requester: Requester, view: AuditView) {
  const ids: string[] = [];
  for (let page = 1; ; page++) {
    const { events, total } = await listAuditEvents(getDb(), requester, view, {}, page);
    ids.push(...events.map((e) => String(e.id)));
    if (ids.length >= total) return ids;
  }
}

/** Runs the export and checks that its archive holds exactly the events the audit log shows at its snapshot. */
async function expectArchiveMatchesLog(exportId: string, requester: Requester, view: AuditView) {
  await runQueuedJobs();
  const files = await openArchive(exportId);
  const manifest = JSON.parse(files.get("manifest.json")!.toString("utf8")) as ExportManifest;
  const lines = files.get("audit_events.ndjson")!.toString("utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const csv = parseCsv(files.get("audit_events.csv")!.toString("utf8"));
  expect(csv[0]).toEqual(COLUMNS);
  expect(Object.keys(lines[0])).toEqual(COLUMNS);
  const rows = Object.fromEntries(manifest.files.map((f) => [f.name, f.rows]));
  expect(rows).toEqual({ "audit_events.ndjson": lines.length, "audit_events.csv": lines.length });

  // The log now also shows what happened after the snapshot: this export's own "done".
  const exported = lines.map((l) => String(l.id));
  const last = Math.max(...exported.map(Number));
  const shown = await allEvents(requester, view);
  expect(new Set(exported)).toEqual(new Set(shown.filter((id) => Number(id) <= last)));
  const later = await getDb().selectFrom("audit_event").select(["action", "subject_id"]).where("id", "in", shown.filter((id) => Number(id) > last)).execute();
  expect(later).toEqual([{ action: "export.done", subject_id: exportId }]);
  return { lines, csv };
}

let acmeId: string;

beforeAll(async () => {
  const db = getDb();
  const prod = await tenantBySlug("production");
  acmeId = prod.organization_id;
  const main = await tenantBySlug("main");
  // Events in each place the scopes must tell apart.
  await createExport(db, await requesterFor("production-editor@acme.test", "production"), { dataTypes: ["lab_results"] });
  await createExport(db, await requesterFor("staging-editor@acme.test", "staging"), { dataTypes: ["lab_results"] });
  await createExport(db, await requesterFor("owner@globex.test", "main", "globex"), { dataTypes: ["lab_results"] });
  await runQueuedJobs();
  const owner = { userId: null, label: "system" };
  await recordEvent(db, { organization_id: acmeId, tenant_id: null }, "member.invited", { type: "invitation", id: "inv-1" }, owner, { email: "=cmd|' /C calc'!A0" });
  await recordEvent(db, { organization_id: main.organization_id, tenant_id: main.id }, "tenant.renamed", { type: "tenant", id: main.id }, owner, { name: { from: "Main", to: "HQ" } });
  await recordSignInEvent(db, "sign_in_failed", { email: "production-viewer@acme.test", ip: "198.51.100.1" });
  await recordSignInEvent(db, "sign_in_failed", { email: "owner@globex.test", ip: "198.51.100.3" });
});

describe("exporting the audit trail", () => {
  it("a tenant admin exports their tenant's events: every one the log shows them, in NDJSON and CSV", async () => {
    const admin = await requesterFor("production-admin@acme.test", "production");
    const exp = await createExport(getDb(), admin, { dataTypes: ["audit_events"], format: "both" });
    const { lines } = await expectArchiveMatchesLog(exp.id, admin, "tenant");
    expect(lines.every((l) => l.tenant_id === admin.tenantId)).toBe(true);
    expect(lines.find((l) => l.subject_id === exp.id && l.action === "export.requested")).toMatchObject({ actor_label: "Production Admin", details: { dataTypes: ["audit_events"] } });
    // ISO 8601 in UTC, as every NDJSON time.
    expect(lines[0].occurred_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|\+00:00)$/);
  });

  it("an owner exports the organization's events, its members' sign-ins included, Globex's left out; formulas are neutralized in CSV", async () => {
    const owner = await requesterFor("owner@acme.test", "production");
    const exp = await createExport(getDb(), owner, { scope: { type: "organization" }, dataTypes: ["audit_events"], format: "both" });
    const { lines, csv } = await expectArchiveMatchesLog(exp.id, owner, "organization");
    expect(lines.some((l) => l.action === "auth.sign_in_failed" && l.subject_id === "production-viewer@acme.test")).toBe(true);
    expect(lines.some((l) => l.subject_id === "owner@globex.test")).toBe(false);
    expect(lines.every((l) => l.organization_id === acmeId || (l.organization_id === null && l.action.startsWith("auth.")))).toBe(true);
    const invited = csv.find((row) => row[COLUMNS.indexOf("subject_id")] === "inv-1")!;
    expect(JSON.parse(invited[COLUMNS.indexOf("details")].replace(/^'/, ""))).toEqual({ email: "=cmd|' /C calc'!A0" });
    expect(invited[COLUMNS.indexOf("details")].startsWith("=")).toBe(false);
  });

  it("date ranges apply to when each event occurred", async () => {
    const admin = await requesterFor("production-admin@acme.test", "production");
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const exp = await createExport(getDb(), admin, { dataTypes: ["audit_events"], dateRange: { from: tomorrow } });
    await runQueuedJobs();
    const files = await openArchive(exp.id);
    expect(files.get("audit_events.ndjson")!.length).toBe(0);
    expect((await exportRow(exp.id)).filters).toMatchObject({ from: expect.stringContaining(tomorrow) });
  });

  it("is refused without audit.read: an editor in the portal (403), a key without it (403 naming it), and it is not offered for projects", async () => {
    const editor = await signIn("production-editor@acme.test");
    const form = { intent: "create", dataTypes: "audit_events", dataTypesShown: "1", format: "ndjson" };
    const refused = await callRoute(exportsPage.action, makeRequest(exportsPath, { cookie: editor, form }), PROD);
    expect(refused.status).toBe(403);
    expect(refused.data.fieldErrors.dataTypes).toMatch(/audit\.read/);

    const without = await createKey("production", ALL_KEY_PERMISSIONS.filter((p) => p !== "audit.read"), { name: "no audit" });
    const denied = await exportsApi(without, { dataTypes: ["audit_events"] });
    expect(denied.status).toBe(403);
    expect(denied.data.error.details.permission).toBe("audit.read");
    const withIt = await createKey("production", ["data.exports.create", "data.exports.read", "audit.read"], { name: "audit" });
    expect((await exportsApi(withIt, { dataTypes: ["audit_events"] })).status).toBe(202);
    await runQueuedJobs();

    const project = await getDb().selectFrom("project").select("id").where("tenant_id", "=", (await tenantBySlug("production")).id).executeTakeFirstOrThrow();
    const admin = await signIn("production-admin@acme.test");
    const byProject = await callRoute(exportsPage.action, makeRequest(exportsPath, { cookie: admin, form: { ...form, scope: "project", projectId: project.id } }), PROD);
    expect(byProject.status).toBe(400);
    expect(byProject.data.fieldErrors.dataTypes).toMatch(/Audit events cannot be exported for a project/);
  });

  it("an admin's export of the trail is not downloaded by an editor, by button or signed link", async () => {
    const exp = await createExport(getDb(), await requesterFor("production-admin@acme.test", "production"), { dataTypes: ["audit_events"] });
    await runQueuedJobs();
    const editor = await signIn("production-editor@acme.test");
    const page = await callRoute(detail.loader, makeRequest(`${exportsPath}/${exp.id}`, { cookie: editor }), { ...PROD, id: exp.id });
    expect(page.data).toMatchObject({ canDownload: false, signedLink: null });
    const listed = async (cookie: string) =>
      (await callRoute(exportsPage.loader, makeRequest(exportsPath, { cookie }), PROD)).data.exports.find((e: { id: string }) => e.id === exp.id);
    expect(await listed(editor)).toMatchObject({ linkLive: true, downloadable: false });
    expect(await listed(await signIn("production-admin@acme.test"))).toMatchObject({ linkLive: true, downloadable: true });
    const download = await callRoute(portalDownload.loader, makeRequest(`${exportsPath}/${exp.id}/download`, { cookie: editor }), { ...PROD, id: exp.id });
    expect(download.status).toBe(403);
    const admin = await signIn("production-admin@acme.test");
    const allowed = await callRoute(portalDownload.loader, makeRequest(`${exportsPath}/${exp.id}/download`, { cookie: admin }), { ...PROD, id: exp.id });
    expect(allowed.status).toBe(200);
  });

  it("leaves the trail append-only: exporting reads it, and it still refuses changes", async () => {
    await expect(getDb().updateTable("audit_event").set({ action: "x" }).execute()).rejects.toThrow(/append-only/);
    await expect(getDb().deleteFrom("audit_event").execute()).rejects.toThrow(/append-only/);
  });
});
