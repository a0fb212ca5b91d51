import { afterEach, describe, expect, it } from "vitest";
import { databaseUrl, getDb } from "../../db/client";
import { createExport } from "../../app/exports/exports.server";
import { getExport, listExports } from "../../app/exports/export-queries.server";
import { organizationQueues, tenantJobs } from "../../app/exports/jobs.server";
import * as exportsPage from "../../app/routes/o.$org.t.$tenant.exports._index";
import { createSchedule } from "../../app/schedules/schedules.server";
import { startWorker, type WorkerHandle } from "../../worker/index";
import { exportRow, holdTable } from "../setup/exports";
import { callRoute, makeRequest, requesterFor, ROLES, signIn } from "../setup/routes";

type Requester = Awaited<ReturnType<typeof requesterFor>>;

let worker: WorkerHandle | undefined;
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
});

/** A project of the requester's tenant, new, so each export has its own (one active export per project). */
async function newProject(requester: Requester, name: string) {
  const row = await getDb().insertInto("project").values({ tenant_id: requester.tenantId, name }).returning("id").executeTakeFirstOrThrow();
  return row.id;
}

async function queueProjectExports(requester: Requester, n: number, label: string) {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const projectId = await newProject(requester, `${label} ${i + 1}`);
    ids.push((await createExport(getDb(), requester, { scope: { type: "project", projectId }, dataTypes: ["hsi_records"], format: "csv" })).id);
  }
  return ids;
}

const positions = async (requester: Requester, ids: string[]) => Promise.all(ids.map(async (id) => (await getExport(getDb(), requester, id))!.queuePosition));
const settled = (id: string) => exportRow(id).then((r) => r.status !== "pending" && r.status !== "running");

describe("per-tenant fair share", () => {
  it("runs another tenant's single export before the third of a tenant's ten, with two worker slots", { timeout: 90_000 }, async () => {
    const a = await requesterFor(ROLES.editor, "production");
    const b = await requesterFor("staging-editor@acme.test", "staging");
    const burst = await queueProjectExports(a, 10, "Burst");
    const [single] = await queueProjectExports(b, 1, "Single");

    worker = await startWorker(databaseUrl(), 2);
    await expect.poll(async () => (await Promise.all([...burst, single].map(settled))).every(Boolean), { timeout: 60_000, interval: 200 }).toBe(true);

    const third = await exportRow(burst[2]);
    const other = await exportRow(single);
    expect(other.status).toBe("done");
    expect(third.status).toBe("done");
    // First come, first served would start it only after nine of the burst had finished.
    expect(other.started_at!.getTime()).toBeLessThan(third.finished_at!.getTime());
    expect(other.started_at!.getTime()).toBeLessThanOrEqual(third.started_at!.getTime());
  });
});

describe("queue positions", () => {
  it("number the tenant's waiting exports in the order they will run, and move up as exports start and finish", { timeout: 60_000 }, async () => {
    const a = await requesterFor(ROLES.editor, "production");
    const b = await requesterFor("staging-editor@acme.test", "staging");
    const ids = await queueProjectExports(a, 3, "Line");
    expect(await positions(a, ids)).toEqual([1, 2, 3]);

    // Another tenant's queue neither shows in these numbers nor learns from them.
    const [theirs] = await queueProjectExports(b, 1, "Other line");
    expect(await positions(b, [theirs])).toEqual([1]);
    expect(await positions(a, ids)).toEqual([1, 2, 3]);
    const [fourth] = await queueProjectExports(a, 1, "Line late");
    expect(await positions(a, [...ids, fourth])).toEqual([1, 2, 3, 4]);

    // The list page and the API read the same numbers.
    const { exports } = await listExports(getDb(), a);
    expect(exports.find((e) => e.id === ids[2])!.queuePosition).toBe(3);

    // One worker slot, held by the first export while hsi_record is locked: the rest move up one.
    const release = await holdTable("hsi_record");
    try {
      worker = await startWorker(databaseUrl(), 1);
      await expect.poll(async () => (await exportRow(ids[0])).status, { timeout: 20_000, interval: 100 }).toBe("running");
      expect(await positions(a, [...ids, fourth])).toEqual([null, 1, 2, 3]);
      const jobs = await tenantJobs(getDb(), a);
      expect(jobs.map((j) => [j.id, j.status, j.queuePosition])).toEqual([
        [ids[0], "running", null],
        [ids[1], "pending", 1],
        [ids[2], "pending", 2],
        [fourth, "pending", 3],
      ]);
    } finally {
      await release();
    }
    await expect.poll(async () => (await Promise.all([...ids, fourth, theirs].map(settled))).every(Boolean), { timeout: 30_000, interval: 200 }).toBe(true);
    expect(await positions(a, [...ids, fourth])).toEqual([null, null, null, null]);
    expect((await tenantJobs(getDb(), a)).length).toBe(0);
  });
});

describe("the organization's queues", () => {
  it("count each tenant's running and waiting exports for owners and admins of that organization only", { timeout: 30_000 }, async () => {
    const editor = await requesterFor(ROLES.editor, "production");
    await queueProjectExports(editor, 2, "Counted");

    const admin = await requesterFor(ROLES.orgAdmin, "production");
    const ours = await organizationQueues(getDb(), admin);
    const production = ours!.find((t) => t.slug === "production")!;
    expect(production).toMatchObject({ running: 0, queued: 2 });
    expect(ours!.find((t) => t.slug === "staging")).toMatchObject({ running: 0, queued: 0 });

    // An editor sees their tenant's jobs, not the organization's.
    expect(await organizationQueues(getDb(), editor)).toBeUndefined();

    // Another organization's owner sees only their own tenants, none of Acme's.
    const globex = await getDb().selectFrom("tenant").innerJoin("organization as o", "o.id", "tenant.organization_id").select("tenant.slug").where("o.slug", "=", "globex").executeTakeFirstOrThrow();
    const other = await requesterFor(ROLES.otherOrgOwner, globex.slug, "globex");
    const theirs = await organizationQueues(getDb(), other);
    const acmeTenants = await getDb().selectFrom("tenant").select("id").where("organization_id", "=", admin.organizationId).execute();
    expect(theirs!.length).toBeGreaterThan(0);
    expect(theirs!.some((t) => acmeTenants.some((a) => a.id === t.id))).toBe(false);
    expect(theirs!.every((t) => t.queued === 0 && t.running === 0)).toBe(true);

    // The Settings page's Jobs panel: the tenant's line for its editor, every tenant's counts for the admin.
    const settings = await import("../../app/routes/o.$org.t.$tenant.settings");
    const params = { org: "acme-health", tenant: "production" };
    const url = "/o/acme-health/t/production/settings";
    const asEditor = await callRoute(settings.loader, makeRequest(url, { cookie: await signIn(ROLES.editor) }), params);
    expect(asEditor.data.jobs.map((j: { queuePosition: number }) => j.queuePosition)).toEqual([1, 2]);
    expect(asEditor.data.orgQueues).toBeUndefined();
    const asAdmin = await callRoute(settings.loader, makeRequest(url, { cookie: await signIn(ROLES.orgAdmin) }), params);
    expect(asAdmin.data.orgQueues.find((t: { slug: string }) => t.slug === "production")).toMatchObject({ queued: 2 });
    // Another organization's owner does not learn this tenant's page, jobs or counts exist.
    const asOutsider = await callRoute(settings.loader, makeRequest(url, { cookie: await signIn(ROLES.otherOrgOwner) }), params);
    expect(asOutsider.status).toBe(404);
  });
});

describe("the exports page's rows", () => {
  it("carry the schedule of a scheduled export and the place in line of a waiting one, as one export read alone does, and none of the row's internals", { timeout: 30_000 }, async () => {
    const editor = await requesterFor(ROLES.editor, "production");
    const [waiting] = await queueProjectExports(editor, 1, "Page line");
    const schedule = await createSchedule(getDb(), editor, { name: "Nightly labs", request: { dataTypes: ["lab_results"] }, cadence: { kind: "daily", time: "02:00" }, timeZone: "UTC" });
    const run = await getDb()
      .insertInto("export_schedule_run")
      .values({ schedule_id: schedule.id, tenant_id: editor.tenantId, kind: "scheduled", status: "done", slot_at: new Date("2026-11-23T02:00:00Z") })
      .returning("id")
      .executeTakeFirstOrThrow();
    const scheduled = await getDb()
      .insertInto("export")
      .values({
        tenant_id: editor.tenantId, organization_id: editor.organizationId, requested_by_user_id: editor.actor.userId,
        scope: { type: "tenant" }, data_types: ["lab_results"], formats: ["csv"], status: "done", schedule_run_id: run.id,
      })
      .returning("id")
      .executeTakeFirstOrThrow();

    const page = await callRoute(exportsPage.loader, makeRequest("/o/acme-health/t/production/exports", { cookie: await signIn(ROLES.editor) }), { org: "acme-health", tenant: "production" });
    expect(page.status).toBe(200);
    const rows: Record<string, unknown>[] = page.data.exports;
    const row = (id: string) => rows.find((e) => e.id === id)!;
    expect(row(scheduled.id).schedule).toEqual({ id: schedule.id, name: "Nightly labs", ownerName: "Production Editor" });
    expect(row(scheduled.id).queuePosition).toBeNull();
    expect(row(waiting).schedule).toBeNull();
    expect(row(waiting).queuePosition).toBeGreaterThanOrEqual(1);
    // The same as the full query of one export gives, for every row of the page.
    for (const e of rows) {
      const alone = (await getExport(getDb(), editor, e.id as string))!;
      expect([e.id, e.schedule, e.queuePosition]).toEqual([alone.id, alone.schedule, alone.queuePosition]);
    }
    // Only what the list shows goes to the browser.
    for (const e of rows) {
      expect(Object.keys(e).sort()).toEqual(
        ["archive_bytes", "created_at", "downloadable", "error", "expires_at", "formats", "id", "linkLive", "queuePosition", "requestedBy", "rows_done", "rows_expected", "schedule", "scope", "secondsLeft", "status"],
      );
      expect(e).not.toHaveProperty("manifest");
      expect(e).not.toHaveProperty("snapshot");
      expect(e).not.toHaveProperty("archive_key");
    }
  });
});
