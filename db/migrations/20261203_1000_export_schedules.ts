import { type Kysely, sql } from "kysely";

// Scheduled exports. A schedule is an export request plus a cadence in a
// named time zone; each slot it fires becomes one run, and each run builds
// one ordinary export per de-identification profile its recipients need
// (export.schedule_run_id). A scheduled slot runs at most once: the unique
// index on (schedule_id, slot_at) decides between workers. Manual runs,
// retries and backfills are runs too, each with its own kind.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table export_schedule (
      id uuid primary key default gen_random_uuid(),
      tenant_id uuid not null references tenant (id) on delete cascade,
      organization_id text not null references organization (id) on delete cascade,
      owner_user_id text references "user" (id) on delete set null,
      name text not null check (length(name) between 1 and 100),
      request jsonb not null,
      cadence jsonb not null,
      time_zone text not null,
      delta boolean not null default false,
      status text not null default 'active' check (status in ('active', 'paused')),
      paused_reason text,
      failures_in_a_row int not null default 0,
      next_slot_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index export_schedule_tenant on export_schedule (tenant_id, created_at);
    create index export_schedule_due on export_schedule (next_slot_at) where status = 'active';

    create table export_schedule_recipient (
      schedule_id uuid not null references export_schedule (id) on delete cascade,
      user_id text not null references "user" (id) on delete cascade,
      primary key (schedule_id, user_id)
    );

    create table export_schedule_run (
      id uuid primary key default gen_random_uuid(),
      schedule_id uuid not null references export_schedule (id) on delete cascade,
      tenant_id uuid not null references tenant (id) on delete cascade,
      kind text not null check (kind in ('scheduled', 'manual', 'backfill', 'retry')),
      slot_at timestamptz not null,
      interval_from timestamptz,
      interval_to timestamptz,
      status text not null default 'pending' check (status in ('pending', 'running', 'done', 'failed')),
      error text,
      retry_of uuid references export_schedule_run (id) on delete set null,
      backfill_id uuid,
      created_at timestamptz not null default now(),
      finished_at timestamptz
    );
    create unique index export_schedule_run_slot on export_schedule_run (schedule_id, slot_at) where kind = 'scheduled';
    create index export_schedule_run_history on export_schedule_run (schedule_id, created_at desc);

    alter table export add column schedule_run_id uuid references export_schedule_run (id) on delete set null;
    create index export_schedule_run_exports on export (schedule_run_id) where schedule_run_id is not null;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    alter table export drop column schedule_run_id;
    drop table export_schedule_run;
    drop table export_schedule_recipient;
    drop table export_schedule;
  `.execute(db);
}
