import nodemailer from "nodemailer";

/** Whether outgoing mail is configured (`EXPORTAL_SMTP_URL`, e.g. `smtp://user:pass@mail.example:587`). */
export function mailConfigured(): boolean {
  return Boolean(process.env.EXPORTAL_SMTP_URL);
}

/** The sender of the portal's mail: `EXPORTAL_MAIL_FROM`, or Exportal at the portal's host. */
export function mailFrom(): string {
  if (process.env.EXPORTAL_MAIL_FROM) return process.env.EXPORTAL_MAIL_FROM;
  const host = process.env.BETTER_AUTH_URL ? new URL(process.env.BETTER_AUTH_URL).hostname : "localhost";
  return `Exportal <no-reply@${host}>`;
}

/**
 * Sends one plain-text message through `EXPORTAL_SMTP_URL` (the URL's query
 * takes nodemailer's options, such as `?ignoreTLS=true`). Throws when the
 * server refuses or cannot be reached; callers decide what that means.
 */
export async function sendMail(message: { to: string; subject: string; text: string }): Promise<void> {
  const url = process.env.EXPORTAL_SMTP_URL;
  if (!url) throw new Error("EXPORTAL_SMTP_URL is not set");
  const transport = nodemailer.createTransport(url);
  try {
    await transport.sendMail({ from: mailFrom(), ...message });
  } finally {
    transport.close();
  }
}
