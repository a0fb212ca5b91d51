import path from "node:path";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { ARTIFACTS, portalAndBrowser } from "../setup/browser";
import { expectAccessible } from "../setup/axe";
import { expectFitsWidth } from "../setup/fits-width";

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
  it("an owner invites a Production editor, who joins by the link and exports; the owner changes and then removes them; the audit log shows each step", { timeout: 120_000 }, async () => {
    const owner = await (await portal.browser.newContext()).newPage();
    const members = "/o/acme-health/t/production/members";
    await signIn(owner, "owner@acme.test", members);
    await owner.getByRole("heading", { name: "Members" }).waitFor();
    await expectAccessible(owner, "members page");

    await owner.getByRole("button", { name: "Invite member" }).click();
    const dialog = owner.getByRole("dialog", { name: "Invite member" });
    await dialog.getByLabel("Email").fill("pat.new@example.test");
    await dialog.getByLabel("Organization role").selectOption("member");
    await dialog.getByLabel("Role in Production").selectOption({ label: "Editor" });
    await dialog.getByLabel("Role in Staging").selectOption({ label: "No access" });
    await owner.screenshot({ path: path.join(ARTIFACTS, "members-invite-dialog.png") });
    await expectAccessible(owner, "invite dialog");
    await dialog.getByRole("button", { name: "Send invitation" }).click();
    const linkField = dialog.getByLabel("Invitation link for pat.new@example.test");
    await linkField.waitFor();
    await dialog.getByRole("button", { name: "Copy" }).waitFor();
    await expectAccessible(owner, "invite dialog with its link");
    const link = await linkField.inputValue();
    expect(link).toContain("/invitations/");
    await dialog.getByRole("button", { name: "Done" }).click();
    await owner.getByRole("cell", { name: "pat.new@example.test", exact: true }).waitFor();
    await owner.screenshot({ path: path.join(ARTIFACTS, "members-page.png"), fullPage: true });

    const invitee = await (await portal.browser.newContext()).newPage();
    await invitee.goto(link);
    await invitee.getByRole("heading", { name: "Join Acme Health" }).waitFor();
    await expectAccessible(invitee, "invitation acceptance page");
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

    // As a Production editor they start an export.
    await invitee.getByRole("button", { name: "New export" }).click();
    const newExport = invitee.getByRole("dialog", { name: "New export" });
    await newExport.getByRole("checkbox", { name: /^CSV/ }).check();
    await newExport.getByRole("checkbox", { name: /^NDJSON/ }).uncheck();
    await newExport.getByRole("button", { name: "Start export" }).click();
    await newExport.waitFor({ state: "hidden" });
    const exportId = await invitee.locator("tr[data-export-id]").first().getAttribute("data-export-id");
    expect(exportId).toBeTruthy();

    await owner.reload();
    await owner.getByRole("button", { name: "Change roles of Pat New" }).click();
    const roles = owner.getByRole("dialog", { name: "Change roles of Pat New" });
    await roles.getByLabel("Role in Production").selectOption({ label: "Viewer" });
    await expectAccessible(owner, "change roles dialog");
    await roles.getByRole("button", { name: "Save roles" }).click();
    await roles.waitFor({ state: "hidden" });
    await invitee.reload();
    await invitee.getByRole("heading", { name: "Exports" }).waitFor();
    expect(await invitee.getByRole("button", { name: "New export" }).count()).toBe(0);

    await owner.getByRole("button", { name: "Remove from organization: Pat New" }).click();
    await owner.getByRole("alertdialog").getByRole("button", { name: "Remove from organization" }).click();
    await owner.getByRole("cell", { name: "Pat New", exact: true }).waitFor({ state: "detached" });
    const gone = await invitee.goto(`${portal.app.url}/o/acme-health/t/production/exports`);
    expect(gone?.status()).toBe(404);

    // The audit log tells the story, each step with who did it and from where.
    // Invitations and organization roles belong to the organization, so its whole trail tells the story.
    await owner.goto(`${portal.app.url}/o/acme-health/t/production/audit?view=organization`);
    await owner.getByRole("heading", { name: "Audit log" }).waitFor();
    const steps: [action: string, actor: string][] = [
      ["Member invited", "Olivia Owner"],
      ["Invitation accepted", "Pat New"],
      ["Export requested", "Pat New"],
      ["Member's role changed", "Olivia Owner"],
      ["Member removed", "Olivia Owner"],
    ];
    for (const [action, actor] of steps) {
      const row = owner.locator("tbody tr").filter({ has: owner.getByRole("cell", { name: action, exact: true }) }).filter({ hasText: actor }).first();
      await row.waitFor();
      expect(await row.locator("td").nth(4).textContent()).toMatch(/^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/);
    }
    await owner.screenshot({ path: path.join(ARTIFACTS, "audit-log.png"), fullPage: true });
    await expectAccessible(owner, "audit log");
    await owner.setViewportSize({ width: 390, height: 844 });
    await owner.goto(`${portal.app.url}${members}`);
    await expectFitsWidth(owner, "members page at 390 px");
    await owner.screenshot({ path: path.join(ARTIFACTS, "members-page-phone.png"), fullPage: true });
  });
});
