import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// Archive storage that cannot be written: its directory sits under a plain file.
const blockedDir = mkdtempSync(path.join(os.tmpdir(), "exportal-blocked-"));
const blocker = path.join(blockedDir, "not-a-directory");
writeFileSync(blocker, "");
afterAll(() => rmSync(blockedDir, { recursive: true, force: true }));
process.env.EXPORTAL_ARCHIVE_DIR = path.join(blocker, "archives");

const { getDb } = await import("../../db/client");
const { listExportEvents } = await import("../../app/audit/audit.server");
const { createExport } = await import("../../app/exports/exports.server");
const { exportRow, runQueuedJobs } = await import("../setup/exports");
const { requesterFor } = await import("../setup/routes");

describe("a failing export", () => {
  it("ends Failed with a message a person can act on, no stack trace and no archive", async () => {
    const requester = await requesterFor("staging-editor@acme.test", "staging");
    const exp = await createExport(getDb(), requester, {});
    await runQueuedJobs();
    const row = await exportRow(exp.id);
    expect(row.status).toBe("failed");
    expect(row.error).toBe(
      "The archive could not be written to storage (no permission or no space left). Ask an administrator to check the archive storage, then try again.",
    );
    expect(row.archive_key).toBeNull();
    expect(row.finished_at).not.toBeNull();
    const events = await listExportEvents(getDb(), requester.tenantId, exp.id);
    expect(events.map((e) => e.action)).toEqual(["export.requested", "export.started", "export.failed"]);
    // The project is free again for the next attempt.
    await expect(createExport(getDb(), requester, {})).resolves.toMatchObject({ status: "pending" });
  });
});
