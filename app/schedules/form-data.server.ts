import type { DB } from "../../db/client";
import type { Requester } from "../auth/requester";
import { can, type AppAbility } from "../auth/permissions";
import { listDeliveryTargets } from "../delivery/targets.server";
import { allowedProfiles } from "../studies/deidentification";
import { listProjects } from "../tenants/tenant-data.server";
import { tenantPeople } from "./schedules.server";

/** What the schedule form offers: projects and apps, profiles, people who may receive runs (with their role), delivery targets. */
export async function scheduleFormChoices(db: DB, requester: Requester, ability: AppAbility) {
  const people = await tenantPeople(db, requester)
    .select(["u.id", "u.name", "u.email", "m.role as orgRole", "tm.role as tenantRole"])
    .orderBy("u.name")
    .orderBy("u.id")
    .execute();
  return {
    projects: (await listProjects(db, requester)).map(({ id, name, apps }) => ({ id, name, apps: apps.map((a) => ({ id: a.id, name: a.name })) })),
    canExportOrganization: can(ability, "org.exports.create"),
    allowedProfiles: allowedProfiles(ability),
    people,
    targets: await listDeliveryTargets(db, requester),
  };
}
