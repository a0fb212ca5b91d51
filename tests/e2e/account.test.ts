import path from "node:path";
import { describe, expect, it } from "vitest";
import { ARTIFACTS, portalAndBrowser } from "../setup/browser";

const portal = portalAndBrowser();

describe("your account, in a real browser", () => {
  it("reached from the user menu: a wrong current password is marked on its field, and signing out everywhere asks first", async () => {
    const context = await portal.browser.newContext();
    const page = await context.newPage();
    await page.goto(`${portal.app.url}/sign-in`);
    await page.getByLabel("Email").fill("staging-editor@acme.test");
    await page.getByLabel("Password").fill("exportal-demo");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${portal.app.url}/o/acme-health/t/staging/exports`);

    await page.getByRole("banner").getByText("Staging Editor").click();
    await page.getByRole("link", { name: "Your account" }).click();
    await page.waitForURL(`${portal.app.url}/account`);
    await page.getByRole("heading", { name: "Your account" }).waitFor();
    await page.getByText("This session").waitFor();

    await page.getByLabel("Current password").fill("not-it-at-all");
    await page.getByLabel("New password", { exact: true }).fill("a-fresh-password");
    await page.getByLabel("Confirm new password").fill("a-fresh-password");
    await page.getByRole("button", { name: "Change password" }).click();
    await expect.poll(() => page.locator("#currentPassword-error").textContent()).toBe("That is not your current password.");
    expect(await page.getByLabel("Current password").getAttribute("aria-invalid")).toBe("true");
    await page.screenshot({ path: path.join(ARTIFACTS, "account.png"), fullPage: true });

    await page.getByRole("button", { name: "Sign out everywhere", exact: true }).click();
    const dialog = page.getByRole("alertdialog", { name: "Sign out everywhere?" });
    await dialog.waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "account-sign-out-everywhere.png") });
    await dialog.getByRole("button", { name: "Sign out everywhere" }).click();
    await page.waitForURL(`${portal.app.url}/sign-in`);
    await page.goto(`${portal.app.url}/account`);
    await page.waitForURL(/\/sign-in\?redirectTo=%2Faccount/);
    await context.close();
  });
});
