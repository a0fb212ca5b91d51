import { randomUUID } from "node:crypto";
import type { DB } from "../../db/client";
import type { OrgRole } from "../../db/schema";
import { recordEvent, type AuditActor } from "../audit/audit.server";
import { getAuth } from "../auth/auth.server";
import { AppError } from "../lib/errors";
import { invalid } from "../lib/validation";
import { hashInvitationToken, lockOrganization, organizationTenants } from "./membership.server";

/** What an invitation link leads to: one that can be accepted, or why not. */
export type InvitationState = "pending" | "expired" | "revoked" | "accepted";

export interface InvitationView {
  id: string;
  state: InvitationState;
  email: string;
  role: OrgRole;
  org: { id: string; name: string; slug: string };
  /** Whether someone already has an account with the invitation's email (they sign in instead of choosing a password). */
  hasAccount: boolean;
}

function stateOf(row: { status: string; expiresAt: Date }, now = new Date()): InvitationState {
  if (row.status === "accepted") return "accepted";
  if (row.status !== "pending") return "revoked";
  return row.expiresAt <= now ? "expired" : "pending";
}

function byToken(db: DB, token: string) {
  return db
    .selectFrom("invitation as i")
    .innerJoin("organization as o", "o.id", "i.organizationId")
    .where("i.token_hash", "=", hashInvitationToken(token))
    .select(["i.id", "i.status", "i.email", "i.role", "i.expiresAt", "o.id as orgId", "o.name as orgName", "o.slug as orgSlug"]);
}

/** The invitation a link's token names, or null for a token no invitation has (any more). */
export async function findInvitation(db: DB, token: string): Promise<InvitationView | null> {
  const row = await byToken(db, token).executeTakeFirst();
  if (!row) return null;
  const user = await db.selectFrom("user").select("id").where((eb) => eb(eb.fn("lower", ["email"]), "=", row.email.toLowerCase())).executeTakeFirst();
  return {
    id: row.id,
    state: stateOf(row),
    email: row.email,
    role: row.role ?? "member",
    org: { id: row.orgId, name: row.orgName, slug: row.orgSlug },
    hasAccount: Boolean(user),
  };
}

/** Who accepts: a person choosing a password for a new account, or the signed-in user. */
export type Acceptor = { newAccount: { name: string; password: string; confirm: string } } | { userId: string };

/**
 * Accepts the invitation a link's token names, in one transaction: creates the
 * account when asked (better-auth's sign-up is closed, so the user and its
 * credential account are written here, the password hashed by better-auth),
 * adds the organization membership and the tenant roles, and marks the
 * invitation accepted. Answers where the person lands: the first tenant
 * granted. A signed-in user whose email is not the invitation's is refused.
 */
export async function acceptInvitation(
  db: DB,
  token: string,
  acceptor: Acceptor,
  client: { ip: string | null; userAgent: string | null },
): Promise<{ email: string; landing: string }> {
  const auth = await getAuth().$context;
  let passwordHash: string | null = null;
  if ("newAccount" in acceptor) {
    const { name, password, confirm } = acceptor.newAccount;
    const { minPasswordLength, maxPasswordLength } = auth.password.config;
    if (!name.trim()) throw invalid("name", "Enter your name.");
    if (name.trim().length > 100) throw invalid("name", "Use at most 100 characters.");
    if (password.length < minPasswordLength) throw invalid("password", `Use at least ${minPasswordLength} characters.`);
    if (password.length > maxPasswordLength) throw invalid("password", `Use at most ${maxPasswordLength} characters.`);
    if (confirm !== password) throw invalid("confirm", "The passwords do not match.");
    passwordHash = await auth.password.hash(password);
  }

  return db.transaction().execute(async (trx) => {
    const found = await byToken(trx, token).executeTakeFirst();
    if (!found) throw new AppError("NOT_FOUND", "This invitation link is not valid.");
    await lockOrganization(trx, found.orgId);
    // Read again under the lock: a revoke, a resend or another acceptance may have come first.
    const invitation = await byToken(trx, token).executeTakeFirst();
    if (!invitation) throw new AppError("GONE", "This invitation was replaced by a newer link.", { state: "revoked" });
    const state = stateOf(invitation);
    if (state !== "pending") throw new AppError("GONE", `This invitation is ${state}.`, { state });

    const email = invitation.email.toLowerCase();
    const existing = await trx.selectFrom("user").select(["id", "name", "email"]).where((eb) => eb(eb.fn("lower", ["email"]), "=", email)).executeTakeFirst();
    let user: { id: string; name: string };
    if ("newAccount" in acceptor) {
      if (existing) throw new AppError("CONFLICT", `An account with ${email} exists already. Sign in to accept the invitation.`);
      user = { id: randomUUID(), name: acceptor.newAccount.name.trim() };
      const now = new Date();
      await trx.insertInto("user").values({ id: user.id, email, name: user.name, emailVerified: true, image: null, updatedAt: now }).execute();
      await trx
        .insertInto("account")
        .values({ id: randomUUID(), accountId: user.id, providerId: "credential", userId: user.id, password: passwordHash, updatedAt: now })
        .execute();
    } else {
      if (!existing || existing.id !== acceptor.userId) {
        throw new AppError("FORBIDDEN", `This invitation is for ${email}. Sign out and sign in as ${email} to accept it.`, { state: "wrong_user" });
      }
      user = existing;
    }

    const role = invitation.role ?? "member";
    // Someone who became a member another way meanwhile keeps their organization role.
    await trx
      .insertInto("member")
      .values({ id: randomUUID(), organizationId: invitation.orgId, userId: user.id, role, createdAt: new Date() })
      .onConflict((oc) => oc.columns(["organizationId", "userId"]).doNothing())
      .execute();
    const grants = await trx.selectFrom("invitation_tenant_role").where("invitation_id", "=", invitation.id).select(["tenant_id", "role"]).execute();
    for (const g of grants) {
      await trx
        .insertInto("tenant_member")
        .values({ tenant_id: g.tenant_id, user_id: user.id, role: g.role })
        .onConflict((oc) => oc.columns(["tenant_id", "user_id"]).doUpdateSet({ role: g.role }))
        .execute();
    }
    await trx.updateTable("invitation").set({ status: "accepted" }).where("id", "=", invitation.id).execute();
    const actor: AuditActor = { userId: user.id, label: user.name, ...client };
    await recordEvent(trx, { organization_id: invitation.orgId, tenant_id: null }, "invitation.accepted", { type: "invitation", id: invitation.id }, actor, {
      email,
      role,
      newAccount: "newAccount" in acceptor,
    });

    const tenants = await organizationTenants(trx, invitation.orgId);
    const granted = new Set(grants.map((g) => g.tenant_id));
    // Org owners and admins open every tenant; without a tenant role of their own they land in the first.
    const first = tenants.find((t) => granted.has(t.id)) ?? (role === "member" ? undefined : tenants[0]);
    return { email, landing: first ? `/o/${invitation.orgSlug}/t/${first.slug}/exports` : "/" };
  });
}
