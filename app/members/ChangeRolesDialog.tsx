import { useFetcher } from "@remix-run/react";
import { useState } from "react";
import type { OrgRole } from "../../db/schema";
import { ModalDialog } from "~/components/ModalDialog";
import { RoleFields } from "./RoleFields";

/** A member's Change roles button and its dialog: organization role and a role per tenant. */
export function ChangeRolesDialog(props: {
  member: { userId: string; name: string; orgRole: OrgRole; tenantRoles: Record<string, string> };
  orgRoles: OrgRole[];
  tenants: { id: string; name: string }[];
}) {
  const { member, orgRoles, tenants } = props;
  const [open, setOpen] = useState(false);
  const fetcher = useFetcher<{ ok: boolean; error?: string; fieldErrors?: Record<string, string> }>();
  const busy = fetcher.state !== "idle";
  // Close once saved; a refusal stays in the dialog.
  const [sent, setSent] = useState(false);
  if (sent && fetcher.state === "idle" && fetcher.data !== undefined) {
    setSent(false);
    if (fetcher.data.ok) setOpen(false);
  }
  const result = fetcher.state === "idle" ? fetcher.data : undefined;
  const errors = result?.ok === false ? result.fieldErrors ?? {} : {};
  const general = result?.ok === false && Object.keys(errors).length === 0 ? result.error : undefined;
  // The member's org role may be one the requester cannot give (shown, so the select is true to it).
  const roles = orgRoles.includes(member.orgRole) ? orgRoles : [member.orgRole, ...orgRoles];
  return (
    <>
      <button type="button" className="button secondary small-button" aria-label={`Change roles of ${member.name}`} onClick={() => setOpen(true)}>
        Change roles
      </button>
      <ModalDialog open={open} onClose={() => setOpen(false)} title={`Change roles of ${member.name}`}>
        <fetcher.Form method="post" className="dialog-body" onSubmit={() => setSent(true)}>
          <p className="muted">The change takes effect on their next page or API request.</p>
          {general && <p className="form-error" role="alert">{general}</p>}
          <input type="hidden" name="intent" value="roles" />
          <input type="hidden" name="userId" value={member.userId} />
          <RoleFields idPrefix={`roles-${member.userId}`} orgRoles={roles} orgRole={member.orgRole} tenants={tenants} tenantRoles={member.tenantRoles} errors={errors} />
          <footer className="dialog-footer">
            <button type="button" className="button secondary" onClick={() => setOpen(false)}>Cancel</button>
            <button type="submit" className="button primary" disabled={busy}>{busy ? "Saving…" : "Save roles"}</button>
          </footer>
        </fetcher.Form>
      </ModalDialog>
    </>
  );
}
