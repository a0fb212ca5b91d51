import { getDb } from "../../db/client";
import { API_KEY_PERMISSIONS, createApiKey } from "../../app/api/keys.server";
import { buildAbility, PERMISSIONS, type Permission } from "../../app/auth/permissions";

export const ALL_KEY_PERMISSIONS: Permission[] = [...API_KEY_PERMISSIONS];

/** Looks up a seeded tenant by its slug. */
export async function tenantBySlug(slug: string) {
  return getDb().selectFrom("tenant").select(["id", "organization_id", "slug"]).where("slug", "=", slug).executeTakeFirstOrThrow();
}

/** A real API key for a seeded tenant, created as the API keys page does. */
export async function createKey(tenantSlug: string, permissions: Permission[] = ALL_KEY_PERMISSIONS, extra: { expiresAt?: string; name?: string } = {}): Promise<string> {
  const tenant = await tenantBySlug(tenantSlug);
  const user = await getDb().selectFrom("user").select("id").orderBy("email").executeTakeFirstOrThrow();
  const { key } = await createApiKey(getDb(), { tenantId: tenant.id, userId: user.id, ability: buildAbility([...PERMISSIONS]) }, { name: extra.name ?? `test ${permissions.length}`, permissions, expiresAt: extra.expiresAt });
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
    } catch {}
    return { status: response.status, headers: response.headers, body: parsed };
  };
}
