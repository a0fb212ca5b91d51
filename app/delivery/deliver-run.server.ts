import type { DB } from "../../db/client";

// PLACEHOLDER until the delivery branch lands.

/** Delivers a finished run: each recipient's email, each webhook's POST, each bucket's upload (queued, retried). */
export async function deliverRun(_db: DB, _runId: string): Promise<void> {}

/** Tells the schedule's owner that a run failed, and why (email; webhooks get a failure event). */
export async function notifyRunFailed(_db: DB, _runId: string, _reason: string): Promise<void> {}
