import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { useFetcher, useLoaderData } from "@remix-run/react";
import { getDb } from "~/lib/db.server";
import { publicOrigin } from "~/api/export-json.server";
import { refused } from "~/lib/action-result.server";
import { can } from "~/auth/permissions";
import { requireTenant, requesterOf, type TenantContext } from "~/auth/access.server";
import { listTenantMembers } from "~/tenants/tenant-data.server";
import { ConfirmAction } from "~/components/ConfirmAction";
import { Time } from "~/components/Time";
import { inviteMember, listPendingInvitations, resendInvitation, revokeInvitation } from "~/members/invitations.server";
import { changeMemberRoles, removeFromOrganization, removeFromTenant } from "~/members/member-changes.server";
import { listOrganizationMembers } from "~/members/members.server";
import { tenantChoicesOf } from "~/members/membership.server";
import { InviteDialog } from "~/members/InviteDialog";
import { ChangeRolesDialog } from "~/members/ChangeRolesDialog";
import { InvitationLink, type EmailOutcome } from "~/members/InvitationLink";
import { grantableOrgRoles, ORG_ROLE_LABELS, TENANT_ROLE_LABELS } from "~/members/RoleFields";

export const meta: MetaFunction = () => [{ title: "Members · Exportal" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "members.read");
  const requester = requesterOf(ctx);
  if (!can(ctx.ability, "members.manage")) {
    return { manage: null, tenant: ctx.tenant, members: await listTenantMembers(getDb(), requester) };
  }
  const { tenants, members } = await listOrganizationMembers(getDb(), requester);
  return {
    tenant: ctx.tenant,
    members: [],
    manage: {
      me: ctx.user.id,
      myRole: ctx.orgRole,
      orgName: ctx.org.name,
      tenants,
      members,
      invitations: await listPendingInvitations(getDb(), requester),
    },
  };
}

async function act(ctx: TenantContext, request: Request, form: FormData) {
  const requester = requesterOf(ctx);
  const db = getDb();
  const str = (name: string) => String(form.get(name) ?? "");
  switch (str("intent")) {
    case "invite": {
      const sent = await inviteMember(db, requester, { email: str("email"), role: str("role"), tenantRoles: tenantChoicesOf(form) }, publicOrigin(request));
      return data({ ok: true as const, sent }, { status: 201 });
    }
    case "resend":
      return data({ ok: true as const, sent: await resendInvitation(db, requester, str("invitationId"), publicOrigin(request)) });
    case "revoke":
      await revokeInvitation(db, requester, str("invitationId"));
      return data({ ok: true as const });
    case "roles":
      await changeMemberRoles(db, requester, { userId: str("userId"), role: str("role"), tenantRoles: tenantChoicesOf(form) });
      return data({ ok: true as const });
    case "remove-tenant":
      await removeFromTenant(db, requester, str("userId"));
      return data({ ok: true as const });
    case "remove-organization":
      await removeFromOrganization(db, requester, str("userId"));
      return data({ ok: true as const });
    default:
      return data({ ok: false as const, error: "Unknown action.", fieldErrors: { intent: "Unknown action." } }, { status: 400 });
  }
}

export async function action({ request, params }: ActionFunctionArgs) {
  const ctx = await requireTenant(request, params, "members.manage");
  const form = (await request.formData().catch(() => null)) ?? new FormData();
  try {
    return await act(ctx, request, form);
  } catch (error) {
    const values = { email: String(form.get("email") ?? ""), role: String(form.get("role") ?? ""), tenantRoles: tenantChoicesOf(form) };
    return refused(error, { values });
  }
}

export default function Members() {
  const { tenant, members, manage } = useLoaderData<typeof loader>();
  if (!manage) {
    return (
      <>
        <h1>Members</h1>
        <p className="muted">People who can open {tenant.name}. Organization owners and admins act as admins in every tenant.</p>
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" className="col-secondary">Email</th>
                <th scope="col">Role in {tenant.name}</th>
                <th scope="col" className="col-secondary">Organization role</th>
              </tr>
            </thead>
            <tbody>
              {members.map((m) => (
                <tr key={m.email}>
                  <td>
                    {m.name}
                    <span className="muted small phone-only">{m.email}</span>
                  </td>
                  <td className="col-secondary">{m.email}</td>
                  <td>{m.tenantRole ? TENANT_ROLE_LABELS[m.tenantRole] : `Admin (as organization ${m.orgRole})`}</td>
                  <td className="col-secondary">{ORG_ROLE_LABELS[m.orgRole as keyof typeof ORG_ROLE_LABELS] ?? m.orgRole}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </>
    );
  }
  return <ManageMembers tenant={tenant} manage={manage} />;
}

type Manage = NonNullable<ReturnType<typeof useLoaderData<typeof loader>>["manage"]>;

function ManageMembers({ tenant, manage }: { tenant: { id: string; name: string }; manage: Manage }) {
  const orgRoles = grantableOrgRoles(manage.myRole);
  const mayTouch = (orgRole: string) => orgRole !== "owner" || manage.myRole === "owner";
  return (
    <>
      <div className="page-header">
        <div>
          <h1>Members</h1>
          <p className="muted">
            Everyone in {manage.orgName}, with their role in {tenant.name}. Organization owners and admins act as admins in every tenant. Changes take effect on
            each person&apos;s next request.
          </p>
        </div>
        <InviteDialog orgRoles={orgRoles} tenants={manage.tenants} currentTenantId={tenant.id} />
      </div>

      <div className="table-wrap">
        <table className="members-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col" className="col-secondary">Email</th>
              <th scope="col">Role in {tenant.name}</th>
              <th scope="col" className="col-secondary">Organization role</th>
              <th scope="col"><span className="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {manage.members.map((m) => {
              const tenantRole = m.tenantRoles[tenant.id];
              const self = m.userId === manage.me;
              return (
                <tr key={m.userId}>
                  <td>
                    {m.name}{self && <span className="muted"> (you)</span>}
                    <span className="muted small phone-only">{m.email}</span>
                  </td>
                  <td className="col-secondary">{m.email}</td>
                  <td>{m.orgRole !== "member" ? `Admin (as organization ${m.orgRole})` : tenantRole ? TENANT_ROLE_LABELS[tenantRole] : "No access"}</td>
                  <td className="col-secondary">{ORG_ROLE_LABELS[m.orgRole]}</td>
                  <td>
                    {mayTouch(m.orgRole) && (
                      <div className="member-actions">
                        <ChangeRolesDialog member={m} orgRoles={orgRoles} tenants={manage.tenants} />
                        {m.orgRole === "member" && tenantRole && (
                          <ConfirmAction
                            label={`Remove from ${tenant.name}`}
                            accessibleLabel={`Remove from ${tenant.name}: ${m.name}`}
                            title={`Remove ${m.name} from ${tenant.name}?`}
                            consequence={`${m.name} can no longer open ${tenant.name} from their next request, and their API keys here stop working. They stay in ${manage.orgName} and keep their roles in other tenants.`}
                            confirmLabel={`Remove from ${tenant.name}`}
                            pendingLabel="Removing…"
                            fields={{ intent: "remove-tenant", userId: m.userId }}
                          />
                        )}
                        <ConfirmAction
                          label="Remove from organization"
                          accessibleLabel={`Remove from organization: ${m.name}`}
                          title={self ? `Leave ${manage.orgName}?` : `Remove ${m.name} from ${manage.orgName}?`}
                          consequence={`${self ? "You" : m.name} will lose access to every tenant of ${manage.orgName} on the next request, and ${self ? "your" : "their"} API keys here stop working. The account itself stays; only an invitation brings ${self ? "you" : "them"} back.`}
                          confirmLabel="Remove from organization"
                          pendingLabel="Removing…"
                          fields={{ intent: "remove-organization", userId: m.userId }}
                        />
                      </div>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>

      <h2 className="section-title">Pending invitations</h2>
      {manage.invitations.length === 0 ? (
        <div className="empty-state"><p>No pending invitations. Use Invite member to add someone.</p></div>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Roles</th>
                <th scope="col" className="col-secondary">Invited by</th>
                <th scope="col" className="col-secondary">Expires</th>
                <th scope="col"><span className="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {manage.invitations.map((i) => (
                <tr key={i.id}>
                  <td>{i.email}</td>
                  <td>
                    {ORG_ROLE_LABELS[(i.role ?? "member") as keyof typeof ORG_ROLE_LABELS]}
                    {i.tenants.length > 0 && `; ${i.tenants.map((t) => `${TENANT_ROLE_LABELS[t.role]} in ${t.name}`).join(", ")}`}
                  </td>
                  <td className="col-secondary">{i.invitedBy}</td>
                  <td className="col-secondary">{i.expired ? <strong>Expired</strong> : <Time value={i.expiresAt} />}</td>
                  <td>
                    {mayTouch(i.role ?? "member") && (
                      <div className="member-actions">
                        <ResendButton invitationId={i.id} email={i.email} />
                        <ConfirmAction
                          label="Revoke"
                          accessibleLabel={`Revoke the invitation for ${i.email}`}
                          title={`Revoke the invitation for ${i.email}?`}
                          consequence="The link stops working at once; opening it says the invitation was revoked. You can invite them again later."
                          confirmLabel="Revoke invitation"
                          pendingLabel="Revoking…"
                          dismissLabel="Keep it"
                          fields={{ intent: "revoke", invitationId: i.id }}
                        />
                      </div>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

/** Sends an invitation again (a new link, seven more days) and shows the new link. */
function ResendButton({ invitationId, email }: { invitationId: string; email: string }) {
  const fetcher = useFetcher<{ ok: boolean; error?: string; sent?: { email: string; link: string; emailed: EmailOutcome; expiresAt: string } }>();
  const busy = fetcher.state !== "idle";
  const result = fetcher.state === "idle" ? fetcher.data : undefined;
  return (
    <div className="resend">
      <fetcher.Form method="post">
        <input type="hidden" name="intent" value="resend" />
        <input type="hidden" name="invitationId" value={invitationId} />
        <button type="submit" className="button secondary small-button" aria-label={`Resend the invitation for ${email}`} disabled={busy}>
          {busy ? "Sending…" : "Resend"}
        </button>
      </fetcher.Form>
      {result?.ok === false && <p className="form-error" role="alert">{result.error}</p>}
      {result?.sent && <InvitationLink {...result.sent} />}
    </div>
  );
}
