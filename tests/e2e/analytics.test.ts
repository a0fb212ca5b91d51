import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { expectAccessible } from "../setup/axe";
import { ARTIFACTS, portalAndBrowser, signedIn } from "../setup/browser";
import { expectFitsWidth } from "../setup/fits-width";
import { day } from "../setup/dates";

const TENANT = "/o/acme-health/t/production";
const portal = portalAndBrowser();

describe("integrations, metrics and dashboards in a real browser", () => {
  it("a viewer sees the connected services and charts a metric over a chosen range", async () => {
    const page = await signedIn(portal, "production-viewer@acme.test");
    await page.goto(`${portal.app.url}${TENANT}/exports`);
    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Integrations" }).click();
    await page.getByRole("heading", { name: "Integrations", level: 1 }).waitFor();
    const cardio = page.getByRole("table", { name: "Integrations of Cardio Study" });
    await expect.poll(() => cardio.getByRole("row").count()).toBe(3);
    await expect.poll(() => cardio.textContent()).toContain("Acme Payments");
    await page.screenshot({ path: path.join(ARTIFACTS, "integrations.png"), fullPage: true });
    await expectAccessible(page, "integrations");

    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Metrics" }).click();
    await page.getByLabel("Metric", { exact: true }).selectOption("ga.sessions");
    await page.getByLabel("Range", { exact: true }).selectOption("12m");
    await page.getByRole("button", { name: "Show" }).click();
    await page.waitForURL(/metric=ga\.sessions/);
    const chart = page.getByRole("img", { name: /^Sessions, sum per week: \d+ points from/ });
    await chart.waitFor();
    expect(await chart.locator("path.chart-line").getAttribute("d")).toMatch(/^M[\d.]+,[\d.]+( L[\d.]+,[\d.]+){40,}$/);
    await page.screenshot({ path: path.join(ARTIFACTS, "metrics-chart.png"), fullPage: true });
    await expectAccessible(page, "metrics chart");

    // A custom range with To before From: the error sits beside To and the dates stay as typed.
    await page.getByLabel("Range", { exact: true }).selectOption("custom");
    const [from, to] = [day(-20), day(-29)];
    await page.getByLabel("From", { exact: true }).fill(from);
    await page.getByLabel("To (included)", { exact: true }).fill(to);
    await page.getByRole("button", { name: "Show" }).click();
    await expect.poll(() => page.locator("#metrics-to-error").textContent()).toBe("To must be on or after From.");
    expect(await page.getByLabel("To (included)", { exact: true }).getAttribute("aria-describedby")).toBe("metrics-to-error");
    expect(await page.getByLabel("From", { exact: true }).inputValue()).toBe(from);
    expect(await page.getByLabel("Metric", { exact: true }).inputValue()).toBe("ga.sessions");
    await page.context().close();
  });

  it("an editor opens a dashboard, exports it, imports the file again and opens the copy", async () => {
    const page = await signedIn(portal, "production-editor@acme.test");
    await page.goto(`${portal.app.url}${TENANT}/dashboards`);
    await page.getByRole("link", { name: "Overview" }).click();
    await page.getByRole("heading", { name: "Sessions per week" }).waitFor();
    await page.getByRole("img", { name: /^Sessions per week: / }).waitFor();
    await expect.poll(() => page.locator(".widget").count()).toBe(6);
    await page.screenshot({ path: path.join(ARTIFACTS, "dashboard.png"), fullPage: true });
    await expectAccessible(page, "dashboard");

    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export dashboard" }).click()]);
    expect(download.suggestedFilename()).toMatch(/^dashboard-[0-9a-f-]{36}\.json$/);
    const file = path.join(ARTIFACTS, "exported-dashboard.json");
    await download.saveAs(file);
    const exported = JSON.parse(readFileSync(file, "utf8"));
    expect(exported).toMatchObject({ format: "exportal.dashboard", formatVersion: 1, dashboard: { name: "Overview" } });

    await page.getByRole("link", { name: "Import dashboard" }).click();
    await page.getByLabel("File (dashboard-….json, or an export's dashboards.json)").setInputFiles(file);
    await page.getByRole("button", { name: "Import" }).click();
    const status = page.getByRole("status");
    await expect.poll(() => status.textContent()).toContain("Imported Overview with 6 widgets as “overview-2”.");
    await page.screenshot({ path: path.join(ARTIFACTS, "dashboard-imported.png"), fullPage: true });
    await expectAccessible(page, "dashboard imported");
    await page.getByRole("link", { name: "Open the dashboard" }).click();
    await page.getByRole("heading", { name: "Sessions per week" }).waitFor();
    expect(page.url()).not.toContain(exported.dashboard.id);

    // A file that is not a dashboard: the error names what is wrong, beside the file field.
    await page.goto(`${portal.app.url}${TENANT}/dashboards/import`);
    await page.getByLabel("File (dashboard-….json, or an export's dashboards.json)").setInputFiles({ name: "notes.json", mimeType: "application/json", buffer: Buffer.from('{"hello": 1}') });
    await page.getByRole("button", { name: "Import" }).click();
    await expect.poll(() => page.locator("#dashboard-file-error").textContent()).toContain('notes.json: This is not an Exportal dashboard file: its "format" is null');
    await expectAccessible(page, "dashboard import, refused file");

    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${portal.app.url}${TENANT}/dashboards`);
    await page.getByRole("link", { name: "Growth" }).click();
    await page.getByRole("heading", { name: "Stars" }).waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "dashboard-phone.png"), fullPage: true });
    await expectAccessible(page, "dashboard phone");
    await expectFitsWidth(page, "dashboard phone");
    await page.context().close();
  });
});
