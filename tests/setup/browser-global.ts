import type { TestProject } from "vitest/node";
import { chooseChromium, type ChromiumChoice } from "./chromium";

declare module "vitest" {
  export interface ProvidedContext {
    chromium: ChromiumChoice;
  }
}

/**
 * The browser project's global setup: finds (and, for the packaged fallback, unpacks) one Chromium before
 * any browser test file runs, and hands it to them (tests/setup/browser.ts).
 */
export default async function setup(project: TestProject) {
  const choice = await chooseChromium();
  if (choice.error) console.error(`\n${choice.error}\n`);
  project.provide("chromium", choice);
}
