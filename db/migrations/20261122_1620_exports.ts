import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table export (
      id uuid primary key default gen_random_uuid(),
      tenant_id uuid not null references tenant (id) on delete cascade,
      requested_by_user_id text references "user" (id) on delete set null,
      scope jsonb not null,
      data_types text[] not null,
      format text not null check (format in ('ndjson', 'csv', 'both')),
      status text not null default 'pending'
        check (status in ('pending', 'running', 'done', 'failed', 'cancelled', 'expired')),
      rows_done bigint not null default 0,
      rows_expected bigint,
      archive_key text,
      archive_bytes bigint,
      manifest jsonb,
      error text,
      created_at timestamptz not null default now(),
      started_at timestamptz,
      finished_at timestamptz,
      unique (tenant_id, id)
    );
    create index export_tenant_created_idx on export (tenant_id, created_at desc, id desc);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table export`.execute(db);
}
