import path from "node:path";
import { describe, expect, it } from "vitest";
import { ARTIFACTS, portalAndBrowser, signedIn } from "../setup/browser";

const portal = portalAndBrowser();

describe("tenants, projects and apps in a real browser", () => {
  it("the owner creates a tenant, fills it with a project and an app, renames them, archives it and restores it", async () => {
    const page = await signedIn(portal, "owner@acme.test");
    await page.goto(`${portal.app.url}/o/acme-health/t/production/exports`);
    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Tenants" }).click();
    await page.getByRole("heading", { name: "Tenants", level: 1 }).waitFor();

    // A taken slug is refused beside its field, and the form keeps what was typed.
    await page.getByLabel("Name", { exact: true }).fill("Staging");
    expect(await page.getByLabel("Slug", { exact: true }).inputValue()).toBe("staging");
    await page.getByRole("button", { name: "Create tenant" }).click();
    await page.getByText("The slug staging is already used").waitFor();
    expect(await page.getByLabel("Name", { exact: true }).inputValue()).toBe("Staging");
    await page.screenshot({ path: path.join(ARTIFACTS, "tenants-slug-taken.png"), fullPage: true });

    // The slug follows the name until it is edited by hand.
    await page.getByLabel("Name", { exact: true }).fill("Clinical Trials EU");
    expect(await page.getByLabel("Slug", { exact: true }).inputValue()).toBe("clinical-trials-eu");
    await page.getByRole("button", { name: "Create tenant" }).click();
    await page.waitForURL(/\/o\/acme-health\/t\/clinical-trials-eu\/projects$/);
    await page.getByText("This tenant has no projects yet.").waitFor();

    await page.getByLabel("Name", { exact: true }).fill("Heart Watch");
    await page.getByRole("button", { name: "Create project" }).click();
    await page.getByRole("heading", { name: "Heart Watch", level: 2 }).waitFor();
    expect(await page.getByLabel("Name", { exact: true }).inputValue()).toBe("");
    await page.getByText("Add an app to Heart Watch").click();
    await page.getByLabel("App name").fill("Watch");
    await page.getByLabel("Platform").fill("watchOS");
    await page.getByRole("button", { name: "Add app" }).click();
    await page.getByRole("button", { name: "Rename Watch" }).waitFor();

    await page.getByRole("button", { name: "Rename Heart Watch" }).click();
    await page.getByLabel("New name for project Heart Watch").fill("Heart Watch 2");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("heading", { name: "Heart Watch 2", level: 2 }).waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "projects-managed.png"), fullPage: true });

    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Tenants" }).click();
    await page.getByRole("button", { name: "Archive Clinical Trials EU" }).click();
    const dialog = page.getByRole("alertdialog", { name: "Archive “Clinical Trials EU”?" });
    await dialog.getByText("its API keys stop working").waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "tenants-archive-dialog.png") });
    await dialog.getByRole("button", { name: "Archive tenant" }).click();
    await page.getByText("Clinical Trials EU is archived: read-only.").waitFor();
    await page.getByRole("option", { name: "Clinical Trials EU (archived)" }).waitFor({ state: "attached" });
    await page.screenshot({ path: path.join(ARTIFACTS, "tenants-archived.png"), fullPage: true });

    await page.getByRole("button", { name: "Restore Clinical Trials EU" }).click();
    await page.getByText("Clinical Trials EU is archived: read-only.").waitFor({ state: "detached" });
    await page.getByRole("button", { name: "Archive Clinical Trials EU" }).waitFor();
  });
});
