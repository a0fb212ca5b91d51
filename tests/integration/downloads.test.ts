import { readdirSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import * as signedDownload from "../../app/routes/downloads.$id";
import * as portalDownload from "../../app/routes/o.$org.t.$tenant.exports.$id.download";
import * as detail from "../../app/routes/o.$org.t.$tenant.exports.$id";
import { listExportEvents } from "../../app/audit/audit.server";
import { createExport } from "../../app/exports/exports.server";
import { applyRetention } from "../../app/exports/engine/retention.server";
import { signedDownloadPath } from "../../app/exports/signed-links.server";
import { exportRow, runQueuedJobs } from "../setup/exports";
import { makeRequest, requesterFor, signIn } from "../setup/routes";

const STAGING = { org: "acme-health", tenant: "staging" };
let exportId: string;
let tenantId: string;
let editor: string;

async function body(response: Response) {
  return Buffer.from(await response.arrayBuffer());
}
function fetchSigned(url: string, headers: Record<string, string> = {}) {
  const u = new URL(url, "http://localhost:3000");
  const request = new Request(u, { headers });
  return signedDownload.loader({ request, params: { id: u.pathname.split("/").pop()! }, context: {} });
}
function fetchPortal(id: string, cookie: string, headers: Record<string, string> = {}) {
  const request = makeRequest(`/o/acme-health/t/staging/exports/${id}/download`, { cookie });
  for (const [k, v] of Object.entries(headers)) request.headers.set(k, v);
  return portalDownload.loader({ request, params: { ...STAGING, id }, context: {} });
}

beforeAll(async () => {
  const requester = await requesterFor("staging-editor@acme.test", "staging");
  tenantId = requester.tenantId;
  editor = await signIn("staging-editor@acme.test");
  exportId = (await createExport(getDb(), requester, { format: "both" })).id;
  await runQueuedJobs();
});

describe("downloads", () => {
  it("a done export's link expires 24 hours after it finished, and its page offers the signed link", async () => {
    const row = await exportRow(exportId);
    expect(row.expires_at!.getTime() - row.finished_at!.getTime()).toBeGreaterThan(24 * 3_600_000 - 5_000);
    expect(row.expires_at!.getTime() - row.finished_at!.getTime()).toBeLessThanOrEqual(24 * 3_600_000 + 5_000);
    const page = (await detail.loader({ request: makeRequest(`/o/acme-health/t/staging/exports/${exportId}`, { cookie: editor }), params: { ...STAGING, id: exportId }, context: {} })) as { signedLink: string };
    expect(page.signedLink).toMatch(new RegExp(`^http://localhost:3000/downloads/${exportId}\\?tenant=`));
  });

  it("a signed link downloads without a session, whole or by range, and the two agree", async () => {
    const row = await exportRow(exportId);
    const url = signedDownloadPath(exportId, tenantId, row.expires_at!);
    const whole = await fetchSigned(url);
    expect(whole.status).toBe(200);
    expect(whole.headers.get("Content-Disposition")).toBe(`attachment; filename="export-${exportId}.zip"`);
    expect(whole.headers.get("Accept-Ranges")).toBe("bytes");
    const all = await body(whole);
    expect(all.length).toBe(Number(row.archive_bytes));

    const part = await fetchSigned(url, { Range: "bytes=100-1099" });
    expect(part.status).toBe(206);
    expect(part.headers.get("Content-Range")).toBe(`bytes 100-1099/${all.length}`);
    expect((await body(part)).equals(all.subarray(100, 1100))).toBe(true);
    const tail = await fetchSigned(url, { Range: "bytes=1100-" });
    expect(Buffer.concat([all.subarray(0, 1100), await body(tail)]).equals(all)).toBe(true);
    expect((await fetchSigned(url, { Range: `bytes=${all.length}-` })).status).toBe(416);

    const portal = await fetchPortal(exportId, editor, { Range: "bytes=0-9" });
    expect(portal.status).toBe(206);
    expect((await body(portal)).equals(all.subarray(0, 10))).toBe(true);
  });

  it("a tampered link is refused with 403, an expired one with 410 telling the user to export again", async () => {
    const row = await exportRow(exportId);
    const url = new URL(signedDownloadPath(exportId, tenantId, row.expires_at!), "http://localhost:3000");
    url.searchParams.set("expires", String(Number(url.searchParams.get("expires")) + 3600));
    const tampered = await fetchSigned(url.pathname + url.search);
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toMatch(/not valid/);

    const otherTenant = (await getDb().selectFrom("tenant").select("id").where("slug", "=", "production").executeTakeFirstOrThrow()).id;
    const wrongTenant = await fetchSigned(signedDownloadPath(exportId, otherTenant, row.expires_at!));
    expect(wrongTenant.status).toBe(404);

    const expired = await fetchSigned(signedDownloadPath(exportId, tenantId, new Date(Date.now() - 1000)));
    expect(expired.status).toBe(410);
    expect(await expired.text()).toMatch(/expired on .*Export the data again/);
  });

  it("downloads are audited: each whole download and each resumable one once", async () => {
    const actions = (await listExportEvents(getDb(), tenantId, exportId)).filter((e) => e.action === "export.downloaded");
    // Whole signed download, the 0- range by the portal: 2. The 100- and 1100- pieces are not new downloads.
    expect(actions.map((e) => e.actor_label)).toEqual(["signed link", "Staging Editor"]);
  });
});

describe("retention", () => {
  it("expires exports whose links ran out, deleting the archive, and trims history after 30 days; the audit trail stays", async () => {
    const requester = await requesterFor("staging-editor@acme.test", "staging");
    const old = (await createExport(getDb(), requester, { dataTypes: ["lab_results"] })).id;
    await runQueuedJobs();
    const archiveDir = path.join(process.env.EXPORTAL_DATA_DIR!, "archives", "exports", tenantId);
    expect(readdirSync(archiveDir)).toHaveLength(2);

    // Not yet due: nothing changes.
    expect(await applyRetention(getDb())).toEqual({ expired: 0, removed: 0 });

    const in25h = new Date(Date.now() + 25 * 3_600_000);
    expect(await applyRetention(getDb(), in25h)).toEqual({ expired: 2, removed: 0 });
    expect((await exportRow(exportId)).status).toBe("expired");
    expect(readdirSync(archiveDir)).toEqual([]);
    const gone = await fetchPortal(exportId, editor);
    expect(gone.status).toBe(410);
    expect(await gone.text()).toMatch(/expired .* Start a new export/);

    await getDb().updateTable("export").set({ created_at: new Date(Date.now() - 31 * 86_400_000) } as never).where("id", "=", old).execute();
    expect(await applyRetention(getDb())).toEqual({ expired: 0, removed: 1 });
    expect(await getDb().selectFrom("export").select("id").where("id", "=", old).executeTakeFirst()).toBeUndefined();
    expect((await listExportEvents(getDb(), tenantId, old)).map((e) => e.action)).toEqual([
      "export.requested", "export.started", "export.done", "export.expired",
    ]);
  });
});
