import type { AuditActor } from "../audit/audit.server";
import { AppError } from "../lib/errors";
import { can, type AppAbility, type ExportSubject, type Permission } from "./permissions";

/** Who is asking a service to act, and what they may do: a person in a tenant, or an API key. */
export interface Requester {
  tenantId: string;
  organizationId: string;
  actor: AuditActor;
  ability: AppAbility;
  /** For an API key: the person who created it, whose rights it follows, and who owns the schedules it creates. */
  keyCreatorUserId?: string | null;
}

/**
 * Throws 403 naming the permission unless the requester holds it (for that
 * row, when given). Every service function that reveals or changes tenant
 * data calls it first, whoever its caller is.
 */
export function authorize(requester: Pick<Requester, "ability" | "actor">, permission: Permission, row?: ExportSubject): void {
  if (can(requester.ability, permission, row)) return;
  const who = requester.actor.apiKeyId ? "this API key" : "your role";
  throw new AppError("FORBIDDEN", `This needs the permission ${permission}, which ${who} does not include. Ask an organization or tenant admin.`, { permission });
}
