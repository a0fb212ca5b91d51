import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import * as tenantsPage from "../../app/routes/o.$org.t.$tenant.tenants";
import * as layout from "../../app/routes/o.$org.t.$tenant";
import { callRoute, makeRequest, signIn, ROLES, type Role } from "../setup/routes";
import { tenantBySlug } from "../setup/api";

// Org owners and admins create, rename, archive and restore tenants; nobody
// else may, and those who may not know the tenant exists get 404.
const PROD = { org: "acme-health", tenant: "production" };
const url = "/o/acme-health/t/production/tenants";

const EXPECTED: Record<Role, number> = { owner: 200, orgAdmin: 200, tenantAdmin: 403, editor: 403, viewer: 403, otherTenantAdmin: 404, otherOrgOwner: 404 };

const cookies = {} as Record<Role, string>;
const post = (role: Role, form: Record<string, string>) => callRoute(tenantsPage.action, makeRequest(url, { cookie: cookies[role], form }), PROD);

async function tenantRow(slug: string) {
  return getDb().selectFrom("tenant").select(["id", "name", "slug", "archived_at", "organization_id"]).where("slug", "=", slug).executeTakeFirst();
}
async function events(tenantId: string) {
  return getDb().selectFrom("audit_event").select(["action", "organization_id", "tenant_id", "actor_label", "details"]).where("subject_type", "=", "tenant").where("subject_id", "=", tenantId).orderBy("id").execute();
}

beforeAll(async () => {
  for (const [role, email] of Object.entries(ROLES)) cookies[role as Role] = await signIn(email);
});

describe("who may manage tenants", () => {
  for (const role of Object.keys(ROLES) as Role[]) {
    const expected = EXPECTED[role];
    it(`${role}: list, create, rename, archive and restore answer ${expected === 200 ? "allowed" : expected}`, async () => {
      const slug = `t-${role.toLowerCase()}`;
      const list = await callRoute(tenantsPage.loader, makeRequest(url, { cookie: cookies[role] }), PROD);
      expect(list.status).toBe(expected);

      const created = await post(role, { intent: "create", name: `Tenant of ${role}`, slug });
      const row = await tenantRow(slug);
      if (expected !== 200) {
        expect(created.status).toBe(expected);
        expect(row).toBeUndefined();
        // And on an existing tenant: nothing changes.
        const staging = await tenantBySlug("staging");
        const forms: Record<string, string>[] = [{ intent: "rename", tenantId: staging.id, name: "Renamed" }, { intent: "archive", tenantId: staging.id }, { intent: "restore", tenantId: staging.id }];
        for (const form of forms) {
          expect((await post(role, form)).status).toBe(expected);
        }
        expect(await tenantRow("staging")).toMatchObject({ name: "Staging", archived_at: null });
        return;
      }
      // Creating opens the new tenant.
      expect(created.status).toBe(302);
      expect(created.headers.get("Location")).toBe(`/o/acme-health/t/${slug}/projects`);
      expect(row).toMatchObject({ name: `Tenant of ${role}`, archived_at: null });
      expect(list.data.tenants.map((t: any) => t.slug)).toContain("staging");

      expect((await post(role, { intent: "rename", tenantId: row!.id, name: `  Renamed by ${role}  ` })).status).toBe(200);
      expect((await tenantRow(slug))!.name).toBe(`Renamed by ${role}`);

      expect((await post(role, { intent: "archive", tenantId: row!.id })).status).toBe(200);
      expect((await tenantRow(slug))!.archived_at).toBeInstanceOf(Date);
      // Archiving twice says so.
      const again = await post(role, { intent: "archive", tenantId: row!.id });
      expect(again.status).toBe(409);
      expect(again.data.error).toContain("already archived");
      const listed = await callRoute(tenantsPage.loader, makeRequest(url, { cookie: cookies[role] }), PROD);
      expect(listed.data.tenants.find((t: any) => t.slug === slug).archived_at).not.toBeNull();

      expect((await post(role, { intent: "restore", tenantId: row!.id })).status).toBe(200);
      expect((await tenantRow(slug))!.archived_at).toBeNull();

      const trail = await events(row!.id);
      expect(trail.map((e) => e.action)).toEqual(["tenant.created", "tenant.renamed", "tenant.archived", "tenant.restored"]);
      for (const e of trail) expect(e).toMatchObject({ organization_id: row!.organization_id, tenant_id: row!.id });
      expect(trail[1].details).toEqual({ from: `Tenant of ${role}`, to: `Renamed by ${role}` });
      expect(trail[0].actor_label).toBe(role === "owner" ? "Olivia Owner" : "Adam Admin");
    });
  }

  it("another organization's tenant is not found, even for an org owner", async () => {
    const globex = await tenantBySlug("main");
    const forms: Record<string, string>[] = [{ intent: "rename", tenantId: globex.id, name: "Taken over" }, { intent: "archive", tenantId: globex.id }];
    for (const form of forms) {
      expect((await post("owner", form)).status).toBe(404);
    }
    expect((await post("owner", { intent: "archive", tenantId: "not-a-uuid" })).status).toBe(404);
    expect(await tenantRow("main")).toMatchObject({ name: "Main", archived_at: null });
  });

  it("the Tenants section shows only to those who hold tenants.manage", async () => {
    const owners = await callRoute(layout.loader, makeRequest(url, { cookie: cookies.owner }), PROD);
    expect(owners.data.shell.permissions).toContain("tenants.manage");
    const admins = await callRoute(layout.loader, makeRequest(url, { cookie: cookies.tenantAdmin }), PROD);
    expect(admins.data.shell.permissions).not.toContain("tenants.manage");
  });
});

describe("bad input", () => {
  it("an empty name answers 400 naming the field and keeps what was typed", async () => {
    const res = await post("owner", { intent: "create", name: "   ", slug: "empty-name" });
    expect(res.status).toBe(400);
    expect(res.data.fieldErrors).toEqual({ name: "Give the tenant a name." });
    expect(res.data.values).toEqual({ name: "   ", slug: "empty-name" });
    expect(await tenantRow("empty-name")).toBeUndefined();
  });

  it("a slug taken in the organization answers 400 naming the slug; another organization's slug is free", async () => {
    const res = await post("owner", { intent: "create", name: "Staging again", slug: "staging" });
    expect(res.status).toBe(400);
    expect(res.data.fieldErrors.slug).toContain("already used");
    expect(res.data.values).toEqual({ name: "Staging again", slug: "staging" });
    // A derived slug is checked the same way.
    const derived = await post("owner", { intent: "create", name: "Production", slug: "" });
    expect(derived.status).toBe(400);
    expect(derived.data.fieldErrors.slug).toContain("production");
    // Globex has a tenant "main"; Acme may have one too.
    expect((await post("owner", { intent: "create", name: "Main", slug: "" })).status).toBe(302);
  });

  it("a slug in the wrong format, or too long, answers 400 naming the slug", async () => {
    for (const slug of ["Bad Slug", "-leading", "ünïcode", "a".repeat(41)]) {
      const res = await post("owner", { intent: "create", name: "Format test", slug });
      expect(res.status, slug).toBe(400);
      expect(Object.keys(res.data.fieldErrors)).toEqual(["slug"]);
    }
    // A name with nothing to make a slug from needs one typed.
    const symbols = await post("owner", { intent: "create", name: "!!!", slug: "" });
    expect(symbols.status).toBe(400);
    expect(Object.keys(symbols.data.fieldErrors)).toEqual(["slug"]);
  });

  it("derives the slug from the name when none is given", async () => {
    const res = await post("orgAdmin", { intent: "create", name: "  Clinical Trials — EU 2026 ", slug: "" });
    expect(res.headers.get("Location")).toBe("/o/acme-health/t/clinical-trials-eu-2026/projects");
    expect((await tenantRow("clinical-trials-eu-2026"))!.name).toBe("Clinical Trials — EU 2026");
  });

  it("renaming to an empty or overlong name answers 400 naming the field; the name stays", async () => {
    const staging = await tenantBySlug("staging");
    for (const name of ["", "x".repeat(81)]) {
      const res = await post("owner", { intent: "rename", tenantId: staging.id, name });
      expect(res.status).toBe(400);
      expect(Object.keys(res.data.fieldErrors)).toEqual(["name"]);
    }
    expect((await tenantRow("staging"))!.name).toBe("Staging");
  });

  it("an unknown intent answers 400", async () => {
    expect((await post("owner", { intent: "delete" })).status).toBe(400);
  });
});
