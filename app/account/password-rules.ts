// What a new password must be, shared by the forms (hints) and the server (checks).

/** better-auth's defaults, checked here first so each message lands beside its field. */
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

export interface NewPassword {
  password: string;
  confirmPassword: string;
}

/** A new password's own errors (length, the confirmation matching), by field: `field` names the new password's input. */
export function newPasswordErrors({ password, confirmPassword }: NewPassword, field: string): Record<string, string> {
  const errors: Record<string, string> = {};
  if (password.length < PASSWORD_MIN) errors[field] = `Use at least ${PASSWORD_MIN} characters.`;
  else if (password.length > PASSWORD_MAX) errors[field] = `Use at most ${PASSWORD_MAX} characters.`;
  if (!confirmPassword) errors.confirmPassword = "Type the new password again.";
  else if (confirmPassword !== password) errors.confirmPassword = "The two passwords do not match.";
  return errors;
}

/** How long a set-password link works. */
export const SET_PASSWORD_LINK_HOURS = 24;
