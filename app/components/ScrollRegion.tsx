import type { ReactNode } from "react";

/**
 * A box whose content scrolls inside it (long code lines, a wide or tall table). It is a named region that
 * takes keyboard focus, so someone without a mouse can scroll it with the arrow keys too (WCAG 2.1.1).
 */
export function ScrollRegion({ label, className, as: Tag = "div", children }: { label: string; className: string; as?: "div" | "pre"; children: ReactNode }) {
  return (
    <Tag className={className} tabIndex={0} role="region" aria-label={label}>
      {children}
    </Tag>
  );
}
