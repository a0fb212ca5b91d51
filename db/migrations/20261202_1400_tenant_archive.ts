import { type Kysely, sql } from "kysely";

// An archived tenant is read-only: its history stays readable and
// downloadable for its retention, but nothing new is written (no exports, no
// keys, no imports or pushes) and its API keys stop. Null means active.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table tenant add column archived_at timestamptz`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table tenant drop column archived_at`.execute(db);
}
