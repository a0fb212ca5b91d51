import { CopyButton } from "~/components/CopyButton";

export type EmailOutcome = "sent" | "not_configured" | "failed";

const SAID: Record<EmailOutcome, (email: string) => string> = {
  sent: (email) => `Invitation emailed to ${email}. You can also copy the link and send it yourself.`,
  not_configured: (email) => `Email is not set up on this server. Copy the link and send it to ${email} yourself.`,
  failed: (email) => `The invitation exists, but the email to ${email} could not be sent. Copy the link and send it yourself.`,
};

/** A freshly made invitation link, to copy, and whether it went out by email. */
export function InvitationLink({ email, link, emailed, expiresAt }: { email: string; link: string; emailed: EmailOutcome; expiresAt: string | Date }) {
  return (
    <div className={emailed === "failed" ? "notice invitation-link warning" : "notice invitation-link"} role="status">
      <p>{SAID[emailed](email)}</p>
      <div className="copy-row">
        <input className="link-field" readOnly value={link} aria-label={`Invitation link for ${email}`} onFocus={(e) => e.target.select()} />
        <CopyButton value={link} />
      </div>
      <p className="muted small">The link works for 7 days, until {new Date(expiresAt).toUTCString()}, and only once.</p>
    </div>
  );
}
