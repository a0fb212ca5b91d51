import type { DB } from "../../db/client";
import { authorize, type Requester } from "../auth/requester";

/** What the integrations page shows of each connection: never a credential, which lives in another table. */
export interface ConnectionSummary {
  id: string;
  projectId: string;
  service: string;
  type: "oauth" | "api_key" | "webhook";
  status: "active" | "error" | "paused" | "disconnected";
  lastSyncAt: Date | null;
  account: string | null;
  metrics: string[];
  syncIntervalMinutes: number | null;
  lastError: string | null;
}

// Account info differs per service; these are the keys that name the account.
const ACCOUNT_KEYS = ["accountName", "login", "propertyName", "name"];

/** The tenant's integration connections, by project and service. */
export async function listConnections(db: DB, requester: Requester): Promise<ConnectionSummary[]> {
  authorize(requester, "data.read");
  const { tenantId } = requester;
  const rows = await db
    .selectFrom("integration_connection")
    .where("tenant_id", "=", tenantId)
    .select(["id", "project_id", "service", "type", "status", "last_sync_at", "account_info", "configuration"])
    .orderBy("project_id")
    .orderBy("service")
    .execute();
  return rows.map((r) => {
    const account = r.account_info as Record<string, unknown>;
    const config = r.configuration as Record<string, unknown>;
    const name = ACCOUNT_KEYS.map((k) => account[k]).find((v) => typeof v === "string");
    return {
      id: r.id,
      projectId: r.project_id,
      service: r.service,
      type: r.type,
      status: r.status,
      lastSyncAt: r.last_sync_at,
      account: (name as string | undefined) ?? null,
      metrics: Array.isArray(config.metrics) ? config.metrics.filter((m): m is string => typeof m === "string") : [],
      syncIntervalMinutes: typeof config.syncIntervalMinutes === "number" ? config.syncIntervalMinutes : null,
      lastError: typeof config.lastError === "string" ? config.lastError : null,
    };
  });
}
