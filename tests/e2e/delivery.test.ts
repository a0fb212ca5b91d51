import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { portalAndBrowser, signedIn } from "../setup/browser";
import { expectAccessible } from "../setup/axe";

const portal = portalAndBrowser();
const BUCKET_SECRET = "browser-bucket-secret-never-shown";

// A receiver for the test event, answering 202.
const pings: string[] = [];
const receiver = http.createServer((req, res) => {
  let body = "";
  req.on("data", (c: Buffer) => (body += c));
  req.on("end", () => {
    pings.push(body);
    res.writeHead(202).end();
  });
});
let hookUrl: string;
beforeAll(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});
afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

describe("the Delivery page in a real browser", () => {
  it("an admin adds an endpoint (secret shown once, with Copy), tests it, reads its log, adds a bucket whose secret is never shown and tests it, and deletes the endpoint", { timeout: 120_000 }, async () => {
    const page = await signedIn(portal, "production-admin@acme.test");
    await page.getByRole("link", { name: "Delivery" }).click();
    await page.getByRole("heading", { name: "Delivery", level: 1 }).waitFor();
    await page.getByText("No webhook endpoints yet.").waitFor();
    await expectAccessible(page, "delivery page, empty");

    await page.getByRole("button", { name: "Add endpoint" }).click();
    const dialog = page.getByRole("dialog", { name: "Add webhook endpoint" });
    await dialog.getByLabel("URL").fill("http://example.com/hook");
    await dialog.getByRole("button", { name: "Add endpoint" }).click();
    await dialog.getByText(/http:\/\/ is allowed only for localhost and 127\.0\.0\.1/).waitFor();
    await dialog.getByLabel("URL").fill(hookUrl);
    await dialog.getByLabel("Description (optional)").fill("Warehouse loader");
    await dialog.getByRole("button", { name: "Add endpoint" }).click();
    const secret = await dialog.getByLabel("Signing secret").inputValue();
    expect(secret).toMatch(/^whsec_/);
    await dialog.getByRole("button", { name: /Copy/ }).waitFor();
    await expectAccessible(page, "the secret dialog");
    await dialog.getByRole("button", { name: "Done" }).click();
    await page.getByRole("cell", { name: hookUrl, exact: true }).waitFor();
    expect(await page.content()).not.toContain(secret);

    await page.getByRole("button", { name: `Send test event to ${hookUrl}` }).click();
    await page.getByText("Answered 202").waitFor();
    expect(JSON.parse(pings.at(-1)!).type).toBe("ping");
    await page.getByRole("link", { name: `Log of ${hookUrl}` }).click();
    const log = page.getByRole("table", { name: "Delivery log" }).or(page.getByRole("region", { name: "Delivery log" }));
    await log.getByText("Test event").waitFor();
    await log.getByText("Delivered").waitFor();

    await page.getByRole("button", { name: "Add bucket" }).click();
    const bucketDialog = page.getByRole("dialog", { name: "Add bucket" });
    await bucketDialog.getByLabel("Name").fill("Lake");
    await bucketDialog.getByLabel("Bucket", { exact: true }).fill("acme-lake");
    // A port nothing listens on: the test upload fails at once, and says so.
    await bucketDialog.getByLabel("Endpoint (optional)").fill("http://127.0.0.1:9");
    await bucketDialog.getByLabel("Access key id").fill("AKIABROWSERKEY1234");
    await bucketDialog.getByLabel("Secret access key").fill(BUCKET_SECRET);
    await bucketDialog.getByRole("button", { name: "Add bucket" }).click();
    await page.getByRole("cell", { name: "Lake", exact: true }).waitFor();
    await page.getByText("…1234").waitFor();
    expect(await page.content()).not.toContain(BUCKET_SECRET);
    await page.getByRole("button", { name: "Test upload to bucket Lake" }).click();
    await page.getByRole("status").getByText(/^The upload failed: /).waitFor();
    expect(await page.content()).not.toContain(BUCKET_SECRET);
    await expectAccessible(page, "delivery page with an endpoint, its log and a bucket");

    // Disabled after a confirmation: marked, and no test event can be sent until it is enabled again.
    await page.getByRole("button", { name: `Disable ${hookUrl}` }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Disable endpoint" }).click();
    await page.getByRole("button", { name: `Enable ${hookUrl}` }).waitFor();
    await page.getByRole("cell", { name: `${hookUrl} Disabled` }).waitFor();
    expect(await page.getByRole("button", { name: `Send test event to ${hookUrl}` }).count()).toBe(0);
    await expectAccessible(page, "a disabled endpoint");
    await page.getByRole("button", { name: `Enable ${hookUrl}` }).click();
    await page.getByRole("button", { name: `Send test event to ${hookUrl}` }).waitFor();

    await page.getByRole("button", { name: `Delete ${hookUrl}` }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Delete endpoint" }).click();
    await page.getByText("No webhook endpoints yet.").waitFor();
  });

  it("a viewer sees the page without the controls that change it", async () => {
    const page = await signedIn(portal, "production-viewer@acme.test");
    await page.getByRole("link", { name: "Delivery" }).click();
    await page.getByRole("heading", { name: "Delivery", level: 1 }).waitFor();
    expect(await page.getByRole("button", { name: "Add endpoint" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Add bucket" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: /^Test upload/ }).count()).toBe(0);
  });
});
