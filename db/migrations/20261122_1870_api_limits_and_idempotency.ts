import { type Kysely, sql } from "kysely";

// Rate limits and idempotency keys live in PostgreSQL so that every web
// process sees the same counts and the same stored responses.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- Per-tenant API limits; null means the default.
    alter table tenant
      add column api_requests_per_hour int check (api_requests_per_hour > 0),
      add column api_exports_per_hour int check (api_exports_per_hour > 0),
      add column api_export_burst int check (api_export_burst > 0);

    -- Requests counted in fixed hourly windows.
    create table api_rate_window (
      tenant_id uuid not null references tenant (id) on delete cascade,
      window_start timestamptz not null,
      requests int not null,
      primary key (tenant_id, window_start)
    );

    -- Export creations as a token bucket: bursts up to its size, refilled steadily.
    create table api_token_bucket (
      tenant_id uuid not null references tenant (id) on delete cascade,
      bucket text not null,
      tokens double precision not null,
      refilled_at timestamptz not null,
      primary key (tenant_id, bucket)
    );

    create table api_idempotency_key (
      tenant_id uuid not null references tenant (id) on delete cascade,
      key text not null,
      request_hash text not null,
      state text not null check (state in ('in_flight', 'done')),
      response_status int,
      response_body jsonb,
      created_at timestamptz not null default now(),
      primary key (tenant_id, key)
    );
    create index api_idempotency_key_created_idx on api_idempotency_key (created_at);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop table api_idempotency_key, api_token_bucket, api_rate_window;
    alter table tenant drop column api_requests_per_hour, drop column api_exports_per_hour, drop column api_export_burst;
  `.execute(db);
}
