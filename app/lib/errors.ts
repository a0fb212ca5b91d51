export type ErrorCode = "INVALID_REQUEST" | "UNAUTHORIZED" | "FORBIDDEN" | "NOT_FOUND" | "CONFLICT" | "INTERNAL";

export const STATUS_OF: Record<ErrorCode, number> = {
  INVALID_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  INTERNAL: 500,
};

/**
 * An error a person can act on. `fieldErrors` names the request fields at
 * fault so forms can show each message next to its field.
 */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: { fieldErrors?: Record<string, string>; [key: string]: unknown } = {},
  ) {
    super(message);
    this.name = "AppError";
  }

  get status(): number {
    return STATUS_OF[this.code];
  }
}
