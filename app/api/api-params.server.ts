import type { z } from "zod";
import { AppError } from "../lib/errors";
import { fieldErrors } from "../lib/validation";

/** Validates query parameters: 400 naming the parameter and the rule, unknown parameters included. */
export function parseQuery<S extends z.ZodType>(url: URL, schema: S): z.output<S> {
  const raw: Record<string, string | string[]> = {};
  for (const name of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(name);
    raw[name] = values.length > 1 ? values : values[0];
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue.code === "unrecognized_keys") {
    const names = issue.keys.join(", ");
    throw new AppError("INVALID_REQUEST", `Unknown query parameter ${names}.`, { parameter: issue.keys[0] });
  }
  const parameter = issue.path.map(String).join(".") || "query";
  throw new AppError("INVALID_REQUEST", `Invalid query parameter ${parameter}: ${issue.message}`, { parameter, rule: issue.message });
}

/** Validates a JSON body: 400 with each field at fault and its rule. */
export function parseBody<S extends z.ZodType>(body: unknown, schema: S): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const fields = fieldErrors(parsed.error, { fallback: "body" });
  const [first] = Object.entries(fields);
  throw new AppError("INVALID_REQUEST", `Invalid field ${first[0]}: ${first[1]}`, { fieldErrors: fields });
}
