import { z } from "zod";

// What tenants, projects and apps are called. Shared by the services, which
// validate, and the pages, which derive a slug as the name is typed.

export const NAME_MAX = 80;
export const SLUG_MAX = 40;
export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]*$/;

/** A trimmed display name: required, at most NAME_MAX characters, no control characters. */
export function nameField(what: string) {
  return z
    .string({ error: `Give the ${what} a name.` })
    .trim()
    .min(1, `Give the ${what} a name.`)
    .max(NAME_MAX, `Keep the name to ${NAME_MAX} characters or fewer.`)
    // PostgreSQL refuses U+0000 outright, and the others only confuse lists.
    .refine((name) => !/[\u0000-\u001f\u007f]/.test(name), "Use letters, digits, spaces and punctuation only.");
}

/** The slug a name suggests: lowercase letters, digits and single hyphens. */
export function slugFromName(name: string): string {
  return name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, SLUG_MAX)
    .replace(/-+$/, "");
}

/** A tenant's slug, as its address shows it (the database checks the same pattern). */
export const slugField = z
  .string()
  .trim()
  .min(1, "Give the tenant a slug: lowercase letters, digits and hyphens.")
  .max(SLUG_MAX, `Keep the slug to ${SLUG_MAX} characters or fewer.`)
  .regex(SLUG_PATTERN, "Use lowercase letters, digits and hyphens, starting with a letter or digit.");

/** Whether a database error is a unique constraint refusing a duplicate. */
export const isUniqueViolation = (e: unknown) => (e as { code?: string })?.code === "23505";
