import { type Kysely, sql } from "kysely";

// The audit log page and audit_events exports read a whole organization's
// trail, newest first: events of any tenant or none, found by organization.
// Sign-in events (no organization) share the index under its null key.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index audit_event_organization_idx on audit_event (organization_id, created_at desc)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index audit_event_organization_idx`.execute(db);
}
