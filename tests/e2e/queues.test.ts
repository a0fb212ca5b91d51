import { describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import { createExport } from "../../app/exports/exports.server";
import { expectAccessible } from "../setup/axe";
import { portalAndBrowser, signedIn } from "../setup/browser";
import { exportRow, holdTable } from "../setup/exports";
import { requesterFor } from "../setup/routes";

// One worker slot, so the exports below wait in line behind the one that holds it.
process.env.WORKER_CONCURRENCY = "1";
const portal = portalAndBrowser();
const EXPORTS_ROUTE = "routes/o.$org.t.$tenant.exports._index";
const FRAME_ROUTE = "routes/o.$org.t.$tenant";

describe("the queue, in a real browser", () => {
  it("shows each waiting export's place in line on the exports page, its own page and the Settings page's Jobs panel", { timeout: 90_000 }, async () => {
    const editor = await requesterFor("production-editor@acme.test", "production");
    const release = await holdTable("hsi_record");
    try {
      const ids: string[] = [];
      for (const name of ["Queue one", "Queue two", "Queue three"]) {
        const { id: projectId } = await getDb().insertInto("project").values({ tenant_id: editor.tenantId, name }).returning("id").executeTakeFirstOrThrow();
        ids.push((await createExport(getDb(), editor, { scope: { type: "project", projectId }, dataTypes: ["hsi_records"], format: "csv" })).id);
      }
      await expect.poll(async () => (await exportRow(ids[0])).status, { timeout: 20_000, interval: 100 }).toBe("running");

      const page = await signedIn(portal, "production-editor@acme.test");
      // The data requests the page makes itself: which route loaders each asks the server to run.
      const reads: (string[] | "all")[] = [];
      page.on("request", (r) => {
        const url = new URL(r.url());
        if (r.method() === "GET" && url.pathname.endsWith(".data")) reads.push(url.searchParams.get("_routes")?.split(",") ?? "all");
      });
      const row = (id: string) => page.locator(`.export-table tr[data-export-id="${id}"]`);
      await expect.poll(() => row(ids[1]).locator(".queue-position").textContent()).toBe("Queued, 1st in line");
      await expect.poll(() => row(ids[2]).locator(".queue-position").textContent()).toBe("Queued, 2nd in line");
      expect(await row(ids[0]).locator(".queue-position").count()).toBe(0);
      // While exports wait, the page polls its own loader, and not the tenant frame's.
      await expect.poll(() => reads.length, { timeout: 10_000 }).toBeGreaterThan(0);
      // While nothing the page shows changes, the browser sends its copy's tag and the portal answers 304 with no
      // body (the browser hands Remix its cached copy, so the response seen here has the cached status).
      const notModified: boolean[] = [];
      page.on("requestfinished", async (r) => {
        if (!new URL(r.url()).pathname.endsWith(".data")) return;
        const sent = (await r.allHeaders())["if-none-match"];
        const tag = (await (await r.response())?.allHeaders())?.etag;
        notModified.push(sent !== undefined && sent === tag && (await r.sizes()).responseBodySize === 0);
      });
      await expect.poll(() => notModified.filter(Boolean).length, { timeout: 10_000 }).toBeGreaterThan(0);
      expect(reads.every((routes) => routes !== "all" && routes.includes(EXPORTS_ROUTE) && !routes.includes(FRAME_ROUTE))).toBe(true);

      await page.goto(`${portal.app.url}/o/acme-health/t/production/exports/${ids[2]}`);
      await expect.poll(() => page.locator(".queue-position").textContent()).toBe("Queued, 2nd in line");

      await page.goto(`${portal.app.url}/o/acme-health/t/production/settings`);
      const jobs = page.getByRole("table", { name: "Jobs of Production" });
      await expect.poll(() => jobs.locator("tbody tr").count()).toBe(3);
      expect(await jobs.locator("tbody tr").first().getAttribute("data-export-id")).toBe(ids[0]);
      await expect.poll(() => jobs.locator(`tr[data-export-id="${ids[1]}"] .queue-position`).textContent()).toBe("Queued, 1st in line");
      // An editor sees their tenant's line, not the organization's.
      expect(await page.getByRole("table", { name: /Jobs per tenant/ }).count()).toBe(0);
      await expectAccessible(page, "settings with jobs");

      const admin = await signedIn(portal, "admin@acme.test");
      await admin.goto(`${portal.app.url}/o/acme-health/t/production/settings`);
      const perTenant = admin.getByRole("table", { name: "Jobs per tenant of Acme Health" });
      await expect.poll(() => perTenant.locator('tr[data-tenant="production"] td').allTextContents()).toEqual(["Production", "1", "2"]);

      // An action, cancelling the last in line, reads the frame again with the page.
      await page.goto(`${portal.app.url}/o/acme-health/t/production/exports`);
      reads.length = 0;
      await row(ids[2]).getByRole("button", { name: `Cancel export ${ids[2]}` }).click();
      await page.getByRole("alertdialog").getByRole("button", { name: "Cancel export", exact: true }).click();
      await expect.poll(() => row(ids[2]).getAttribute("data-status")).toBe("cancelled");
      expect(reads.some((routes) => routes === "all" || routes.includes(FRAME_ROUTE))).toBe(true);
    } finally {
      await release();
    }
  });
});
