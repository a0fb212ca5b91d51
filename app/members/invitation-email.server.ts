import { mailConfigured, sendMail } from "../lib/mail.server";

/** `sent`; `not_configured` (no SMTP: the link is in the page and the server log); `failed` (the server refused or was unreachable). */
export type EmailOutcome = "sent" | "not_configured" | "failed";

/**
 * Emails an invitation link when SMTP is configured. The invitation exists
 * whatever happens here, and the page shows the link; the server log keeps it
 * too whenever it did not go out, so it is never lost.
 */
export async function sendInvitationEmail(invitation: { email: string; link: string; orgName: string; inviter: string; expiresAt: Date }): Promise<EmailOutcome> {
  const { email, link, orgName, inviter, expiresAt } = invitation;
  if (!mailConfigured()) {
    console.info(`[invitations] no SMTP configured (EXPORTAL_SMTP_URL); invitation link for ${email}: ${link}`);
    return "not_configured";
  }
  try {
    await sendMail({
      to: email,
      subject: `Join ${orgName} on Exportal`,
      text: [
        `${inviter} invited you to ${orgName} on Exportal.`,
        "",
        `Open this link to join: ${link}`,
        "",
        `The link works until ${expiresAt.toUTCString()}. If you did not expect this invitation, ignore this email.`,
      ].join("\n"),
    });
    return "sent";
  } catch (error) {
    console.error(`[invitations] could not email the invitation to ${email} (${(error as Error).message}); its link: ${link}`);
    return "failed";
  }
}
