import { type Kysely, sql } from "kysely";

// The archives one schedule run builds, one per distinct variant (scope,
// de-identification profile, data types) its recipients and targets need,
// planned when the run starts and built one after another (each export
// holds its projects' locks). export_id stays null until that export is
// created. Delivery matches a recipient to an archive by variant_key
// (app/schedules/owner-rights.server.ts variantKey); for_targets marks the
// owner's own variant, which webhooks and buckets receive.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table export_schedule_run_variant (
      run_id uuid not null references export_schedule_run (id) on delete cascade,
      position int not null,
      variant_key text not null,
      variant jsonb not null,
      for_targets boolean not null default false,
      export_id uuid unique references export (id) on delete set null,
      primary key (run_id, position),
      unique (run_id, variant_key)
    );
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table export_schedule_run_variant`.execute(db);
}
