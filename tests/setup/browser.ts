import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { startApp, type RunningApp } from "./app-server";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
];

/**
 * The Chromium to drive: CHROMIUM_PATH, else Debian's /usr/bin/chromium, else
 * the binary shipped in the @sparticuz/chromium package (with our flags, not
 * its Lambda defaults; it runs without a zygote). A missing
 * browser fails loudly, never skips.
 */
export async function launchBrowser(): Promise<Browser> {
  const configured = process.env.CHROMIUM_PATH;
  if (configured && !existsSync(configured)) throw new Error(`CHROMIUM_PATH points to ${configured}, which does not exist.`);
  if (configured || existsSync("/usr/bin/chromium")) {
    return chromium.launch({ executablePath: configured || "/usr/bin/chromium", args: FLAGS });
  }
  try {
    const packaged = (await import("@sparticuz/chromium")).default;
    return await chromium.launch({ executablePath: await packaged.executablePath(), args: [...FLAGS, "--no-zygote"] });
  } catch (error) {
    throw new Error(
      "No Chromium for the browser tests. Install Debian's (apt-get install -y chromium), set CHROMIUM_PATH to a Chromium " +
        `binary, or run npm install so the @sparticuz/chromium fallback is there. (${(error as Error).message})`,
    );
  }
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
