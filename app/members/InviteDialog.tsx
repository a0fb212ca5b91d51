import { useFetcher } from "@remix-run/react";
import { useState } from "react";
import { FieldError } from "~/components/FieldError";
import type { OrgRole } from "../../db/schema";
import { InvitationLink, type EmailOutcome } from "./InvitationLink";
import { ModalDialog } from "~/components/ModalDialog";
import { RoleFields } from "./RoleFields";

export interface InviteResult {
  ok: boolean;
  error?: string;
  fieldErrors?: Record<string, string>;
  sent?: { email: string; link: string; emailed: EmailOutcome; expiresAt: string | Date };
  values?: { email: string; role: string; tenantRoles: Record<string, string> };
}

/** The Invite member button and its dialog; once sent, the dialog shows the link to copy. */
export function InviteDialog({ orgRoles, tenants, currentTenantId }: { orgRoles: OrgRole[]; tenants: { id: string; name: string }[]; currentTenantId: string }) {
  const [open, setOpen] = useState(false);
  // Each opening starts a fresh form (a new fetcher forgets the last result).
  const [round, setRound] = useState(0);
  return (
    <>
      <button type="button" className="button primary" onClick={() => setOpen(true)}>
        Invite member
      </button>
      <ModalDialog open={open} onClose={() => { setOpen(false); setRound((r) => r + 1); }} title="Invite member">
        <InviteForm key={round} orgRoles={orgRoles} tenants={tenants} currentTenantId={currentTenantId} onDone={() => { setOpen(false); setRound((r) => r + 1); }} />
      </ModalDialog>
    </>
  );
}

function InviteForm({ orgRoles, tenants, currentTenantId, onDone }: { orgRoles: OrgRole[]; tenants: { id: string; name: string }[]; currentTenantId: string; onDone: () => void }) {
  const fetcher = useFetcher<InviteResult>();
  const busy = fetcher.state !== "idle";
  const result = fetcher.state === "idle" ? fetcher.data : undefined;
  if (result?.ok && result.sent) {
    return (
      <>
        <InvitationLink {...result.sent} />
        <footer className="dialog-footer">
          <button type="button" className="button primary" onClick={onDone}>Done</button>
        </footer>
      </>
    );
  }
  const errors = result?.fieldErrors ?? {};
  const values = result?.values;
  const general = result?.error && Object.keys(errors).length === 0 ? result.error : undefined;
  return (
    <fetcher.Form method="post" className="dialog-body" key={JSON.stringify(values ?? {})}>
      <p className="muted">They get a link to join, valid for 7 days. People new to Exportal choose a password; others sign in.</p>
      {general && <p className="form-error" role="alert">{general}</p>}
      <input type="hidden" name="intent" value="invite" />
      <div className="field">
        <label htmlFor="invite-email">Email</label>
        <input id="invite-email" name="email" type="email" required autoComplete="off" defaultValue={values?.email}
          aria-invalid={!!errors.email} aria-describedby={errors.email ? "invite-email-error" : undefined} />
        <FieldError id="invite-email-error" message={errors.email} />
      </div>
      <RoleFields idPrefix="invite" orgRoles={orgRoles} orgRole={values?.role ?? "member"} tenants={tenants}
        tenantRoles={values?.tenantRoles ?? { [currentTenantId]: "viewer" }} errors={errors} />
      <footer className="dialog-footer">
        <button type="button" className="button secondary" onClick={onDone}>Cancel</button>
        <button type="submit" className="button primary" disabled={busy}>{busy ? "Sending…" : "Send invitation"}</button>
      </footer>
    </fetcher.Form>
  );
}
