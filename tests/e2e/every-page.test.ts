import path from "node:path";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { SECTIONS } from "../../app/components/sections";
import { expectAccessible } from "../setup/axe";
import { ARTIFACTS, portalAndBrowser } from "../setup/browser";
import { expectFitsWidth } from "../setup/fits-width";
import { requesterFor } from "../setup/routes";

// Every page and dialog the demo owner can reach, at a desktop's size and a phone's: no WCAG 2.1 A/AA
// violation that axe-core finds, and nothing that makes the page scroll sideways. The sections come from
// sections.ts, so a new section is checked without touching this file.
const TENANT = "/o/acme-health/t/production";
const SIZES = [
  { name: "desktop", width: 1280, height: 800 },
  { name: "phone", width: 390, height: 844 },
];

const portal = portalAndBrowser();
/** What the pages show beyond the seed: a finished export, one that runs, an API key to revoke, and a schedule with a failed run. */
const fixture = { doneId: "", runningId: "", scheduleId: "" };

beforeAll(async () => {
  const { getDb } = await import("../../db/client");
  const { createExport } = await import("../../app/exports/exports.server");
  const { createApiKey } = await import("../../app/api/keys.server");
  const { createSchedule } = await import("../../app/schedules/schedules.server");
  const db = getDb();
  const owner = await requesterFor("owner@acme.test", "production");
  const projects = await db.selectFrom("project as p").innerJoin("tenant as t", "t.id", "p.tenant_id")
    .select(["p.id", "p.name", "p.tenant_id", "t.organization_id"]).where("t.slug", "=", "production").execute();
  const project = (name: string) => projects.find((p) => p.name === name)!;

  // A real export, run by the portal's worker, so the detail page has its manifest and the list a Download link.
  const done = await createExport(db, owner, { scope: { type: "project", projectId: project("Cardio Study").id }, dataTypes: ["lab_results"], format: "both" });
  fixture.doneId = done.id;
  // One that stays running (no job drives it), for the progress bar and the cancel dialog.
  const sleep = project("Sleep Lab");
  const running = await db.insertInto("export").values({
    tenant_id: sleep.tenant_id, organization_id: sleep.organization_id, requested_by_user_id: null,
    scope: { type: "project", projectId: sleep.id }, data_types: ["hsi_records"], formats: ["ndjson"], status: "running", rows_done: 1234, rows_expected: 5000,
  }).returning("id").executeTakeFirstOrThrow();
  await db.insertInto("export_project_lock").values({ project_id: sleep.id, export_id: running.id }).execute();
  fixture.runningId = running.id;
  await createApiKey(db, owner, { name: "Nightly warehouse load", permissions: ["data.exports.read"] });
  const schedule = await createSchedule(db, owner, {
    name: "Weekly lab results", request: { dataTypes: ["lab_results"], format: "csv" }, cadence: { kind: "weekly", weekday: 1, time: "09:00" }, timeZone: "Europe/Berlin",
  });
  fixture.scheduleId = schedule.id;
  await db.insertInto("export_schedule_run").values({
    schedule_id: schedule.id, tenant_id: schedule.tenant_id, kind: "scheduled", status: "failed", error: "The owner may no longer export lab results.",
    slot_at: new Date("2026-11-23T08:00:00Z"), interval_from: new Date("2026-11-16T08:00:00Z"), interval_to: new Date("2026-11-23T08:00:00Z"),
  }).execute();

  const status = () => db.selectFrom("export").select("status").where("id", "=", done.id).executeTakeFirstOrThrow().then((e) => e.status);
  for (const deadline = Date.now() + 30_000; (await status()) !== "done"; ) {
    if (Date.now() > deadline) throw new Error(`the fixture export is still ${await status()} after 30 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}, 60_000);

/** What went wrong on each page and dialog, so one run reports them all. */
let problems: string[] = [];

/**
 * What `page` shows now passes axe and fits its window; a screenshot of it is left to look at (of the
 * window only for a dialog, whose backdrop covers only the window).
 */
async function check(page: Page, what: string, { dialog = false } = {}) {
  const size = page.viewportSize()!;
  await page.screenshot({ path: path.join(ARTIFACTS, "every-page", `${size.width}-${what.replace(/\W+/g, "-")}.png`), fullPage: !dialog });
  for (const expectation of [expectAccessible, expectFitsWidth]) {
    await expectation(page, `${what} at ${size.width}×${size.height}`).catch((error: Error) => problems.push(error.message));
  }
}

/** Opens `url` and checks it once its main heading is there. */
async function visit(page: Page, url: string, what: string) {
  await page.goto(`${portal.app.url}${url}`);
  await page.getByRole("heading", { level: 1 }).first().waitFor();
  await check(page, what);
}

describe.each(SIZES)("every page at $name size ($width×$height)", (size) => {
  it("passes axe and fits the width", { timeout: 120_000 }, async () => {
    const context = await portal.browser.newContext({ viewport: { width: size.width, height: size.height } });
    const page = await context.newPage();
    problems = [];

    await page.goto(`${portal.app.url}/sign-in`);
    await page.getByLabel("Email").waitFor();
    await check(page, "sign-in");
    await page.getByLabel("Email").fill("owner@acme.test");
    await page.getByLabel("Password").fill("exportal-demo");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(/\/exports$/);

    for (const section of SECTIONS) await visit(page, `${TENANT}/${section.to}`, `section ${section.label}`);

    await visit(page, `${TENANT}/exports/${fixture.doneId}`, "a finished export");
    await visit(page, `${TENANT}/exports/${fixture.runningId}`, "a running export");

    await visit(page, `${TENANT}/schedules/${fixture.scheduleId}`, "a schedule with a failed run");
    await page.getByRole("button", { name: "Delete schedule Weekly lab results" }).click();
    const deleteSchedule = page.getByRole("alertdialog");
    await deleteSchedule.waitFor();
    await check(page, "the delete schedule confirmation", { dialog: true });
    await page.keyboard.press("Escape");
    await deleteSchedule.waitFor({ state: "hidden" });
    await visit(page, `${TENANT}/schedules/new`, "the new schedule form");
    await visit(page, `${TENANT}/schedules/${fixture.scheduleId}/edit`, "the edit schedule form");

    await visit(page, `${TENANT}/studies`, "studies");
    await page.getByRole("link", { name: "Sleep-2025" }).click();
    await page.getByRole("heading", { name: /Sleep-2025/, level: 1 }).waitFor();
    await check(page, "a study");
    await page.getByRole("link", { name: "Cohort B" }).first().click();
    await page.getByRole("heading", { name: "Cohort B", level: 1 }).waitFor();
    await check(page, "a cohort");

    await visit(page, `${TENANT}/dashboards`, "dashboards");
    await page.locator("main").getByRole("link").filter({ hasNotText: "Import" }).first().click();
    await page.waitForURL(/\/dashboards\/[^/]+$/);
    await page.getByRole("heading", { level: 1 }).waitFor();
    await check(page, "a dashboard");
    await visit(page, `${TENANT}/dashboards/import`, "dashboard import");

    // The dialogs, each on the page that opens it.
    await page.goto(`${portal.app.url}${TENANT}/exports`);
    await page.getByRole("button", { name: "New export" }).click();
    const newExport = page.getByRole("dialog", { name: "New export" });
    await newExport.getByLabel("A project").check();
    await check(page, "the New export dialog", { dialog: true });
    await page.keyboard.press("Escape");
    await newExport.waitFor({ state: "hidden" });

    await page.getByRole("button", { name: `Cancel export ${fixture.runningId}` }).click();
    const cancel = page.getByRole("alertdialog", { name: "Cancel this export?" });
    await cancel.waitFor();
    await check(page, "the cancel confirmation", { dialog: true });
    await cancel.getByRole("button", { name: "Keep it running" }).click();
    await cancel.waitFor({ state: "hidden" });

    await visit(page, `${TENANT}/api-keys`, "API keys");
    await page.getByRole("button", { name: /^Revoke/ }).first().click();
    const revoke = page.getByRole("alertdialog");
    await revoke.waitFor();
    await check(page, "the revoke confirmation", { dialog: true });
    await page.keyboard.press("Escape");
    await revoke.waitFor({ state: "hidden" });

    // Administration: the organization's trail, your account, and the dialogs of members and tenants.
    await visit(page, `${TENANT}/audit?view=organization`, "the organization's audit log");
    await visit(page, "/account", "your account");
    await visit(page, `${TENANT}/members`, "members");
    await page.getByRole("button", { name: "Invite member" }).click();
    const invite = page.getByRole("dialog", { name: "Invite member" });
    await invite.waitFor();
    await check(page, "the invite dialog", { dialog: true });
    await page.keyboard.press("Escape");
    await invite.waitFor({ state: "hidden" });
    await page.getByRole("button", { name: /^Change roles of/ }).first().click();
    const roles = page.getByRole("dialog", { name: /^Change roles of/ });
    await roles.waitFor();
    await check(page, "the change roles dialog", { dialog: true });
    await page.keyboard.press("Escape");
    await roles.waitFor({ state: "hidden" });
    await visit(page, `${TENANT}/tenants`, "tenants");
    await page.getByRole("button", { name: /^Archive/ }).first().click();
    const archive = page.getByRole("alertdialog");
    await archive.waitFor();
    await check(page, "the archive confirmation", { dialog: true });
    await page.keyboard.press("Escape");
    await archive.waitFor({ state: "hidden" });
    // The pages a link from outside opens, here with a link that does not work.
    await visit(page, "/invitations/no-such-invitation", "an unknown invitation");
    await visit(page, "/set-password/no-such-token", "an unknown set-password link");

    await context.close();
    expect(problems.join("\n\n")).toBe("");
  });
});
