import { Link } from "@remix-run/react";

/** "← Previous · Page 2 of 7 · 160 participants · Next →", shown only when there is more than one page. */
export function Pagination({ page, pages, total, noun, href, labels = ["← Previous", "Next →"] }: {
  page: number;
  pages: number;
  total: number;
  /** What is counted, plural: "exports". */
  noun: string;
  href: (page: number) => string;
  labels?: [previous: string, next: string];
}) {
  if (pages <= 1) return null;
  return (
    <nav className="pagination" aria-label={`Pages of ${noun}`}>
      {page > 1 ? <Link to={href(page - 1)}>{labels[0]}</Link> : <span />}
      <span className="muted">
        Page {page} of {pages} · {total.toLocaleString()} {noun}
      </span>
      {page < pages ? <Link to={href(page + 1)}>{labels[1]}</Link> : <span />}
    </nav>
  );
}

// Far past any real list, small enough that its offset stays a safe bigint.
const MAX_PAGE = 1_000_000;

/** The `?page=` of a URL: a whole number from 1 (at most MAX_PAGE), else 1. */
export function pageParam(url: URL): number {
  const requested = Number(url.searchParams.get("page"));
  return Number.isInteger(requested) && requested > 0 ? Math.min(requested, MAX_PAGE) : 1;
}

/** For a `?page=` past the last page, the same URL on the last page (for a redirect); else null. */
export function lastPageHref(url: URL, page: number, pages: number): string | null {
  if (page <= pages) return null;
  const params = new URLSearchParams(url.search);
  params.set("page", String(pages));
  return `${url.pathname}?${params}`;
}
