import path from "node:path";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { ARTIFACTS, portalAndBrowser } from "../setup/browser";

const portal = portalAndBrowser();

async function signIn(page: Page, email: string, next: string) {
  await page.goto(`${portal.app.url}${next}`);
  await page.waitForURL(/\/sign-in\?redirectTo=/);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("exportal-demo");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${portal.app.url}${next}`);
}

describe("members in a real browser", () => {
  it("an owner invites a Production editor, who joins by the link; the owner changes and then removes them", { timeout: 90_000 }, async () => {
    const owner = await (await portal.browser.newContext()).newPage();
    const members = "/o/acme-health/t/production/members";
    await signIn(owner, "owner@acme.test", members);
    await owner.getByRole("heading", { name: "Members" }).waitFor();

    await owner.getByRole("button", { name: "Invite member" }).click();
    const dialog = owner.getByRole("dialog", { name: "Invite member" });
    await dialog.getByLabel("Email").fill("pat.new@example.test");
    await dialog.getByLabel("Organization role").selectOption("member");
    await dialog.getByLabel("Role in Production").selectOption({ label: "Editor" });
    await dialog.getByLabel("Role in Staging").selectOption({ label: "No access" });
    await owner.screenshot({ path: path.join(ARTIFACTS, "members-invite-dialog.png") });
    await dialog.getByRole("button", { name: "Send invitation" }).click();
    const linkField = dialog.getByLabel("Invitation link for pat.new@example.test");
    await linkField.waitFor();
    await dialog.getByRole("button", { name: "Copy" }).waitFor();
    const link = await linkField.inputValue();
    expect(link).toContain("/invitations/");
    await dialog.getByRole("button", { name: "Done" }).click();
    await owner.getByRole("cell", { name: "pat.new@example.test", exact: true }).waitFor();
    await owner.screenshot({ path: path.join(ARTIFACTS, "members-page.png"), fullPage: true });

    const invitee = await (await portal.browser.newContext()).newPage();
    await invitee.goto(link);
    await invitee.getByRole("heading", { name: "Join Acme Health" }).waitFor();
    await invitee.getByLabel("Your name").fill("Pat New");
    await invitee.getByLabel("Password", { exact: true }).fill("pat-password-1");
    await invitee.getByLabel("Confirm password").fill("pat-password-2");
    await invitee.getByRole("button", { name: "Join Acme Health" }).click();
    await expect.poll(() => invitee.getByText("The passwords do not match.").isVisible()).toBe(true);
    await invitee.getByLabel("Password", { exact: true }).fill("pat-password-1");
    await invitee.getByLabel("Confirm password").fill("pat-password-1");
    await invitee.screenshot({ path: path.join(ARTIFACTS, "invitation-accept.png") });
    await invitee.getByRole("button", { name: "Join Acme Health" }).click();
    await invitee.waitForURL(`${portal.app.url}/o/acme-health/t/production/exports`);
    await invitee.getByRole("button", { name: "New export" }).waitFor();

    await owner.reload();
    await owner.getByRole("button", { name: "Change roles of Pat New" }).click();
    const roles = owner.getByRole("dialog", { name: "Change roles of Pat New" });
    await roles.getByLabel("Role in Production").selectOption({ label: "Viewer" });
    await roles.getByRole("button", { name: "Save roles" }).click();
    await roles.waitFor({ state: "hidden" });
    await invitee.reload();
    await invitee.getByRole("heading", { name: "Exports" }).waitFor();
    expect(await invitee.getByRole("button", { name: "New export" }).count()).toBe(0);

    await owner.getByRole("button", { name: "Remove Pat New from the organization" }).click();
    await owner.getByRole("alertdialog").getByRole("button", { name: "Remove from organization" }).click();
    await owner.getByRole("cell", { name: "Pat New", exact: true }).waitFor({ state: "detached" });
    const gone = await invitee.goto(`${portal.app.url}/o/acme-health/t/production/exports`);
    expect(gone?.status()).toBe(404);
  });
});
