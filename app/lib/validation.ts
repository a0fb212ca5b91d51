import type { z } from "zod";
import { AppError } from "./errors";

/**
 * Zod's issues as one message per field, the first for each. Fields are
 * dotted paths (`scope.projectId`, `dateRange.to`); `topLevel` names only the
 * first part, for flat forms whose list items share one field
 * (`permissions.2` → `permissions`). An unknown key is reported under its name.
 */
export function fieldErrors(error: z.ZodError, { topLevel = false, fallback = "request" } = {}): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      errors[issue.keys[0]] ??= `Unknown field ${issue.keys.join(", ")}.`;
      continue;
    }
    const path = topLevel ? issue.path.slice(0, 1) : issue.path;
    errors[path.map(String).join(".") || fallback] ??= issue.message;
  }
  return errors;
}

/** A 400 naming one field, with the message a person reads beside it. */
export function invalid(field: string, message: string): AppError {
  return new AppError("INVALID_REQUEST", message, { fieldErrors: { [field]: message } });
}
