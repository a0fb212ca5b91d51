import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { nextSlot } from "../../app/schedules/cadence";
import { formatSlot } from "../../app/schedules/SlotTime";
import { expectAccessible } from "../setup/axe";
import { ARTIFACTS, portalAndBrowser } from "../setup/browser";
import { expectFitsWidth } from "../setup/fits-width";
import { requesterFor } from "../setup/routes";

const portal = portalAndBrowser();
const SCHEDULES = "/o/acme-health/t/production/schedules";
/** The reader is in New York, the schedule in Berlin: the pages show both. */
const READER_ZONE = "America/New_York";

async function signInAsEditor(): Promise<Page> {
  const context = await portal.browser.newContext({ timezoneId: READER_ZONE, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${portal.app.url}/sign-in`);
  await page.getByLabel("Email").fill("production-editor@acme.test");
  await page.getByLabel("Password").fill("exportal-demo");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/exports$/);
  return page;
}

/** An HTTP receiver on this machine, as a warehouse loader would run one: every POST it got, with its headers. */
async function startReceiver() {
  const received: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/exportal`, received, close: () => new Promise((r) => server.close(r)) };
}

describe("schedules in a real browser", () => {
  it("an editor schedules a weekly export to a colleague and a webhook, reads its next run in Berlin's time and their own, sees its history, pauses, resumes and runs it", { timeout: 150_000 }, async () => {
    const receiver = await startReceiver();
    const { getDb } = await import("../../db/client");
    const { createWebhook } = await import("../../app/delivery/targets.server");
    const { secret } = await createWebhook(getDb(), await requesterFor("production-editor@acme.test", "production"), { url: receiver.url, description: "Warehouse loader" });
    const page = await signInAsEditor();
    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Schedules" }).click();
    await page.getByRole("heading", { name: "Schedules", level: 1 }).waitFor();
    await page.getByText("No schedules yet.").waitFor();
    await expectAccessible(page, "the empty schedules page");

    await page.getByRole("link", { name: "New schedule" }).click();
    await page.getByRole("heading", { name: "New schedule", level: 1 }).waitFor();
    // A new schedule starts in the reader's time zone.
    await expect.poll(() => page.getByLabel("Time zone").inputValue()).toBe(READER_ZONE);
    await page.getByLabel("Name", { exact: true }).fill("Weekly lab results");
    await page.getByRole("checkbox", { name: "HSI records" }).uncheck();
    await page.getByRole("checkbox", { name: /^CSV/ }).check();
    await page.getByRole("checkbox", { name: /^NDJSON/ }).uncheck();
    await page.getByRole("radio", { name: "Weekly" }).check();
    await page.getByLabel("Weekday").selectOption({ label: "Monday" });
    await page.getByLabel(/^Time \(HH:MM/).fill("09:00");
    await page.getByLabel("Time zone").fill("Europe/Berlin");
    await page.getByRole("checkbox", { name: /^Production Viewer/ }).check();
    await page.getByRole("checkbox", { name: `Warehouse loader (${receiver.url})` }).check();
    await expect.poll(() => page.getByRole("list", { name: "Next runs" }).getByRole("listitem").count()).toBe(3);
    const expected = nextSlot({ kind: "weekly", weekday: 1, time: "09:00" }, "Europe/Berlin", new Date())!;
    expect(await page.getByRole("list", { name: "Next runs" }).getByRole("listitem").first().textContent()).toContain(formatSlot(expected, "Europe/Berlin"));
    await expectAccessible(page, "the new schedule form");
    await page.screenshot({ path: path.join(ARTIFACTS, "schedule-new.png"), fullPage: true });

    // A bad time comes back with its error next to the field, and what was typed.
    await page.getByLabel(/^Time \(HH:MM/).fill("25:00");
    await page.getByRole("button", { name: "Create schedule" }).click();
    await page.getByText("Enter a time as HH:MM (24-hour), for example 09:00.").waitFor();
    expect(await page.getByLabel("Name", { exact: true }).inputValue()).toBe("Weekly lab results");
    expect(await page.getByLabel("Time zone").inputValue()).toBe("Europe/Berlin");
    expect(await page.getByRole("checkbox", { name: /^Production Viewer/ }).isChecked()).toBe(true);
    expect(await page.getByLabel(/^Time \(HH:MM/).getAttribute("aria-invalid")).toBe("true");
    await expectAccessible(page, "the new schedule form with an error");
    await page.getByLabel(/^Time \(HH:MM/).fill("09:00");
    await page.getByRole("button", { name: "Create schedule" }).click();

    await page.getByRole("heading", { name: "Weekly lab results", level: 1 }).waitFor();
    const scheduleId = page.url().split("/").pop()!;
    const details = page.locator("dl.details");
    await details.getByText(formatSlot(expected, "Europe/Berlin")).waitFor();
    await details.getByText(`${formatSlot(expected, READER_ZONE)} your time (${READER_ZONE})`).waitFor();
    await details.getByText("Production Viewer").waitFor();

    // Listed with its cadence in words and its next run in both time zones.
    await page.getByRole("link", { name: "← All schedules" }).click();
    const row = page.locator(`tr[data-schedule-id="${scheduleId}"]`);
    await row.getByText("Every Monday at 09:00").waitFor();
    await row.getByText(formatSlot(expected, "Europe/Berlin")).waitFor();
    await row.getByText(`${formatSlot(expected, READER_ZONE)} your time (${READER_ZONE})`).waitFor();
    await row.getByText("Active").waitFor();
    await row.getByText("Not run yet").waitFor();
    await expectAccessible(page, "the schedules list");
    await page.screenshot({ path: path.join(ARTIFACTS, "schedules.png"), fullPage: true });

    // A finished run, made directly, shows in its history with its export.
    const db = getDb();
    const schedule = await db.selectFrom("export_schedule").selectAll().where("id", "=", scheduleId).executeTakeFirstOrThrow();
    const run = await db.insertInto("export_schedule_run").values({
      schedule_id: scheduleId, tenant_id: schedule.tenant_id, kind: "scheduled", status: "done",
      slot_at: new Date("2026-11-23T08:00:00Z"), interval_from: new Date("2026-11-16T08:00:00Z"), interval_to: new Date("2026-11-23T08:00:00Z"), finished_at: new Date("2026-11-23T08:02:00Z"),
    }).returning("id").executeTakeFirstOrThrow();
    const exp = await db.insertInto("export").values({
      tenant_id: schedule.tenant_id, organization_id: schedule.organization_id, requested_by_user_id: schedule.owner_user_id,
      scope: { type: "tenant" }, data_types: ["lab_results"], formats: ["csv"], status: "done", schedule_run_id: run.id,
    }).returning("id").executeTakeFirstOrThrow();

    await row.getByRole("link", { name: "Weekly lab results" }).click();
    await page.getByRole("heading", { name: "Weekly lab results", level: 1 }).waitFor();
    const history = page.getByRole("region", { name: "Run history" });
    const done = history.locator(`tr[data-run-id="${run.id}"]`);
    await done.getByText("Mon, 23 Nov 2026, 09:00", { exact: true }).waitFor();
    await done.getByRole("cell", { name: "Mon, 16 Nov 2026, 09:00 to Mon, 23 Nov 2026, 09:00" }).waitFor();
    await done.getByText("Done", { exact: true }).first().waitFor();
    expect(await done.getByRole("link", { name: "Export 1" }).getAttribute("href")).toBe(`/o/acme-health/t/production/exports/${exp.id}`);
    await expectAccessible(page, "a schedule with its history");
    await page.screenshot({ path: path.join(ARTIFACTS, "schedule-detail.png"), fullPage: true });

    // Pause and resume, each said in the status line.
    await page.getByRole("button", { name: "Pause" }).click();
    await page.getByRole("status").getByText(/^Paused\./).waitFor();
    await details.getByText("Paused by Production Editor").waitFor();
    await details.getByText("None while paused").waitFor();
    await page.getByRole("button", { name: "Resume" }).click();
    await page.getByRole("status").getByText(/^Resumed\./).waitFor();
    await details.getByText("Active").waitFor();
    await details.getByText(formatSlot(expected, "Europe/Berlin")).waitFor();

    // Run now: the portal's worker builds the export and the webhook receives it, signed with the endpoint's secret.
    await page.getByRole("button", { name: "Run now" }).click();
    await page.getByText("Run started. It appears in the history below.").waitFor();
    await expectAccessible(page, "a schedule after its actions");
    await expect.poll(() => receiver.received.length, { timeout: 60_000, interval: 250 }).toBeGreaterThan(0);
    const [{ headers, body }] = receiver.received;
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(headers["exportal-signature"]))!;
    expect(createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")).toBe(v1);
    const event = JSON.parse(body);
    expect(event).toMatchObject({ type: "export.completed", schedule: { id: scheduleId, name: "Weekly lab results" } });
    const manual = await db.selectFrom("export_schedule_run").select(["id", "status"]).where("schedule_id", "=", scheduleId).where("kind", "=", "manual").executeTakeFirstOrThrow();
    expect(manual.status).toBe("done");
    await page.reload();
    await history.locator(`tr[data-run-id="${manual.id}"]`).getByText("Done", { exact: true }).first().waitFor();
    await receiver.close();

    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await page.getByRole("heading", { name: "Weekly lab results", level: 1 }).waitFor();
    await expectFitsWidth(page, "a schedule at 390 px");
    await page.screenshot({ path: path.join(ARTIFACTS, "schedule-detail-phone.png"), fullPage: true });
    await page.goto(`${portal.app.url}${SCHEDULES}`);
    await page.getByRole("heading", { name: "Schedules", level: 1 }).waitFor();
    await expectFitsWidth(page, "the schedules list at 390 px");
    await page.goto(`${portal.app.url}${SCHEDULES}/${scheduleId}/edit`);
    await page.getByRole("heading", { name: "Edit schedule", level: 1 }).waitFor();
    expect(await page.getByLabel("Time zone").inputValue()).toBe("Europe/Berlin");
    await expectFitsWidth(page, "the edit form at 390 px");
    await expectAccessible(page, "the edit form at 390 px");
    await page.screenshot({ path: path.join(ARTIFACTS, "schedule-edit-phone.png"), fullPage: true });
    await page.context().close();
  });
});
