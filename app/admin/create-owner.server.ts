import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import type { DB } from "../../db/client";
import { issueSetPasswordToken } from "../account/set-password.server";
import { recordEvent, SYSTEM } from "../audit/audit.server";
import { AppError } from "../lib/errors";

export interface NewOwner {
  email: string;
  orgName: string;
  /** The person's name; the email's local part when not given. */
  name?: string;
  /** The organization's first tenant, where the owner lands. */
  tenantName: string;
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** "Acme Health, Inc." → "acme-health-inc". */
export function slugOf(name: string): string {
  return name.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 48).replace(/-+$/, "") || "org";
}

/** The slug, or the slug with -2, -3… when an organization already has it. */
async function freeOrgSlug(db: DB, name: string): Promise<string> {
  const base = slugOf(name);
  const taken = new Set((await db.selectFrom("organization").where("slug", "like", `${base}%`).select("slug").execute()).map((r) => r.slug));
  let slug = base;
  for (let n = 2; taken.has(slug); n++) slug = `${base}-${n}`;
  return slug;
}

/**
 * An operator's first step on an empty installation (or a new customer on a
 * running one): an organization, its first tenant, and its owner, who has no
 * password yet. Returns where they land and the one-time token with which
 * they set their password. Refuses an email already in use or an
 * organization name already taken.
 */
export async function createOwner(db: DB, input: NewOwner) {
  const email = input.email.trim().toLowerCase();
  const orgName = input.orgName.trim();
  const tenantName = input.tenantName.trim();
  const name = input.name?.trim() || email.split("@")[0];
  if (!EMAIL.test(email)) throw new AppError("INVALID_REQUEST", `“${input.email}” is not an email address.`, { fieldErrors: { email: "Not an email address." } });
  if (!orgName) throw new AppError("INVALID_REQUEST", "The organization needs a name.", { fieldErrors: { org: "Required." } });
  if (!tenantName) throw new AppError("INVALID_REQUEST", "The tenant needs a name.", { fieldErrors: { tenant: "Required." } });

  const created = await db.transaction().execute(async (trx) => {
    // Two operators racing to create the same organization: one waits for the other, then sees its row.
    await sql`select pg_advisory_xact_lock(hashtext('exportal.create-owner'))`.execute(trx);
    if (await trx.selectFrom("user").where(sql`lower(email)`, "=", email).select("id").executeTakeFirst()) {
      throw new AppError("CONFLICT", `An account with the email ${email} already exists.`, { fieldErrors: { email: "Already in use." } });
    }
    if (await trx.selectFrom("organization").where(sql`lower(name)`, "=", orgName.toLowerCase()).select("id").executeTakeFirst()) {
      throw new AppError("CONFLICT", `An organization named “${orgName}” already exists.`, { fieldErrors: { org: "Already taken." } });
    }
    const now = new Date();
    const userId = randomUUID();
    await trx.insertInto("user").values({ id: userId, email, name, emailVerified: false, image: null, updatedAt: now }).execute();
    const org = { id: randomUUID(), name: orgName, slug: await freeOrgSlug(trx, orgName) };
    await trx.insertInto("organization").values({ ...org, logo: null, metadata: null, createdAt: now }).execute();
    await trx.insertInto("member").values({ id: randomUUID(), organizationId: org.id, userId, role: "owner", createdAt: now }).execute();
    const tenant = await trx.insertInto("tenant").values({ organization_id: org.id, name: tenantName, slug: slugOf(tenantName) })
      .returning(["id", "slug"]).executeTakeFirstOrThrow();
    const place = { organization_id: org.id, tenant_id: null };
    const actor = { ...SYSTEM, label: "create-owner (command line)" };
    await recordEvent(trx, place, "organization.created", { type: "organization", id: org.id }, actor, { name: orgName, slug: org.slug });
    await recordEvent(trx, { ...place, tenant_id: tenant.id }, "tenant.created", { type: "tenant", id: tenant.id }, actor, { name: tenantName, slug: tenant.slug });
    await recordEvent(trx, place, "member.added", { type: "user", id: userId }, actor, { email, role: "owner" });
    return { userId, email, name, org, tenant: { id: tenant.id, name: tenantName, slug: tenant.slug } };
  });
  return { ...created, token: await issueSetPasswordToken(created.userId) };
}
