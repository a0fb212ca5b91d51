import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { databaseUrl, getDb } from "../../db/client";
import { cancelExport, createExport } from "../../app/exports/exports.server";
import { getExport } from "../../app/exports/export-queries.server";
import { nextSlot } from "../../app/schedules/cadence";
import { advanceRun, tick } from "../../app/schedules/runner.server";
import { enqueueRunAdvance } from "../../app/schedules/run-jobs.server";
import { getRun, retryRun, runNow, startBackfill } from "../../app/schedules/runs.server";
import { createSchedule } from "../../app/schedules/schedules.server";
import type { ScheduleInput } from "../../app/schedules/schedule-input";
import { startWorker, type WorkerHandle } from "../../worker/index";
import { exportRow, openArchive, runQueuedJobs } from "../setup/exports";
import { requesterFor, ROLES } from "../setup/routes";

type Requester = Awaited<ReturnType<typeof requesterFor>>;
const db = getDb;
const MINUTE = 60_000;

const workers: WorkerHandle[] = [];
const schedules: string[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
  // Their runs go with them, so no later test's worker picks their jobs up to any effect.
  if (schedules.length) await db().deleteFrom("export_schedule").where("id", "in", schedules.splice(0)).execute();
});

/** A schedule of a new project of its own (one active export per project), every minute in UTC unless told otherwise. */
async function newSchedule(requester: Requester, name: string, extra: Partial<ScheduleInput> = {}) {
  const project = await db().insertInto("project").values({ tenant_id: requester.tenantId, name }).returning("id").executeTakeFirstOrThrow();
  const schedule = await createSchedule(db(), requester, {
    name,
    request: { scope: { type: "project", projectId: project.id }, dataTypes: ["hsi_records"], format: "csv" },
    cadence: { kind: "cron", expression: "* * * * *" },
    timeZone: "UTC",
    ...extra,
  });
  schedules.push(schedule.id);
  return { schedule, projectId: project.id };
}

async function plantRecord(requester: Requester, projectId: string, at: Date) {
  const app = await db().insertInto("app").values({ tenant_id: requester.tenantId, project_id: projectId, name: "Watch", platform: "ios" }).returning("id").executeTakeFirstOrThrow();
  const participant = await db()
    .insertInto("participant")
    .values({ tenant_id: requester.tenantId, project_id: projectId, external_id: "P-1", enrolled_at: new Date("2026-01-01T00:00:00Z") })
    .returning("id")
    .executeTakeFirstOrThrow();
  await db()
    .insertInto("hsi_record")
    .values({ tenant_id: requester.tenantId, project_id: projectId, app_id: app.id, participant_id: participant.id, recorded_at: at, metric: "heart_rate", value: 61, unit: "bpm", payload: {} })
    .execute();
}

const runsOf = (scheduleId: string) => db().selectFrom("export_schedule_run").selectAll().where("schedule_id", "=", scheduleId).orderBy("slot_at").orderBy("created_at").execute();
const scheduleRow = (id: string) => db().selectFrom("export_schedule").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
const hours = (run: { interval_from: Date | null; interval_to: Date | null }) => (run.interval_to!.getTime() - run.interval_from!.getTime()) / 3_600_000;
const auditCount = (scheduleId: string, action: string, runId: string) =>
  db()
    .selectFrom("audit_event")
    .where("subject_id", "=", scheduleId)
    .where("action", "=", action)
    .where(sql<boolean>`details->>'runId' = ${runId}`)
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .executeTakeFirstOrThrow()
    .then((r) => Number(r.n));

describe("the slot driver", () => {
  it("runs a schedule due every minute once per slot with two workers, and the run's export finishes", { timeout: 180_000 }, async () => {
    const editor = await requesterFor(ROLES.editor, "production");
    const { schedule, projectId } = await newSchedule(editor, "Every minute");
    const slot = new Date(Math.floor(Date.now() / MINUTE) * MINUTE);
    await plantRecord(editor, projectId, new Date(slot.getTime() - 30_000));
    await db().updateTable("export_schedule").set({ next_slot_at: slot }).where("id", "=", schedule.id).execute();

    // Ticks racing each other on both workers and here, besides the workers' own crontab.
    await sql`select graphile_worker.add_job('schedule_tick') from generate_series(1, 4)`.execute(db());
    workers.push(await startWorker(databaseUrl(), 2), await startWorker(databaseUrl(), 2));
    await Promise.all([tick(db()), tick(db())]);

    await expect.poll(async () => (await runsOf(schedule.id)).find((r) => r.slot_at.getTime() === slot.getTime())?.status, { timeout: 60_000, interval: 250 }).toBe("done");
    // The next minute's slot comes from the workers' crontab alone.
    await expect.poll(async () => (await runsOf(schedule.id)).filter((r) => r.status === "done").length, { timeout: 90_000, interval: 500 }).toBeGreaterThanOrEqual(2);
    await Promise.all(workers.splice(0).map((w) => w.stop()));

    const runs = (await runsOf(schedule.id)).filter((r) => r.status === "done");
    // Consecutive minutes, each once, each started once and built into one export.
    expect(runs.map((r) => r.slot_at.getTime() - slot.getTime())).toEqual(runs.map((_, i) => i * MINUTE));
    for (const run of runs) {
      expect(run.kind).toBe("scheduled");
      expect(await auditCount(schedule.id, "schedule.run_started", run.id)).toBe(1);
      expect(await auditCount(schedule.id, "schedule.run_done", run.id)).toBe(1);
      const view = await getRun(db(), editor, run.id);
      expect(view.exports).toHaveLength(1);
      expect(view.exports[0]).toMatchObject({ status: "done", forTargets: true });
    }

    // The first slot's interval is the minute before it, which holds the one planted reading.
    const first = await getRun(db(), editor, runs[0].id);
    expect(first.interval_to).toEqual(slot);
    expect(first.interval_from).toEqual(new Date(slot.getTime() - MINUTE));
    const exp = await exportRow(first.exports[0].id);
    expect(exp.filters).toMatchObject({ from: first.interval_from!.toISOString(), to: slot.toISOString() });
    const manifest = JSON.parse((await openArchive(exp.id)).get("manifest.json")!.toString());
    expect(manifest.files.map((f: { rows: number }) => f.rows)).toEqual([1]);
    // The exports list says which schedule made it, and whose.
    expect((await getExport(db(), editor, exp.id))!.schedule).toEqual({ id: schedule.id, name: "Every minute", ownerName: "Production Editor" });
    expect((await scheduleRow(schedule.id)).failures_in_a_row).toBe(0);
  });

  it("catches up slots missed while nothing ran with one run, for the latest slot", async () => {
    const editor = await requesterFor(ROLES.editor, "production");
    const { schedule } = await newSchedule(editor, "Catch-up");
    const now = new Date();
    const latest = new Date(Math.floor(now.getTime() / MINUTE) * MINUTE);
    await db().updateTable("export_schedule").set({ next_slot_at: new Date(latest.getTime() - 5 * MINUTE) }).where("id", "=", schedule.id).execute();

    await Promise.all([tick(db(), now), tick(db(), now), tick(db(), now)]);
    await tick(db(), now);

    const runs = await runsOf(schedule.id);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ kind: "scheduled", status: "pending", slot_at: latest, interval_from: new Date(latest.getTime() - MINUTE), interval_to: latest });
    expect((await scheduleRow(schedule.id)).next_slot_at).toEqual(new Date(latest.getTime() + MINUTE));
    const { rows } = await sql<{ n: string }>`select count(*) as n from graphile_worker.jobs where key = ${`schedule:${schedule.id}:${latest.toISOString()}`}`.execute(db());
    expect(Number(rows[0].n)).toBe(1);
  });

  it("runs a Europe/Berlin 02:30 schedule once a day across both 2026 clock changes, each run for the period since the last", async () => {
    const editor = await requesterFor(ROLES.editor, "production");
    const cadence = { kind: "daily", time: "02:30" } as const;
    const { schedule } = await newSchedule(editor, "Berlin nights", { cadence, timeZone: "Europe/Berlin" });

    const tickThrough = async (from: string, to: string) => {
      await db().updateTable("export_schedule").set({ next_slot_at: nextSlot(cadence, "Europe/Berlin", new Date(from)) }).where("id", "=", schedule.id).execute();
      // A tick every 20 minutes, as a worker's clock would see the days go by.
      for (let now = new Date(from).getTime(); now <= new Date(to).getTime(); now += 20 * MINUTE) await tick(db(), new Date(now));
    };
    await tickThrough("2026-03-27T12:00:00Z", "2026-03-31T00:00:00Z");
    await tickThrough("2026-10-23T12:00:00Z", "2026-10-27T00:00:00Z");

    const runs = await runsOf(schedule.id);
    expect(runs.map((r) => [r.slot_at.toISOString(), hours(r)])).toEqual([
      ["2026-03-28T01:30:00.000Z", 24],
      // 02:30 does not exist on 29 March: the run is just after the gap, 03:00 CEST; the 23-hour day is shared by two periods.
      ["2026-03-29T01:00:00.000Z", 23.5],
      ["2026-03-30T00:30:00.000Z", 23.5],
      ["2026-10-24T00:30:00.000Z", 24],
      // 02:30 happens twice on 25 October (CEST, then CET): one run, at the first; the 25-hour day follows.
      ["2026-10-25T00:30:00.000Z", 24],
      ["2026-10-26T01:30:00.000Z", 25],
    ]);
  });
});

describe("a run's archives", () => {
  it("builds one export per distinct recipient variant, one after another, each by the recipient's rights now", { timeout: 60_000 }, async () => {
    const admin = await requesterFor(ROLES.tenantAdmin, "production");
    const people = await db().selectFrom("user").select(["id", "email"]).where("email", "in", [ROLES.orgAdmin, ROLES.editor, "production-viewer@acme.test"]).execute();
    const id = (email: string) => people.find((p) => p.email === email)!.id;
    const { schedule } = await newSchedule(admin, "Per recipient", {
      recipients: [id(ROLES.orgAdmin), id(ROLES.editor), id("production-viewer@acme.test")],
    });
    await db()
      .updateTable("export_schedule")
      .set({ request: { ...schedule.request, deidentification: "full" } })
      .where("id", "=", schedule.id)
      .execute();
    const run = await runNow(db(), admin, schedule.id);
    await runQueuedJobs();
    const done = await getRun(db(), admin, run.id);
    expect(done.status).toBe("done");
    // The org admin may have full identifiers, the editor gets the most protective profile, the viewer only a notice.
    expect(done.exports.map((e) => [e.status, e.deidentification, e.forTargets]).sort()).toEqual([
      ["done", "deidentified", false],
      ["done", "full", false],
    ]);
  });

  it("in delta mode: the first run is complete, each next one holds what was written since, late readings for earlier periods included", { timeout: 60_000 }, async () => {
    const editor = await requesterFor(ROLES.editor, "production");
    const { schedule, projectId } = await newSchedule(editor, "Warehouse deltas", { delta: true });
    // Dates as recorded, so the test can tell its rows apart.
    await db().updateTable("export_schedule").set({ request: { ...schedule.request, deidentification: "identifiers_removed" } }).where("id", "=", schedule.id).execute();
    await plantRecord(editor, projectId, new Date("2026-01-05T10:00:00Z"));
    const rowsOf = async (runId: string) => {
      const [exp] = (await getRun(db(), editor, runId)).exports;
      expect(exp.status).toBe("done");
      const files = await openArchive(exp.id);
      return { exp: await exportRow(exp.id), lines: files.get("hsi_records.csv")!.toString().trim().split("\n").slice(1) };
    };

    const first = await runNow(db(), editor, schedule.id);
    await runQueuedJobs();
    const full = await rowsOf(first.id);
    expect(full.lines).toHaveLength(1);
    expect(full.exp.since_snapshot).toBeNull();

    // A reading recorded long ago arrives now: no period's date range would hold it, the delta does.
    await sql`insert into hsi_record (tenant_id, project_id, app_id, participant_id, recorded_at, metric, value, unit, payload)
      select tenant_id, project_id, app_id, participant_id, '2026-01-06T10:00:00Z', metric, value, unit, payload from hsi_record where project_id = ${projectId}`.execute(db());
    const second = await runNow(db(), editor, schedule.id);
    await runQueuedJobs();
    const delta = await rowsOf(second.id);
    expect(delta.exp.since_export_id).toBe(full.exp.id);
    expect(delta.lines).toHaveLength(1);
    expect(delta.lines[0]).toContain("2026-01-06T10:00:00");
  });

  it("waits for a project someone else is exporting instead of failing, and tries again later", { timeout: 60_000 }, async () => {
    const editor = await requesterFor(ROLES.editor, "production");
    const { schedule, projectId } = await newSchedule(editor, "Busy project");
    const manual = await createExport(db(), editor, { scope: { type: "project", projectId }, dataTypes: ["hsi_records"], format: "csv" });
    const run = await runNow(db(), editor, schedule.id);
    await advanceRun(db(), run.id);
    expect(await getRun(db(), editor, run.id)).toMatchObject({ status: "running", exports: [] });
    const { rows } = await sql<{ run_at: Date }>`select run_at from graphile_worker.jobs where key = ${`schedule_run_advance:${run.id}`}`.execute(db());
    expect(rows[0].run_at.getTime()).toBeGreaterThan(Date.now() + 20_000);

    await runQueuedJobs(); // the manual export finishes; the run's retry is not due yet
    expect((await exportRow(manual.id)).status).toBe("done");
    // As if the 30 seconds had passed: the one waiting wake-up is moved to now.
    await enqueueRunAdvance(db(), run.id);
    await runQueuedJobs();
    expect(await getRun(db(), editor, run.id)).toMatchObject({ status: "done", exports: [{ status: "done" }] });
  });
});

describe("a run's owner and failures", () => {
  it("fails the run and pauses the schedule, naming why, once its owner no longer belongs to the tenant", async () => {
    const admin = await requesterFor(ROLES.tenantAdmin, "production");
    const { schedule } = await newSchedule(admin, "Owner leaves");
    const run = await runNow(db(), admin, schedule.id);
    await db().deleteFrom("tenant_member").where("tenant_id", "=", admin.tenantId).where("user_id", "=", admin.actor.userId!).execute();
    try {
      await advanceRun(db(), run.id);
    } finally {
      await db().insertInto("tenant_member").values({ tenant_id: admin.tenantId, user_id: admin.actor.userId!, role: "admin" }).execute();
    }
    const failed = await getRun(db(), admin, run.id);
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatch(/^The schedule's owner Production Admin is no longer a member of this tenant\./);
    expect(failed.exports).toEqual([]);
    expect(await scheduleRow(schedule.id)).toMatchObject({ status: "paused", paused_reason: failed.error, next_slot_at: null });
    expect(await auditCount(schedule.id, "schedule.run_failed", run.id)).toBe(1);
  });

  it("names the permission an owner demoted below the request lost", async () => {
    const admin = await requesterFor(ROLES.tenantAdmin, "production");
    const { schedule } = await newSchedule(admin, "Full identifiers", {
      request: { scope: { type: "tenant" }, dataTypes: ["lab_results"], format: "csv", deidentification: "full" },
    });
    const run = await runNow(db(), admin, schedule.id);
    await db().updateTable("tenant_member").set({ role: "editor" }).where("tenant_id", "=", admin.tenantId).where("user_id", "=", admin.actor.userId!).execute();
    try {
      await advanceRun(db(), run.id);
    } finally {
      await db().updateTable("tenant_member").set({ role: "admin" }).where("tenant_id", "=", admin.tenantId).where("user_id", "=", admin.actor.userId!).execute();
    }
    const failed = await getRun(db(), admin, run.id);
    expect(failed.error).toMatch(/^The schedule's owner Production Admin no longer has the permission studies\.export\.full/);
    expect((await scheduleRow(schedule.id)).paused_reason).toBe(failed.error);
  });

  it("pauses a schedule after three failed runs in a row; a retry runs the same slot again and a success resets the count", { timeout: 60_000 }, async () => {
    const editor = await requesterFor(ROLES.editor, "production");
    const { schedule } = await newSchedule(editor, "Thrice cancelled");
    const failedRuns = [];
    for (let i = 1; i <= 3; i++) {
      const run = await runNow(db(), editor, schedule.id);
      await advanceRun(db(), run.id);
      const [exp] = (await getRun(db(), editor, run.id)).exports;
      await cancelExport(db(), editor, exp.id);
      await advanceRun(db(), run.id);
      const failed = await getRun(db(), editor, run.id);
      expect(failed).toMatchObject({ status: "failed", error: `The run's export ${exp.id} was cancelled.` });
      failedRuns.push(failed);
      expect(await scheduleRow(schedule.id)).toMatchObject({ failures_in_a_row: i, status: i < 3 ? "active" : "paused" });
    }
    expect((await scheduleRow(schedule.id)).paused_reason).toBe(`Paused after 3 failed runs in a row: ${failedRuns[2].error}`);

    const retry = await retryRun(db(), editor, failedRuns[0].id);
    expect(retry).toMatchObject({ kind: "retry", retry_of: failedRuns[0].id, slot_at: failedRuns[0].slot_at, interval_from: failedRuns[0].interval_from, interval_to: failedRuns[0].interval_to });
    await expect(retryRun(db(), editor, retry.id)).rejects.toMatchObject({ code: "CONFLICT" });
    await runQueuedJobs();
    const done = await getRun(db(), editor, retry.id);
    expect(done.status).toBe("done");
    expect(done.exports.map((e) => e.status)).toEqual(["done"]);
    expect((await scheduleRow(schedule.id)).failures_in_a_row).toBe(0);
  });
});

describe("backfills and access", () => {
  it("backfills one run per period, one after another behind live runs, each for its own interval", { timeout: 60_000 }, async () => {
    const editor = await requesterFor(ROLES.editor, "production");
    const { schedule } = await newSchedule(editor, "Daily backfill", { cadence: { kind: "daily", time: "00:00" } });
    const { backfillId, runs } = await startBackfill(db(), editor, schedule.id, { from: "2026-01-01", to: "2026-01-04" });
    expect(runs).toBe(3);
    const created = await runsOf(schedule.id);
    expect(created.map((r) => [r.kind, r.backfill_id, r.interval_from!.toISOString(), r.interval_to!.toISOString()])).toEqual([
      ["backfill", backfillId, "2026-01-01T00:00:00.000Z", "2026-01-02T00:00:00.000Z"],
      ["backfill", backfillId, "2026-01-02T00:00:00.000Z", "2026-01-03T00:00:00.000Z"],
      ["backfill", backfillId, "2026-01-03T00:00:00.000Z", "2026-01-04T00:00:00.000Z"],
    ]);
    // Only the oldest is queued, below live runs' priority 0; each one that ends queues the next.
    const { rows: jobs } = await sql<{ key: string; priority: number }>`select key, priority from graphile_worker.jobs where key in (${sql.join(created.map((r) => `schedule_run:${r.id}`))})`.execute(db());
    expect(jobs).toEqual([{ key: `schedule_run:${created[0].id}`, priority: 100 }]);

    await runQueuedJobs();
    const last = await getRun(db(), editor, created[2].id);
    expect(last.backfill).toEqual({ runs: 3, done: 3, failed: 0 });
    for (const run of created) {
      const view = await getRun(db(), editor, run.id);
      expect((await exportRow(view.exports[0].id)).filters).toMatchObject({ from: run.interval_from!.toISOString(), to: run.interval_to!.toISOString() });
    }

    await expect(startBackfill(db(), editor, schedule.id, { from: "2020-01-01", to: "2026-01-01" })).rejects.toMatchObject({
      code: "INVALID_REQUEST",
      details: { fieldErrors: { to: expect.stringContaining("at most 366 runs") } },
    });
  });

  it("keeps another tenant's schedules and runs unknown, and needs data.exports.schedule to start runs", async () => {
    const editor = await requesterFor(ROLES.editor, "production");
    const { schedule } = await newSchedule(editor, "Not yours");
    const run = await runNow(db(), editor, schedule.id);
    const other = await requesterFor(ROLES.otherTenantAdmin, "staging");
    await expect(runNow(db(), other, schedule.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(startBackfill(db(), other, schedule.id, { from: "2026-01-01", to: "2026-01-04" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(retryRun(db(), other, run.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(getRun(db(), other, run.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    const viewer = await requesterFor(ROLES.viewer, "production");
    await expect(runNow(db(), viewer, schedule.id)).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect((await getRun(db(), viewer, run.id)).id).toBe(run.id);
  });
});
