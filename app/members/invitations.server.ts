import { randomBytes, randomUUID } from "node:crypto";
import { z } from "zod";
import type { DB } from "../../db/client";
import { ORG_ROLES } from "../../db/schema";
import { recordEvent } from "../audit/audit.server";
import { authorize, type Requester } from "../auth/requester";
import { AppError } from "../lib/errors";
import { fieldErrors, invalid } from "../lib/validation";
import { sendInvitationEmail, type EmailOutcome } from "./invitation-email.server";
import {
  INVITATION_TTL_MS, checkTenantRoles, hashInvitationToken, lockOrganization, managerRole, organizationTenants, requireOwnerFor,
} from "./membership.server";

const InviteInput = z.object({
  email: z.string().trim().toLowerCase().pipe(z.email({ error: "Enter an email address." })),
  role: z.enum(ORG_ROLES, { error: "Choose Member, Admin or Owner." }),
  tenantRoles: z.record(z.string(), z.string()),
});

export interface SentInvitation {
  invitationId: string;
  email: string;
  link: string;
  expiresAt: Date;
  /** Whether the link went out by email; it is in the page (and the server log) either way. */
  emailed: EmailOutcome;
}

/** A new unguessable link; only its hash is kept. */
function newToken(origin: string) {
  const token = randomBytes(32).toString("base64url");
  return { link: `${origin}/invitations/${token}`, hash: hashInvitationToken(token) };
}

/**
 * Invites `email` to the requester's organization with an organization role
 * and a role per tenant. Inviting an email that has a pending invitation
 * replaces that invitation (new roles, new link, seven days again); an email
 * that is already a member is refused on the email field. `origin` is where
 * the portal is reached, for the link.
 */
export async function inviteMember(
  db: DB,
  requester: Requester,
  input: { email: unknown; role: unknown; tenantRoles: Record<string, string> },
  origin: string,
): Promise<SentInvitation> {
  authorize(requester, "members.manage");
  const parsed = InviteInput.safeParse(input);
  if (!parsed.success) throw new AppError("INVALID_REQUEST", "Check the highlighted fields.", { fieldErrors: fieldErrors(parsed.error) });
  const { email, role } = parsed.data;
  const orgId = requester.organizationId;
  const { link, hash } = newToken(origin);
  const expiresAt = new Date(Date.now() + INVITATION_TTL_MS);

  const { invitationId, orgName } = await db.transaction().execute(async (trx) => {
    await lockOrganization(trx, orgId);
    const actorRole = await managerRole(trx, orgId, requester.actor.userId);
    if (role === "owner") requireOwnerFor(actorRole, "invite an owner", "role");
    const tenants = await organizationTenants(trx, orgId);
    const tenantRoles = checkTenantRoles(input.tenantRoles, tenants);
    const granted = tenants.flatMap((t) => (tenantRoles.get(t.id) ? [{ id: t.id, name: t.name, role: tenantRoles.get(t.id)! }] : []));
    if (role === "member" && granted.length === 0) throw invalid("tenants", "Give a role in at least one tenant, or the person could open nothing.");

    const org = await trx.selectFrom("organization").select("name").where("id", "=", orgId).executeTakeFirstOrThrow();
    const member = await trx
      .selectFrom("member as m")
      .innerJoin("user as u", "u.id", "m.userId")
      .where("m.organizationId", "=", orgId)
      .where((eb) => eb(eb.fn("lower", ["u.email"]), "=", email))
      .select("m.id")
      .executeTakeFirst();
    if (member) {
      const message = `${email} is already a member of ${org.name}. Change their roles in the list below.`;
      throw new AppError("CONFLICT", message, { fieldErrors: { email: message } });
    }

    const pending = await trx
      .selectFrom("invitation")
      .where("organizationId", "=", orgId)
      .where("email", "=", email)
      .where("status", "=", "pending")
      .select(["id", "role"])
      .executeTakeFirst();
    // An owner invitation is an owner's to replace, like any other way of making an owner.
    if (pending?.role === "owner") requireOwnerFor(actorRole, "replace an invitation to become an owner", "email");
    const id = pending?.id ?? randomUUID();
    const values = { role, expiresAt, inviterId: requester.actor.userId!, token_hash: hash };
    if (pending) {
      await trx.updateTable("invitation").set(values).where("id", "=", id).execute();
      await trx.deleteFrom("invitation_tenant_role").where("invitation_id", "=", id).execute();
    } else {
      await trx.insertInto("invitation").values({ id, organizationId: orgId, email, status: "pending", ...values }).execute();
    }
    if (granted.length > 0) {
      await trx.insertInto("invitation_tenant_role").values(granted.map((t) => ({ invitation_id: id, tenant_id: t.id, role: t.role }))).execute();
    }
    await recordEvent(trx, { organization_id: orgId, tenant_id: null }, "member.invited", { type: "invitation", id }, requester.actor, {
      email,
      role,
      tenants: granted,
      expiresAt: expiresAt.toISOString(),
      ...(pending ? { replaced: true } : {}),
    });
    return { invitationId: id, orgName: org.name };
  });

  const emailed = await sendInvitationEmail({ email, link, orgName, inviter: requester.actor.label, expiresAt });
  return { invitationId, email, link, expiresAt, emailed };
}

/** A pending invitation of the requester's organization (expired or not), locked, or 404. */
async function pendingInvitation(trx: DB, orgId: string, invitationId: string) {
  const row = await trx
    .selectFrom("invitation")
    .where("id", "=", invitationId)
    .where("organizationId", "=", orgId)
    .where("status", "=", "pending")
    .select(["id", "email", "role", "expiresAt"])
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw new AppError("NOT_FOUND", "No such pending invitation.");
  return row;
}

/** Sends a pending invitation again with a new link, valid seven days from now; the old link stops working. */
export async function resendInvitation(db: DB, requester: Requester, invitationId: string, origin: string): Promise<SentInvitation> {
  authorize(requester, "members.manage");
  const orgId = requester.organizationId;
  const { link, hash } = newToken(origin);
  const expiresAt = new Date(Date.now() + INVITATION_TTL_MS);
  const { email, orgName } = await db.transaction().execute(async (trx) => {
    await lockOrganization(trx, orgId);
    const actorRole = await managerRole(trx, orgId, requester.actor.userId);
    const invitation = await pendingInvitation(trx, orgId, invitationId);
    // A fresh link to an owner invitation makes an owner of whoever opens it.
    if (invitation.role === "owner") requireOwnerFor(actorRole, "resend an invitation to become an owner");
    await trx.updateTable("invitation").set({ expiresAt, token_hash: hash }).where("id", "=", invitation.id).execute();
    const org = await trx.selectFrom("organization").select("name").where("id", "=", orgId).executeTakeFirstOrThrow();
    await recordEvent(trx, { organization_id: orgId, tenant_id: null }, "invitation.resent", { type: "invitation", id: invitation.id }, requester.actor, {
      email: invitation.email,
      expiresAt: { from: invitation.expiresAt.toISOString(), to: expiresAt.toISOString() },
    });
    return { email: invitation.email, orgName: org.name };
  });
  const emailed = await sendInvitationEmail({ email, link, orgName, inviter: requester.actor.label, expiresAt });
  return { invitationId, email, link, expiresAt, emailed };
}

/** Revokes a pending invitation: its link then says it was revoked. */
export async function revokeInvitation(db: DB, requester: Requester, invitationId: string): Promise<void> {
  authorize(requester, "members.manage");
  const orgId = requester.organizationId;
  await db.transaction().execute(async (trx) => {
    await lockOrganization(trx, orgId);
    await managerRole(trx, orgId, requester.actor.userId);
    const invitation = await pendingInvitation(trx, orgId, invitationId);
    await trx.updateTable("invitation").set({ status: "canceled" }).where("id", "=", invitation.id).execute();
    await recordEvent(trx, { organization_id: orgId, tenant_id: null }, "invitation.revoked", { type: "invitation", id: invitation.id }, requester.actor, {
      email: invitation.email,
      role: invitation.role,
    });
  });
}

export interface PendingInvitation {
  id: string;
  email: string;
  role: string | null;
  expiresAt: Date;
  expired: boolean;
  invitedBy: string;
  tenants: { name: string; role: string }[];
}

/** The organization's pending invitations, newest first, expired ones included (they can be sent again). */
export async function listPendingInvitations(db: DB, requester: Requester): Promise<PendingInvitation[]> {
  authorize(requester, "members.manage");
  const rows = await db
    .selectFrom("invitation as i")
    .innerJoin("user as u", "u.id", "i.inviterId")
    .where("i.organizationId", "=", requester.organizationId)
    .where("i.status", "=", "pending")
    .select(["i.id", "i.email", "i.role", "i.expiresAt", "u.name as invitedBy"])
    .orderBy("i.createdAt", "desc")
    .execute();
  const grants = rows.length
    ? await db
        .selectFrom("invitation_tenant_role as r")
        .innerJoin("tenant as t", "t.id", "r.tenant_id")
        .where("r.invitation_id", "in", rows.map((r) => r.id))
        .select(["r.invitation_id", "t.name", "r.role"])
        .orderBy("t.name")
        .execute()
    : [];
  const now = Date.now();
  return rows.map((r) => ({
    ...r,
    expired: r.expiresAt.getTime() <= now,
    tenants: grants.filter((g) => g.invitation_id === r.id).map(({ name, role }) => ({ name, role })),
  }));
}
