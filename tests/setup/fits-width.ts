import type { Page } from "playwright-core";

/** Fails when the page is wider than its window, i.e. the whole page scrolls sideways; names what sticks out. */
export async function expectFitsWidth(page: Page, what: string): Promise<void> {
  const { scrollWidth, innerWidth, widest } = await page.evaluate(() => {
    // What sticks out furthest, leaving out what a container scrolls or clips within the window. Only the
    // containers on an element's containing-block chain clip it: an absolutely positioned element escapes
    // every unpositioned one, which is how a visually hidden label can widen a whole page.
    const clipped = (el: Element) => {
      let box = el;
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const position = getComputedStyle(box).position;
        if (position === "fixed") return false;
        if (position === "absolute" && getComputedStyle(p).position === "static") continue;
        box = p;
        if (getComputedStyle(p).overflowX !== "visible" && p.getBoundingClientRect().right <= window.innerWidth + 0.5) return true;
      }
      return false;
    };
    const name = (el: Element) => `${el.tagName.toLowerCase()}${[...el.classList].map((c) => `.${c}`).join("")}`;
    const over = [...document.querySelectorAll("body *")]
      .map((el) => ({ el, right: el.getBoundingClientRect().right }))
      .filter((x) => x.right > window.innerWidth + 0.5 && !clipped(x.el))
      .sort((a, b) => b.right - a.right)
      .slice(0, 5)
      .map(({ el, right }) => `${name(el)} (right edge ${Math.round(right)})`);
    return { scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, widest: over };
  });
  if (scrollWidth > innerWidth) {
    throw new Error(`${what} is ${scrollWidth - innerWidth}px wider than its ${innerWidth}px window (${page.url()}); sticking out: ${widest.join(", ") || "?"}`);
  }
}
