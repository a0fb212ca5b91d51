import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

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
