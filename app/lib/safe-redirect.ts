// Resolving against a made-up origin tells a path on this site from one that
// only looks like it: browsers drop tabs and newlines from a Location and read
// a backslash as a slash, so "/\t/evil.example" or "/\\evil.example" lead off-site.
const HERE = "http://exportal.invalid";

// C0 and C1 control characters (and DEL): no real path holds them, and some cannot be a header at all.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * A user-supplied "where next" (`redirectTo`) as a path on this site, or
 * `fallback` for anything else: another origin, a protocol-relative `//host`,
 * backslashes, control characters, or not a string.
 */
export function safeRedirect(to: unknown, fallback = "/"): string {
  if (typeof to !== "string" || !to.startsWith("/") || to.startsWith("//") || to.includes("\\") || CONTROL.test(to)) return fallback;
  let url: URL;
  try {
    url = new URL(to, HERE);
  } catch {
    return fallback;
  }
  if (url.origin !== HERE) return fallback;
  // The parsed form: percent-encoded, so it is always a valid header value.
  const path = url.pathname + url.search + url.hash;
  return path.startsWith("//") ? fallback : path;
}
