import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import * as projectsPage from "../../app/routes/o.$org.t.$tenant.projects";
import { callRoute, makeRequest, signIn, ROLES, type Role } from "../setup/routes";
import { tenantBySlug } from "../setup/api";

// Tenant admins (and org owners and admins) create and rename projects and
// apps; editors and viewers get 403; those outside the tenant 404.
const PROD = { org: "acme-health", tenant: "production" };
const STAGING = { org: "acme-health", tenant: "staging" };
const url = (t: { tenant: string }) => `/o/acme-health/t/${t.tenant}/projects`;

const EXPECTED: Record<Role, number> = { owner: 200, orgAdmin: 200, tenantAdmin: 200, editor: 403, viewer: 403, otherTenantAdmin: 404, otherOrgOwner: 404 };

const cookies = {} as Record<Role, string>;
let prodId: string;
let cardioId: string;
let phoneId: string;
const post = (role: Role, form: Record<string, string>, where = PROD) => callRoute(projectsPage.action, makeRequest(url(where), { cookie: cookies[role], form }), where);

const projectNamed = (name: string) => getDb().selectFrom("project").select(["id", "name", "description"]).where("tenant_id", "=", prodId).where("name", "=", name).executeTakeFirst();
const appNamed = (projectId: string, name: string) => getDb().selectFrom("app").select(["id", "name", "platform"]).where("project_id", "=", projectId).where("name", "=", name).executeTakeFirst();
const eventsOf = (type: string, id: string) =>
  getDb().selectFrom("audit_event").select(["action", "organization_id", "tenant_id", "details"]).where("subject_type", "=", type).where("subject_id", "=", id).orderBy("id").execute();

beforeAll(async () => {
  for (const [role, email] of Object.entries(ROLES)) cookies[role as Role] = await signIn(email);
  prodId = (await tenantBySlug("production")).id;
  cardioId = (await projectNamed("Cardio Study"))!.id;
  phoneId = (await appNamed(cardioId, "Phone"))!.id;
});

describe("who may create and rename projects and apps", () => {
  for (const role of Object.keys(ROLES) as Role[]) {
    const expected = EXPECTED[role];
    it(`${role}: ${expected === 200 ? "allowed" : expected}`, async () => {
      const name = `Project of ${role}`;
      const created = await post(role, { intent: "create-project", name, description: "A test" });
      expect(created.status).toBe(expected);
      if (expected !== 200) {
        expect(await projectNamed(name)).toBeUndefined();
        for (const form of <Record<string, string>[]>[
          { intent: "rename-project", projectId: cardioId, name: "Hijacked" },
          { intent: "create-app", projectId: cardioId, name: "Hijacked", platform: "iOS" },
          { intent: "rename-app", appId: phoneId, name: "Hijacked" },
        ]) {
          expect((await post(role, form)).status).toBe(expected);
        }
        expect(await projectNamed("Cardio Study")).toBeDefined();
        expect(await appNamed(cardioId, "Phone")).toBeDefined();
        expect(await appNamed(cardioId, "Hijacked")).toBeUndefined();
        return;
      }
      const project = (await projectNamed(name))!;
      expect(project.description).toBe("A test");
      expect((await post(role, { intent: "rename-project", projectId: project.id, name: `${name}, renamed` })).status).toBe(200);
      expect((await post(role, { intent: "create-app", projectId: project.id, name: "Watch", platform: " watchOS " })).status).toBe(200);
      const app = (await appNamed(project.id, "Watch"))!;
      expect(app.platform).toBe("watchOS");
      expect((await post(role, { intent: "rename-app", appId: app.id, name: "Watch Ultra" })).status).toBe(200);

      const page = await callRoute(projectsPage.loader, makeRequest(url(PROD), { cookie: cookies[role] }), PROD);
      expect(page.data.canManage).toBe(true);
      const shown = page.data.projects.find((p: any) => p.id === project.id);
      expect(shown).toMatchObject({ name: `${name}, renamed`, apps: [{ name: "Watch Ultra", platform: "watchOS" }] });

      const projectTrail = await eventsOf("project", project.id);
      expect(projectTrail.map((e) => e.action)).toEqual(["project.created", "project.renamed"]);
      expect(projectTrail[1].details).toEqual({ from: name, to: `${name}, renamed` });
      const appTrail = await eventsOf("app", app.id);
      expect(appTrail.map((e) => e.action)).toEqual(["app.created", "app.renamed"]);
      expect(appTrail[1].details).toEqual({ from: "Watch", to: "Watch Ultra" });
      for (const e of [...projectTrail, ...appTrail]) expect(e).toMatchObject({ tenant_id: prodId, organization_id: (await tenantBySlug("production")).organization_id });
    });
  }

  it("editors and viewers see the page without the forms", async () => {
    const page = await callRoute(projectsPage.loader, makeRequest(url(PROD), { cookie: cookies.editor }), PROD);
    expect(page.status).toBe(200);
    expect(page.data.canManage).toBe(false);
  });

  it("a tenant admin cannot reach another tenant's project or app through their own tenant", async () => {
    for (const form of <Record<string, string>[]>[
      { intent: "rename-project", projectId: cardioId, name: "Hijacked" },
      { intent: "create-app", projectId: cardioId, name: "Hijacked", platform: "iOS" },
      { intent: "rename-app", appId: phoneId, name: "Hijacked" },
    ]) {
      expect((await post("otherTenantAdmin", form, STAGING)).status).toBe(404);
    }
    expect(await projectNamed("Cardio Study")).toBeDefined();
  });
});

describe("bad input", () => {
  it("an empty or overlong project name answers 400 naming the field and keeps what was typed", async () => {
    for (const name of ["", "   ", "x".repeat(81)]) {
      const res = await post("tenantAdmin", { intent: "create-project", name, description: "kept" });
      expect(res.status).toBe(400);
      expect(Object.keys(res.data.fieldErrors)).toEqual(["name"]);
      expect(res.data.values).toMatchObject({ name, description: "kept" });
    }
  });

  it("a project name taken in the tenant, in any case, answers 400 naming the field; another tenant's is free", async () => {
    const res = await post("tenantAdmin", { intent: "create-project", name: "cardio study" });
    expect(res.status).toBe(400);
    expect(res.data.fieldErrors.name).toBe("This tenant already has a project named cardio study.");
    const rename = await post("tenantAdmin", { intent: "rename-project", projectId: cardioId, name: "Sleep Lab" });
    expect(rename.status).toBe(400);
    expect(Object.keys(rename.data.fieldErrors)).toEqual(["name"]);
    // Changing only the case of its own name is fine.
    expect((await post("tenantAdmin", { intent: "rename-project", projectId: cardioId, name: "Cardio study" })).status).toBe(200);
    expect((await post("tenantAdmin", { intent: "rename-project", projectId: cardioId, name: "Cardio Study" })).status).toBe(200);
    // Names are unique per tenant: one taken in staging is free in production.
    expect((await post("otherTenantAdmin", { intent: "create-project", name: "Brand New" }, STAGING)).status).toBe(200);
    expect((await post("tenantAdmin", { intent: "create-project", name: "Brand New" })).status).toBe(200);
  });

  it("an app name taken in the project answers 400 naming the field; the same name in another project is fine", async () => {
    const res = await post("tenantAdmin", { intent: "create-app", projectId: cardioId, name: "phone", platform: "Android" });
    expect(res.status).toBe(400);
    expect(res.data.fieldErrors.name).toBe("This project already has an app named phone.");
    expect(res.data.values).toMatchObject({ name: "phone", platform: "Android" });
    const rename = await post("tenantAdmin", { intent: "rename-app", appId: phoneId, name: "Ring" });
    expect(rename.status).toBe(400);
    const sleep = (await projectNamed("Sleep Lab"))!;
    expect((await post("tenantAdmin", { intent: "create-app", projectId: sleep.id, name: "Phone", platform: "Android" })).status).toBe(200);
  });

  it("an app without a platform answers 400 naming the platform", async () => {
    const res = await post("tenantAdmin", { intent: "create-app", projectId: cardioId, name: "Tablet", platform: "" });
    expect(res.status).toBe(400);
    expect(Object.keys(res.data.fieldErrors)).toEqual(["platform"]);
    expect(await appNamed(cardioId, "Tablet")).toBeUndefined();
  });

  it("an unknown project or app answers 404", async () => {
    expect((await post("tenantAdmin", { intent: "create-app", projectId: "nope", name: "X", platform: "iOS" })).status).toBe(404);
    expect((await post("tenantAdmin", { intent: "rename-app", appId: "00000000-0000-0000-0000-000000000000", name: "X" })).status).toBe(404);
  });
});
