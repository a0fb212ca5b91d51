import { type Kysely, sql } from "kysely";

// An imported widget whose metric the tenant does not have is kept, with a
// warning saying so, rather than dropped or refused.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table dashboard_widget add column import_warning text`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table dashboard_widget drop column import_warning`.execute(db);
}
