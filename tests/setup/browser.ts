import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, inject } from "vitest";
import { startApp, type RunningApp } from "./app-server";
import { launchChromium } from "./chromium";

/**
 * Launches the Chromium the browser project's global setup chose and checked (tests/setup/chromium.ts). None
 * working fails the test with how to get one: browser tests never skip.
 */
export async function launchBrowser(): Promise<Browser> {
  const choice = inject("chromium");
  if (!choice?.path) throw new Error(choice?.error ?? "No Chromium: the browser tests run in the vitest project \"browser\", whose global setup finds one.");
  return launchChromium(choice.path, choice.args);
}

/** Where browser tests leave screenshots and downloads. */
export const ARTIFACTS = path.resolve("test-results");

/**
 * The portal started as `npm start` starts it, and a Chromium, for one test
 * file: started before its tests, stopped after them.
 */
export function portalAndBrowser(): { readonly app: RunningApp; readonly browser: Browser } {
  const running = {} as { app: RunningApp; browser: Browser };
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    [running.app, running.browser] = await Promise.all([startApp(), launchBrowser()]);
  }, 90_000);
  afterAll(async () => {
    await running.browser?.close();
    await running.app?.stop();
  });
  return running;
}

/** A fresh browser context signed in as a demo person (password `exportal-demo`), on the page sign-in lands on. */
export async function signedIn(running: { readonly app: RunningApp; readonly browser: Browser }, email: string): Promise<Page> {
  const page = await (await running.browser.newContext({ acceptDownloads: true })).newPage();
  await page.goto(`${running.app.url}/sign-in`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("exportal-demo");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/exports$/);
  return page;
}
