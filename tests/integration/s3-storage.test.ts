import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import { addHsiRecords, bulkInsert } from "../../db/seed";
import * as apiDownload from "../../app/routes/api.v1.exports.$id.download";
import * as signedDownload from "../../app/routes/downloads.$id";
import * as portalDownload from "../../app/routes/o.$org.t.$tenant.exports.$id.download";
import { listExportEvents } from "../../app/audit/audit.server";
import { applyRetention } from "../../app/exports/engine/retention.server";
import { runExport } from "../../app/exports/engine/run.server";
import { getStorage } from "../../app/exports/engine/storage.server";
import { cancelExport, createExport } from "../../app/exports/exports.server";
import { signedDownloadPath } from "../../app/exports/signed-links.server";
import { createKey } from "../setup/api";
import { exportRow, openArchive, runQueuedJobs } from "../setup/exports";
import { makeRequest, requesterFor, signIn } from "../setup/routes";
import { startS3 } from "../setup/s3";

const STAGING = { org: "acme-health", tenant: "staging" };
let s3: Awaited<ReturnType<typeof startS3>>;
let requester: Awaited<ReturnType<typeof requesterFor>>;
let exportId: string;
let archive: Buffer;

async function bytesOf(id: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await getStorage().read((await exportRow(id)).archive_key!)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The presigned URL a 302 points to: S3's own, valid 5 minutes at most. */
function presigned(response: Response): string {
  expect(response.status).toBe(302);
  const location = response.headers.get("Location")!;
  const url = new URL(location);
  expect(url.origin).toBe(`http://127.0.0.1:${s3.port}`);
  expect(Number(url.searchParams.get("X-Amz-Expires"))).toBeLessThanOrEqual(300);
  return location;
}

async function downloadedEvents(id: string) {
  return (await listExportEvents(getDb(), requester.tenantId, id)).filter((e) => e.action === "export.downloaded");
}

beforeAll(async () => {
  s3 = await startS3();
  requester = await requesterFor("staging-editor@acme.test", "staging");
  exportId = (await createExport(getDb(), requester, { format: "both" })).id;
  await runQueuedJobs();
  archive = await bytesOf(exportId);
});

afterAll(async () => {
  await s3?.remove();
});

describe("archives in S3-compatible storage", () => {
  it("an export lands as one object under its run's key, holding the manifest and files it lists", async () => {
    const row = await exportRow(exportId);
    expect(row.status).toBe("done");
    expect(row.archive_key).toMatch(new RegExp(`^exports/${requester.tenantId}/${exportId}\\.[0-9a-f]{8}\\.zip$`));
    expect(s3.objectKeys()).toEqual([row.archive_key]);
    expect(s3.pendingUploads()).toEqual([]);
    expect(archive.length).toBe(Number(row.archive_bytes));
    const files = await openArchive(exportId);
    const manifest = JSON.parse(files.get("manifest.json")!.toString());
    expect(manifest).toEqual(row.manifest);
    expect([...files.keys()].sort()).toEqual([...manifest.files.map((f: { name: string }) => f.name), "manifest.json", "manifest.sig"].sort());
    for (const file of manifest.files) expect(files.get(file.name)!.length).toBe(file.bytes);
  });

  it("a portal download is audited, then answers 302 to a presigned URL serving the archive byte for byte, and a Range its slice", async () => {
    const cookie = await signIn("staging-editor@acme.test");
    const before = (await downloadedEvents(exportId)).length;
    const request = makeRequest(`/o/acme-health/t/staging/exports/${exportId}/download`, { cookie });
    const url = presigned(await portalDownload.loader({ request, params: { ...STAGING, id: exportId }, context: {} }));
    expect(await downloadedEvents(exportId)).toHaveLength(before + 1);

    const whole = await fetch(url);
    expect(whole.status).toBe(200);
    expect(whole.headers.get("Content-Disposition")).toBe(`attachment; filename="export-${exportId}.zip"`);
    expect(Buffer.from(await whole.arrayBuffer()).equals(archive)).toBe(true);

    const part = await fetch(url, { headers: { Range: "bytes=100-1099" } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(archive.subarray(100, 1100))).toBe(true);
  });

  it("the signed link and the API download lead to a presigned URL the same way, each audited", async () => {
    const row = await exportRow(exportId);
    const before = (await downloadedEvents(exportId)).length;
    const signedPath = signedDownloadPath(exportId, requester.tenantId, row.expires_at!);
    const request = new Request(new URL(signedPath, "http://localhost:3000"));
    const url = presigned(await signedDownload.loader({ request, params: { id: exportId }, context: {} }));
    expect(Buffer.from(await (await fetch(url)).arrayBuffer()).equals(archive)).toBe(true);
    expect(await downloadedEvents(exportId)).toHaveLength(before + 1);

    // The API answers with the signed link, which then redirects to storage as above.
    const key = await createKey("staging");
    const api = (await apiDownload.loader({
      request: new Request(`http://localhost:3000/api/v1/exports/${exportId}/download`, { headers: { Authorization: `Bearer ${key}` } }),
      params: { id: exportId },
      context: {},
    })) as Response;
    expect(api.status).toBe(302);
    const link = new URL(api.headers.get("Location")!);
    const viaApi = presigned(await signedDownload.loader({ request: new Request(link), params: { id: exportId }, context: {} }));
    const slice = await fetch(viaApi, { headers: { Range: "bytes=0-9" } });
    expect(slice.status).toBe(206);
    expect(Buffer.from(await slice.arrayBuffer()).equals(archive.subarray(0, 10))).toBe(true);
  });

  it("retention deletes the object of an expired export", async () => {
    const other = (await createExport(getDb(), await requesterFor("production-editor@acme.test", "production"), { format: "csv" })).id;
    await runQueuedJobs();
    const { archive_key } = await exportRow(other);
    expect(s3.objectKeys()).toContain(archive_key);
    await getDb().updateTable("export").set({ expires_at: new Date(Date.now() - 1000) }).where("id", "=", other).execute();
    expect((await applyRetention(getDb())).expired).toBe(1);
    expect(s3.objectKeys()).not.toContain(archive_key);
    expect(await getStorage().size(archive_key!)).toBeNull();
    expect((await exportRow(other)).status).toBe("expired");
  });

  describe("with enough rows for a multipart upload", () => {
    beforeAll(async () => {
      await bulkInsert(getDb(), (trx) => addHsiRecords(trx, requester.tenantId, 250_000));
    }, 60_000);

    /** Starts the export's run and waits until its multipart upload has begun. */
    async function midUpload(format: "both" | "ndjson" = "both") {
      await getDb().deleteFrom("export").where("id", "=", exportId).execute(); // one export per project at a time
      const exp = await createExport(getDb(), requester, { format });
      const run = runExport(exp.id, { mayRetry: false });
      await expect.poll(() => s3.pendingUploads().length, { timeout: 60_000, interval: 100 }).toBeGreaterThan(0);
      return { id: exp.id, run };
    }

    it("cancel aborts the upload: no object, no pending multipart upload", { timeout: 120_000 }, async () => {
      const objects = s3.objectKeys();
      const { id, run } = await midUpload();
      await cancelExport(getDb(), requester, id);
      await run;
      expect((await exportRow(id)).status).toBe("cancelled");
      expect((await listExportEvents(getDb(), requester.tenantId, id)).map((e) => e.action)).not.toContain("export.failed");
      expect((await exportRow(id)).archive_key).toBeNull();
      expect(s3.pendingUploads()).toEqual([]);
      expect(s3.objectKeys()).toEqual(objects);
    });

    // Last: the server stays stopped.
    it("the server stopped mid-upload leaves no object, and the export fails saying the archive storage could not take it", { timeout: 180_000 }, async () => {
      const objects = s3.objectKeys();
      const { id, run } = await midUpload();
      await s3.stop();
      await run;
      const row = await exportRow(id);
      expect(row.status).toBe("failed");
      expect(row.archive_key).toBeNull();
      expect(row.error).toMatch(/could not be uploaded to the archive storage/);
      expect(s3.objectKeys()).toEqual(objects);
    });
  });
});
