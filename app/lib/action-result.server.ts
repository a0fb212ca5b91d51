import { data } from "@remix-run/node";
import { AppError } from "./errors";

/**
 * What a form action answers when its service refused the request: the
 * message, each field's error, and `kept` (what the user typed, so the form
 * shows it again), with the error's status. Anything but an AppError is a bug
 * and is thrown on; NOT_FOUND answers 404 like an unknown page.
 */
export function refused<T extends object>(error: unknown, kept: T) {
  if (!(error instanceof AppError)) throw error;
  if (error.code === "NOT_FOUND") throw new Response("Not found", { status: 404 });
  return data({ ok: false as const, error: error.message, fieldErrors: error.details.fieldErrors ?? {}, ...kept }, { status: error.status });
}

/**
 * What a page loader answers when a service it reads through refuses: an id
 * from another tenant (NOT_FOUND) is a page that does not exist, a missing
 * permission a 403; anything else is thrown on.
 */
export async function orPageError<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof AppError && (error.code === "NOT_FOUND" || error.code === "FORBIDDEN")) throw new Response(error.code === "NOT_FOUND" ? "Not found" : error.message, { status: error.status });
    throw error;
  }
}
