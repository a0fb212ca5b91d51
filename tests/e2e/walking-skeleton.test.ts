import { readFileSync } from "node:fs";
import path from "node:path";
import type { Locator, Page } from "playwright-core";
import { describe, expect, it, onTestFinished } from "vitest";
import { expectAccessible } from "../setup/axe";
import { ARTIFACTS, portalAndBrowser } from "../setup/browser";
import { expectFitsWidth } from "../setup/fits-width";
import { readZip } from "../setup/zip";
import { holdTable } from "../setup/exports";
import { day } from "../setup/dates";

const portal = portalAndBrowser();

async function signIn(page: Page, email: string) {
  await page.goto(`${portal.app.url}/`);
  await page.waitForURL(/\/sign-in\?redirectTo=/);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("exportal-demo");
  await page.getByRole("button", { name: "Sign in" }).click();
}

describe("in a real browser", () => {
  it("an editor signs in, lands in their only tenant, exports, watches it finish and downloads the archive", { timeout: 60_000 }, async () => {
    const context = await portal.browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();

    await signIn(page, "wrong@acme.test");
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("Incorrect email or password.");
    await expect.poll(() => page.getByLabel("Email").inputValue()).toBe("wrong@acme.test");
    await expectAccessible(page, "sign in, refused");

    await page.getByLabel("Email").fill("production-editor@acme.test");
    await page.getByLabel("Password").fill("exportal-demo");
    await page.getByRole("button", { name: "Sign in" }).click();
    // Production is the editor's only tenant: nothing to choose, so they land in it.
    await page.waitForURL(`${portal.app.url}/o/acme-health/t/production/exports`);
    await page.getByRole("heading", { name: "Exports" }).waitFor();

    await page.getByRole("button", { name: "New export" }).click();
    const dialog = page.getByRole("dialog", { name: "New export" });
    await dialog.getByText("Export HSI and Lab data as a downloadable archive.").waitFor();
    await dialog.getByLabel("A project").check();
    await dialog.getByLabel("Project", { exact: true }).selectOption({ label: "Cardio Study" });
    expect(await dialog.getByRole("checkbox", { name: /^NDJSON/ }).isChecked()).toBe(true);
    await dialog.getByRole("checkbox", { name: /^CSV/ }).check();
    await dialog.getByRole("checkbox", { name: /^Parquet/ }).check();
    await page.screenshot({ path: path.join(ARTIFACTS, "new-export-dialog.png") });
    await expectAccessible(page, "new export dialog");
    // The export waits on a locked table, so the page must show it unfinished before it can show it done.
    const release = await holdTable("hsi_record");
    let exportId!: string;
    let row!: Locator;
    let url!: string;
    const seen: string[] = [];
    try {
      await dialog.getByRole("button", { name: "Start export" }).click();
      await dialog.waitFor({ state: "hidden" });
      const newest = page.locator("tr[data-export-id]").first();
      expect(await newest.locator("td").nth(1).textContent()).toBe("Project Cardio Study");
      exportId = (await newest.getAttribute("data-export-id"))!;
      row = page.locator(`tr[data-export-id="${exportId}"]`);
      url = page.url();
      // A mark that only this page load carries: a reload or navigation would drop it.
      await page.evaluate(() => Object.assign(window, { samePage: true }));
      await page.locator(`tr[data-export-id="${exportId}"][data-status="running"]`).waitFor({ timeout: 10_000 });
      seen.push("running");
    } finally {
      await release();
    }
    // Polling moves the row along without a reload.
    for (const deadline = Date.now() + 15_000; seen.at(-1) !== "done" && Date.now() < deadline; ) {
      await page.waitForTimeout(100);
      const status = (await row.getAttribute("data-status"))!;
      if (status !== seen.at(-1)) seen.push(status);
    }
    expect(seen).toEqual(["running", "done"]);
    expect(page.url()).toBe(url);
    expect(await page.evaluate(() => (window as { samePage?: boolean }).samePage)).toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, "exports-done.png"), fullPage: true });
    await expectAccessible(page, "exports done");

    const [download] = await Promise.all([page.waitForEvent("download"), row.getByRole("link", { name: "Download" }).click()]);
    expect(download.suggestedFilename()).toBe(`export-${exportId}.zip`);
    const file = path.join(ARTIFACTS, "download.zip");
    await download.saveAs(file);
    const entries = await readZip(readFileSync(file));
    const manifest = JSON.parse(entries.get("manifest.json")!.toString());
    expect(manifest.files.map((f: { name: string }) => f.name)).toEqual([
      "hsi_records.ndjson", "hsi_records.csv", "hsi_records.parquet", "lab_results.ndjson", "lab_results.csv", "lab_results.parquet",
    ]);
    const lines = entries.get("hsi_records.ndjson")!.toString().trim().split("\n");
    expect(manifest.files[0].rows).toBe(lines.length);
    expect(lines.length).toBeGreaterThan(100);
    expect(manifest.scope.type).toBe("project");

    // A study cohort exports from the Studies page through the same dialog, locked to the cohort.
    await page.getByRole("link", { name: "Studies" }).click();
    await page.waitForURL(`${portal.app.url}/o/acme-health/t/production/studies`);
    const sleepStudy = page.locator("section", { has: page.getByRole("heading", { name: "Sleep-2025" }) });
    await sleepStudy.getByRole("row", { name: /Cohort B/ }).getByRole("button", { name: "Export" }).click();
    const locked = page.getByRole("dialog", { name: "New export" });
    await locked.getByText("Study Sleep-2025, Cohort B").waitFor();
    await expectAccessible(page, "studies, export dialog locked to a cohort");
    expect(await locked.getByLabel("A project").count()).toBe(0);
    await locked.getByRole("button", { name: "Start export" }).click();
    await page.waitForURL(`${portal.app.url}/o/acme-health/t/production/exports`);
    const cohortRow = page.locator("tr[data-export-id]").first();
    await cohortRow.getByText("Study Sleep-2025, Cohort B").waitFor();
    await page.locator('tr[data-export-id][data-status="done"]', { hasText: "Study Sleep-2025, Cohort B" }).waitFor({ timeout: 20_000 });

    // A cohort's page: search for one participant and export just them, with a profile an editor may use.
    await page.goto(`${portal.app.url}/o/acme-health/t/production/studies`);
    await sleepStudy.getByRole("link", { name: "Cohort B" }).click();
    await page.getByRole("heading", { name: "Cohort B" }).waitFor();
    await expectAccessible(page, "cohort");
    await page.getByLabel("Participant id").fill("P-0042");
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL(/\?q=P-0042/);
    // The URL changes before the new rows render, so wait for the rows.
    await expect.poll(() => page.locator("tr[data-participant-id]").count()).toBe(1);
    await page.getByRole("button", { name: "Export participant P-0042" }).click();
    const single = page.getByRole("dialog", { name: "New export" });
    await single.getByText("Study Sleep-2025, Cohort B, participant P-0042").waitFor();
    expect(await single.getByLabel(/Full data/).isDisabled()).toBe(true);
    expect(await single.getByLabel(/De-identified/).isChecked()).toBe(true);
    await single.getByLabel(/Identifiers removed/).check();
    await page.screenshot({ path: path.join(ARTIFACTS, "participant-export-dialog.png"), fullPage: true });
    await expectAccessible(page, "participant export dialog");
    await single.getByRole("button", { name: "Start export" }).click();
    await page.waitForURL(`${portal.app.url}/o/acme-health/t/production/exports`);
    await page.locator('tr[data-export-id][data-status="done"]', { hasText: "participant P-0042" }).waitFor({ timeout: 20_000 });
    await page.goto(`${portal.app.url}/o/acme-health/t/production/exports/${exportId}`);

    // The detail page lists the manifest's files with their checksums.
    await page.waitForURL(`${portal.app.url}/o/acme-health/t/production/exports/${exportId}`);
    await page.getByText(manifest.files[0].sha256).waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "export-detail.png"), fullPage: true });
    await expectAccessible(page, "export detail");

    await page.getByRole("banner").getByText("Production Editor").click();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/sign-in/);
    await context.close();
  });

  it("shows a validation error next to its field and keeps what was entered; a busy project says which export runs", async () => {
    // Another export holds Sleep Lab: running, with no job, so it stays that way during the test.
    const { getDb } = await import("../../db/client");
    const db = getDb();
    const sleep = await db
      .selectFrom("project as p").innerJoin("tenant as t", "t.id", "p.tenant_id")
      .select(["p.id", "p.tenant_id", "t.organization_id"]).where("p.name", "=", "Sleep Lab").where("t.slug", "=", "production")
      .executeTakeFirstOrThrow();
    const busy = await db.insertInto("export").values({
      tenant_id: sleep.tenant_id, organization_id: sleep.organization_id, requested_by_user_id: null,
      scope: { type: "project", projectId: sleep.id }, data_types: ["hsi_records"], formats: ["ndjson"], status: "running",
      rows_done: 1234, rows_expected: 5000,
    }).returning("id").executeTakeFirstOrThrow();
    await db.insertInto("export_project_lock").values({ project_id: sleep.id, export_id: busy.id }).execute();
    // Fixtures clean up: afterwards the project is free again (its lock goes with the active status).
    onTestFinished(async () => {
      await db.updateTable("export").set({ status: "cancelled", finished_at: new Date() }).where("id", "=", busy.id).execute();
    });

    const context = await portal.browser.newContext();
    const page = await context.newPage();
    await signIn(page, "production-editor@acme.test");
    await page.waitForURL(/\/o\/acme-health\/t\/production\/exports|\/exports/);
    await page.goto(`${portal.app.url}/o/acme-health/t/production/exports`);
    const running = page.locator(`tr[data-export-id="${busy.id}"]`);
    expect(await running.getByRole("progressbar").getAttribute("aria-valuenow")).toBe("24");
    await running.getByText("24% · 1,234 of 5,000 rows").waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "exports-running.png"), fullPage: true });
    await expectAccessible(page, "exports running");

    await page.getByRole("button", { name: "New export" }).click();
    const dialog = page.getByRole("dialog", { name: "New export" });
    await dialog.getByLabel("A project").check();
    await dialog.getByLabel("Project", { exact: true }).selectOption({ label: "Metabolic Health" });
    const [from, to] = [day(-30), day(-60)];
    await dialog.getByLabel("From").fill(from);
    await dialog.getByLabel("To").fill(to);
    await dialog.getByRole("checkbox", { name: /^CSV/ }).check();
    await dialog.getByRole("checkbox", { name: /^NDJSON/ }).uncheck();
    await dialog.getByRole("button", { name: "Start export" }).click();
    await dialog.locator("#to-error").getByText("“To” must be after “From”").waitFor();
    expect(await dialog.getByLabel("To").getAttribute("aria-describedby")).toBe("to-error");
    expect(await dialog.getByLabel("From").inputValue()).toBe(from);
    expect(await dialog.getByLabel("To").inputValue()).toBe(to);
    expect(await dialog.getByLabel("A project").isChecked()).toBe(true);
    expect(await dialog.getByRole("checkbox", { name: /^CSV/ }).isChecked()).toBe(true);
    expect(await dialog.getByRole("checkbox", { name: /^NDJSON/ }).isChecked()).toBe(false);
    await page.screenshot({ path: path.join(ARTIFACTS, "new-export-validation.png") });
    await expectAccessible(page, "new export validation");

    await dialog.getByLabel("To").fill("");
    await dialog.getByLabel("From").fill("");
    await dialog.getByLabel("Project", { exact: true }).selectOption({ label: "Sleep Lab" });
    await dialog.getByRole("button", { name: "Start export" }).click();
    await dialog.getByText(`Another export is in progress for project Sleep Lab (export ${busy.id})`).waitFor();
    await dialog.getByRole("link", { name: "View that export" }).click();
    await page.waitForURL(`${portal.app.url}/o/acme-health/t/production/exports/${busy.id}`);

    // Escape closes the dialog.
    await page.goto(`${portal.app.url}/o/acme-health/t/production/exports`);
    await page.getByRole("button", { name: "New export" }).click();
    await dialog.waitFor();
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    await context.close();
  });

  it("a tenant admin creates an API key, sees it once, and then only its prefix and last four characters", async () => {
    const context = await portal.browser.newContext();
    const page = await context.newPage();
    await signIn(page, "production-admin@acme.test");
    await page.waitForURL(/\/exports$/);
    await page.goto(`${portal.app.url}/o/acme-health/t/production/exports`);
    await page.getByRole("link", { name: "API keys" }).click();
    await page.getByLabel("Name").fill("Warehouse loader");
    await page.getByLabel("Start exports").check();
    await page.getByRole("button", { name: "Create key" }).click();
    const key = await page.getByLabel("New API key").inputValue();
    expect(key).toMatch(/^xpk_[0-9A-Za-z]{38}$/);
    const row = page.locator("tr", { hasText: "Warehouse loader" });
    await row.getByText(`${key.slice(0, 8)}…${key.slice(-4)}`).waitFor();
    expect(await page.getByLabel("Name").inputValue()).toBe("");
    await page.screenshot({ path: path.join(ARTIFACTS, "api-keys.png"), fullPage: true });
    await expectAccessible(page, "api keys");
    await page.reload();
    expect(await page.getByLabel("New API key").count()).toBe(0);
    expect(await page.content()).not.toContain(key);

    // The key works on the API, for what it was given and nothing more.
    // Nothing holds a project of the tenant (the earlier tests' exports finished or were cleaned up), so this export is created.
    const { getDb } = await import("../../db/client");
    const production = await getDb().selectFrom("tenant").select("id").where("slug", "=", "production").executeTakeFirstOrThrow();
    await expect.poll(() => getDb().selectFrom("export").select("id").where("tenant_id", "=", production.id).where("status", "in", ["pending", "running"]).execute(), { timeout: 20_000 }).toEqual([]);
    const created = await fetch(`${portal.app.url}/api/v1/exports`, { method: "POST", headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" }, body: JSON.stringify({ dataTypes: ["lab_results"], dateRange: { from: day(-3000), to: day(-2999) } }) });
    expect(created.status).toBe(202);
    const { id } = await created.json();
    const shown = await fetch(`${portal.app.url}/api/v1/exports/${id}`, { headers: { Authorization: `Bearer ${key}` } });
    expect(shown.status).toBe(200);
    expect((await shown.json()).requestedBy).toBe("API key Warehouse loader");
    const metrics = await fetch(`${portal.app.url}/api/v1/metrics`, { headers: { Authorization: `Bearer ${key}` } });
    expect(metrics.status).toBe(403);
    expect((await metrics.json()).error.details.permission).toBe("metrics.read");

    await page.getByRole("link", { name: "API", exact: true }).click();
    await page.getByRole("heading", { name: "API", exact: true }).waitFor();
    const example = page.locator("#post--api-v-exports pre").last();
    expect(await example.textContent()).toContain(`curl -sS -X POST "${portal.app.url}/api/v1/exports"`);
    await page.screenshot({ path: path.join(ARTIFACTS, "api-docs.png"), fullPage: true });
    await expectAccessible(page, "api docs");
    await context.close();
  });

  it("a viewer sees the list and the permission message, and no New export button", async () => {
    const context = await portal.browser.newContext();
    const page = await context.newPage();
    await signIn(page, "production-viewer@acme.test");
    // Production is the viewer's only tenant: they land in it.
    await page.waitForURL(`${portal.app.url}/o/acme-health/t/production/exports`);
    await page.goto(`${portal.app.url}/o/acme-health/t/production/exports`);
    await page.getByText("You don't have permission to create exports. Ask an organization or tenant admin.").waitFor();
    expect(await page.getByRole("button", { name: "New export" }).count()).toBe(0);
    await page.screenshot({ path: path.join(ARTIFACTS, "exports-viewer.png"), fullPage: true });
    await expectAccessible(page, "exports viewer");
    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByText("Viewer of Production").waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "settings-viewer.png"), fullPage: true });
    await expectAccessible(page, "settings viewer");
    await page.goto(`${portal.app.url}/o/acme-health/t/production/exports`);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(ARTIFACTS, "exports-phone.png"), fullPage: true });
    await expectAccessible(page, "exports phone");
    await expectFitsWidth(page, "exports phone");
    await context.close();
  });
});
