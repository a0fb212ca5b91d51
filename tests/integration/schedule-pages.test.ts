import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import * as listPage from "../../app/routes/o.$org.t.$tenant.schedules._index";
import * as newPage from "../../app/routes/o.$org.t.$tenant.schedules.new";
import * as detailPage from "../../app/routes/o.$org.t.$tenant.schedules.$id._index";
import * as editPage from "../../app/routes/o.$org.t.$tenant.schedules.$id.edit";
import { createSchedule } from "../../app/schedules/schedules.server";
import { ownerIn } from "../setup/api";
import { callRoute, makeRequest, signIn } from "../setup/routes";

const PROD = { org: "acme-health", tenant: "production" };
const base = "/o/acme-health/t/production/schedules";
const db = () => getDb();

let viewer: string;
let editor: string;
let editorId: string;
let editorName: string;
let stagingScheduleId: string;

/** Posts a form, repeating a key for each value of a list. */
function post(fn: Parameters<typeof callRoute>[0], path: string, cookie: string, form: Record<string, string | string[]>, params: Record<string, string> = PROD) {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) for (const x of [v].flat()) body.append(k, x);
  return callRoute(fn, new Request(`http://localhost:3000${path}`, { method: "POST", body, headers: { Cookie: cookie } }), params);
}

const weekly = (extra: Record<string, string | string[]> = {}) => ({
  name: "Weekly labs",
  scope: "tenant",
  dataTypesShown: "1",
  dataTypes: ["lab_results"],
  formatsShown: "1",
  format: ["csv"],
  range: "interval",
  cadenceKind: "weekly",
  weekday: "1",
  time: "09:00",
  timeZone: "Europe/Berlin",
  ...extra,
});

beforeAll(async () => {
  [viewer, editor] = await Promise.all([signIn("production-viewer@acme.test"), signIn("production-editor@acme.test")]);
  ({ id: editorId, name: editorName } = await db().selectFrom("user").select(["id", "name"]).where("email", "=", "production-editor@acme.test").executeTakeFirstOrThrow());
  const staging = await createSchedule(db(), await ownerIn("staging"), {
    name: "Staging nightly",
    request: { dataTypes: ["lab_results"] },
    cadence: { kind: "daily", time: "02:00" },
    timeZone: "UTC",
  });
  stagingScheduleId = staging.id;
});

describe("schedule pages", () => {
  it("an editor creates a weekly schedule with a recipient; it is listed in words with its next run, and its page shows its settings", async () => {
    const created = await post(newPage.action, `${base}/new`, editor, weekly({ delta: "on", recipients: editorId }));
    expect(created.status).toBe(302);
    const id = created.headers.get("Location")!.split("/").pop()!;
    expect(created.headers.get("Location")).toBe(`${base}/${id}`);

    const list = await callRoute(listPage.loader, makeRequest(base, { cookie: editor }), PROD);
    expect(list.data.canManage).toBe(true);
    const listed = list.data.schedules.find((s: { id: string }) => s.id === id);
    expect(listed).toMatchObject({ name: "Weekly labs", cadence: "Every Monday at 09:00", timeZone: "Europe/Berlin", status: "active", lastRun: null });
    expect(listed.nextSlotAt).toBeTruthy();

    const detail = await callRoute(detailPage.loader, makeRequest(`${base}/${id}`, { cookie: editor }), { ...PROD, id });
    expect(detail.status).toBe(200);
    expect(detail.data.schedule).toMatchObject({ name: "Weekly labs", delta: true, format: "CSV", range: "Since the previous run", recipients: [editorName] });

    const edit = await callRoute(editPage.loader, makeRequest(`${base}/${id}/edit`, { cookie: editor }), { ...PROD, id });
    expect(edit.data.values).toMatchObject({ name: "Weekly labs", cadenceKind: "weekly", weekday: "1", time: "09:00", timeZone: "Europe/Berlin", delta: true, recipients: [editorId], dataTypes: ["lab_results"], format: ["csv"] });
    const saved = await post(editPage.action, `${base}/${id}/edit`, editor, weekly({ name: "Weekly labs (renamed)", cadenceKind: "monthly", dayOfMonth: "last", time: "07:30" }), { ...PROD, id });
    expect(saved.status).toBe(302);
    const after = await callRoute(detailPage.loader, makeRequest(`${base}/${id}`, { cookie: editor }), { ...PROD, id });
    expect(after.data.schedule).toMatchObject({ name: "Weekly labs (renamed)", cadence: "Monthly on the last day at 07:30", recipients: [] });
  });

  it("a viewer sees the list and a schedule but may not create, edit or act on one (403)", async () => {
    const created = await post(newPage.action, `${base}/new`, editor, weekly({ name: "Seen by viewers" }));
    const id = created.headers.get("Location")!.split("/").pop()!;
    const list = await callRoute(listPage.loader, makeRequest(base, { cookie: viewer }), PROD);
    expect(list.status).toBe(200);
    expect(list.data.canManage).toBe(false);
    expect(list.data.schedules.map((s: { name: string }) => s.name)).toContain("Seen by viewers");
    const detail = await callRoute(detailPage.loader, makeRequest(`${base}/${id}`, { cookie: viewer }), { ...PROD, id });
    expect(detail.status).toBe(200);
    expect(detail.data.canManage).toBe(false);

    expect((await callRoute(newPage.loader, makeRequest(`${base}/new`, { cookie: viewer }), PROD)).status).toBe(403);
    expect((await post(newPage.action, `${base}/new`, viewer, weekly())).status).toBe(403);
    expect((await callRoute(editPage.loader, makeRequest(`${base}/${id}/edit`, { cookie: viewer }), { ...PROD, id })).status).toBe(403);
    expect((await post(detailPage.action, `${base}/${id}`, viewer, { intent: "pause" }, { ...PROD, id })).status).toBe(403);
    expect((await post(detailPage.action, `${base}/${id}`, viewer, { intent: "delete" }, { ...PROD, id })).status).toBe(403);
  });

  it("another tenant's schedule, or no schedule, is 404 on every page and action", async () => {
    const id = stagingScheduleId;
    const params = { ...PROD, id };
    expect((await callRoute(detailPage.loader, makeRequest(`${base}/${id}`, { cookie: editor }), params)).status).toBe(404);
    expect((await callRoute(editPage.loader, makeRequest(`${base}/${id}/edit`, { cookie: editor }), params)).status).toBe(404);
    expect((await post(editPage.action, `${base}/${id}/edit`, editor, weekly(), params)).status).toBe(404);
    for (const intent of ["pause", "resume", "delete"]) expect((await post(detailPage.action, `${base}/${id}`, editor, { intent }, params)).status, intent).toBe(404);
    expect((await callRoute(detailPage.loader, makeRequest(`${base}/nope`, { cookie: editor }), { ...PROD, id: "nope" })).status).toBe(404);
    const still = await db().selectFrom("export_schedule").select("status").where("id", "=", id).executeTakeFirstOrThrow();
    expect(still.status).toBe("active");
  });

  it("a bad form answers 400 with each field's error and the values as typed", async () => {
    const res = await post(newPage.action, `${base}/new`, editor, weekly({ name: " ", time: "25:00", timeZone: "Mars/Olympus", dataTypes: [], recipients: editorId }));
    expect(res.status).toBe(400);
    expect(Object.keys(res.data.fieldErrors).sort()).toEqual(["cadence.time", "name", "request.dataTypes", "timeZone"]);
    expect(res.data.fieldErrors["cadence.time"]).toMatch(/HH:MM/);
    expect(res.data.values).toMatchObject({ name: " ", time: "25:00", timeZone: "Mars/Olympus", cadenceKind: "weekly", weekday: "1", dataTypes: [], recipients: [editorId], format: ["csv"] });

    const cron = await post(newPage.action, `${base}/new`, editor, weekly({ cadenceKind: "cron", expression: "every tuesday" }));
    expect(cron.status).toBe(400);
    expect(Object.keys(cron.data.fieldErrors)).toEqual(["cadence.expression"]);
    expect(cron.data.values.expression).toBe("every tuesday");

    const stranger = await post(newPage.action, `${base}/new`, editor, weekly({ recipients: "not-a-member" }));
    expect(stranger.status).toBe(400);
    expect(stranger.data.fieldErrors).toEqual({ recipients: "Every recipient must be a member of this tenant." });
  });

  it("a schedule's page shows its runs with their exports, pauses with a reason and resumes", async () => {
    const created = await post(newPage.action, `${base}/new`, editor, weekly({ name: "With history" }));
    const id = created.headers.get("Location")!.split("/").pop()!;
    const params = { ...PROD, id };
    const schedule = await db().selectFrom("export_schedule").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
    const run = await db().insertInto("export_schedule_run").values({
      schedule_id: id, tenant_id: schedule.tenant_id, kind: "scheduled", status: "done",
      slot_at: new Date("2026-11-23T08:00:00Z"), interval_from: new Date("2026-11-16T08:00:00Z"), interval_to: new Date("2026-11-23T08:00:00Z"), finished_at: new Date("2026-11-23T08:01:00Z"),
    }).returning("id").executeTakeFirstOrThrow();
    const exp = await db().insertInto("export").values({
      tenant_id: schedule.tenant_id, organization_id: schedule.organization_id, requested_by_user_id: editorId,
      scope: { type: "tenant" }, data_types: ["lab_results"], formats: ["csv"], status: "done", schedule_run_id: run.id,
    }).returning("id").executeTakeFirstOrThrow();
    await db().insertInto("export_schedule_run").values({
      schedule_id: id, tenant_id: schedule.tenant_id, kind: "scheduled", status: "failed", error: "The owner lacks data.exports.create.", slot_at: new Date("2026-11-30T08:00:00Z"),
    }).execute();

    const detail = await callRoute(detailPage.loader, makeRequest(`${base}/${id}`, { cookie: editor }), params);
    expect(detail.data.runs.map((r: { status: string }) => r.status)).toEqual(["failed", "done"]);
    expect(detail.data.runs[1].exports).toEqual([{ id: exp.id, status: "done", deidentification: null }]);
    expect(detail.data.runs[0].error).toBe("The owner lacks data.exports.create.");
    const list = await callRoute(listPage.loader, makeRequest(base, { cookie: editor }), PROD);
    expect(list.data.schedules.find((s: { id: string }) => s.id === id).lastRun.status).toBe("failed");

    const paused = await post(detailPage.action, `${base}/${id}`, editor, { intent: "pause" }, params);
    expect(paused.data).toMatchObject({ ok: true });
    const shown = await callRoute(detailPage.loader, makeRequest(`${base}/${id}`, { cookie: editor }), params);
    expect(shown.data.schedule).toMatchObject({ status: "paused", nextSlotAt: null, pausedReason: `Paused by ${editorName}` });
    expect((await post(detailPage.action, `${base}/${id}`, editor, { intent: "resume" }, params)).data).toMatchObject({ ok: true });
    const resumed = await callRoute(detailPage.loader, makeRequest(`${base}/${id}`, { cookie: editor }), params);
    expect(resumed.data.schedule).toMatchObject({ status: "active", pausedReason: null });

    const deleted = await post(detailPage.action, `${base}/${id}`, editor, { intent: "delete" }, params);
    expect(deleted.status).toBe(302);
    expect(deleted.headers.get("Location")).toBe(base);
    expect((await callRoute(detailPage.loader, makeRequest(`${base}/${id}`, { cookie: editor }), params)).status).toBe(404);
  });

  it("run now, retry and backfill answer in words whatever the runner says, never with an error page", async () => {
    const created = await post(newPage.action, `${base}/new`, editor, weekly({ name: "Runner" }));
    const id = created.headers.get("Location")!.split("/").pop()!;
    const params = { ...PROD, id };
    const schedule = await db().selectFrom("export_schedule").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
    const failed = await db().insertInto("export_schedule_run").values({
      schedule_id: id, tenant_id: schedule.tenant_id, kind: "scheduled", status: "failed", error: "boom", slot_at: new Date("2026-11-23T08:00:00Z"),
    }).returning("id").executeTakeFirstOrThrow();
    const forms: Record<string, string>[] = [{ intent: "run-now" }, { intent: "retry", runId: failed.id }, { intent: "backfill", from: "2026-10-01", to: "2026-11-01" }];
    for (const form of forms) {
      const res = await post(detailPage.action, `${base}/${id}`, editor, form, params);
      if (res.data.ok) expect(res.data.message, form.intent).toMatch(/\w/);
      else expect(res.data.error, form.intent).toMatch(/\w/);
      if (form.intent === "backfill" && !res.data.ok) expect(res.data).toMatchObject({ intent: "backfill", from: "2026-10-01", to: "2026-11-01" });
    }
    // Their rights are checked first: a viewer gets 403 whatever the runner would say.
    expect((await post(detailPage.action, `${base}/${id}`, viewer, { intent: "run-now" }, params)).status).toBe(403);
  });

  it("a schedule of a study cohort (made through the API) is edited with its scope kept", async () => {
    const cohort = await db().selectFrom("cohort as c").innerJoin("study as s", "s.id", "c.study_id").innerJoin("tenant as t", "t.id", "s.tenant_id")
      .where("t.slug", "=", "production").select(["c.id as cohortId", "s.id as studyId"]).executeTakeFirstOrThrow();
    const made = await createSchedule(db(), await ownerIn("production"), {
      name: "Cohort weekly", request: { scope: { type: "study", ...cohort }, dataTypes: ["lab_results"] }, cadence: { kind: "daily", time: "06:00" }, timeZone: "UTC",
    });
    const params = { ...PROD, id: made.id };
    const edit = await callRoute(editPage.loader, makeRequest(`${base}/${made.id}/edit`, { cookie: editor }), params);
    expect(edit.data.values).toMatchObject({ scope: "study", ...cohort });
    expect(edit.data.values.scopeLabel).toMatch(/^Study /);
    const { values } = edit.data;
    const saved = await post(editPage.action, `${base}/${made.id}/edit`, editor, {
      name: "Cohort weekly", scope: "study", studyId: values.studyId, cohortId: values.cohortId, dataTypesShown: "1", dataTypes: "lab_results",
      format: "ndjson", deidentification: "deidentified", range: "interval", cadenceKind: "daily", time: "06:30", timeZone: "UTC",
    }, params);
    expect(saved.status).toBe(302);
    const after = await db().selectFrom("export_schedule").select(["request", "cadence"]).where("id", "=", made.id).executeTakeFirstOrThrow();
    expect(after.request.scope).toMatchObject({ type: "study", ...cohort });
    expect(after.cadence).toEqual({ kind: "daily", time: "06:30" });
  });
});
