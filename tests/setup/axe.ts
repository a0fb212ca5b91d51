import { createRequire } from "node:module";
import type { AxeResults } from "axe-core";
import type { Page } from "playwright-core";

/** The WCAG 2.0 and 2.1 rules at levels A and AA: what the portal promises. */
const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
const AXE_SCRIPT = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

/**
 * Runs axe-core over what `page` shows now (an open modal dialog makes the rest of the page inert, so axe
 * checks what a user can reach) and throws a readable list of every violation. `what` names the page or
 * dialog in the message, e.g. "exports at 390×844".
 */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  // A navigation drops the script, so inject it again whenever this page lacks it.
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ path: AXE_SCRIPT });
  const results = await page.evaluate(
    (tags) => (window as unknown as { axe: { run(context: Document, options: object): Promise<AxeResults> } }).axe.run(document, { runOnly: { type: "tag", values: tags } }),
    TAGS,
  );
  if (results.violations.length === 0) return;
  const lines = results.violations.map((v) => {
    const targets = v.nodes.map((n) => `      ${n.target.join(" ")} ${n.html.slice(0, 160)}${n.failureSummary ? `: ${n.failureSummary.replace(/\s+/g, " ")}` : ""}`);
    return [`  ${v.id} (${v.impact ?? "no impact"}): ${v.help} — ${v.helpUrl}`, ...targets].join("\n");
  });
  throw new Error(`Accessibility violations on ${what} (${page.url()}):\n${lines.join("\n")}`);
}
