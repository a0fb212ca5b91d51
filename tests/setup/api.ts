import { getDb } from "../../db/client";
import { API_KEY_PERMISSIONS, createApiKey } from "../../app/api/keys.server";
import { buildAbility, permissionsFor, type Permission } from "../../app/auth/permissions";
import type { Requester } from "../../app/auth/requester";

export const ALL_KEY_PERMISSIONS: Permission[] = [...API_KEY_PERMISSIONS];

/** Looks up a seeded tenant by its slug. */
export async function tenantBySlug(slug: string) {
  return getDb().selectFrom("tenant").select(["id", "organization_id", "slug"]).where("slug", "=", slug).executeTakeFirstOrThrow();
}

/** The owner of a seeded tenant's organization, as a requester in that tenant: who holds every permission there. */
export async function ownerIn(tenantSlug: string): Promise<Requester> {
  const tenant = await tenantBySlug(tenantSlug);
  const owner = await getDb()
    .selectFrom("member as m")
    .innerJoin("user as u", "u.id", "m.userId")
    .where("m.organizationId", "=", tenant.organization_id)
    .where("m.role", "=", "owner")
    .select(["u.id", "u.name"])
    .executeTakeFirstOrThrow();
  return { tenantId: tenant.id, organizationId: tenant.organization_id, actor: { userId: owner.id, label: owner.name }, ability: buildAbility(permissionsFor("owner", null)) };
}

/** A real API key for a seeded tenant, created by its organization's owner as the API keys page does. */
export async function createKey(tenantSlug: string, permissions: Permission[] = ALL_KEY_PERMISSIONS, extra: { expiresAt?: string; name?: string } = {}): Promise<string> {
  const { key } = await createApiKey(getDb(), await ownerIn(tenantSlug), { name: extra.name ?? `test ${permissions.length}`, permissions, expiresAt: extra.expiresAt });
  return key;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any;
}

/** Calls the running portal's API like a program does. */
export function apiClient(baseUrl: string) {
  return async function api(
    path: string,
    init: { key?: string; method?: string; json?: unknown; body?: string; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse> {
    const headers: Record<string, string> = { ...init.headers };
    if (init.key) headers.Authorization = `Bearer ${init.key}`;
    let body = init.body;
    if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      headers["Content-Type"] ??= "application/json";
    }
    const response = await fetch(baseUrl + path, { method: init.method ?? (body !== undefined ? "POST" : "GET"), headers, body, redirect: "manual" });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
    // not JSON: keep the text
  }
    return { status: response.status, headers: response.headers, body: parsed };
  };
}
