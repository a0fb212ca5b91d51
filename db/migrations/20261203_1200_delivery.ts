import { type Kysely, sql } from "kysely";

// Delivery of scheduled runs. A tenant keeps webhook endpoints (their signing
// secret sealed: we must sign with it, so it cannot be a hash) and buckets
// (their keys sealed); a schedule links to some of each. Each run makes one
// delivery per target (a recipient's email, a webhook, a bucket) and event;
// `target_key` keeps a run from delivering twice to the same target. Every
// try is logged in delivery_attempt.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table webhook_endpoint (
      id uuid primary key default gen_random_uuid(),
      tenant_id uuid not null references tenant (id) on delete cascade,
      organization_id text not null references organization (id) on delete cascade,
      url text not null check (length(url) between 1 and 2000),
      description text not null default '' check (length(description) <= 200),
      secret_ciphertext bytea not null,
      secret_nonce bytea not null check (length(secret_nonce) = 12),
      secret_auth_tag bytea not null check (length(secret_auth_tag) = 16),
      created_by_user_id text references "user" (id) on delete set null,
      created_by_api_key_id uuid references api_key (id) on delete set null,
      disabled boolean not null default false,
      created_at timestamptz not null default now()
    );
    create index webhook_endpoint_tenant on webhook_endpoint (tenant_id, created_at);

    create table delivery_bucket (
      id uuid primary key default gen_random_uuid(),
      tenant_id uuid not null references tenant (id) on delete cascade,
      organization_id text not null references organization (id) on delete cascade,
      name text not null check (length(name) between 1 and 100),
      endpoint text check (length(endpoint) <= 2000),
      region text not null check (length(region) between 1 and 100),
      bucket text not null check (length(bucket) between 1 and 255),
      prefix text not null default '' check (length(prefix) <= 500),
      force_path_style boolean not null default false,
      access_key_hint text not null,
      credentials_ciphertext bytea not null,
      credentials_nonce bytea not null check (length(credentials_nonce) = 12),
      credentials_auth_tag bytea not null check (length(credentials_auth_tag) = 16),
      created_by_user_id text references "user" (id) on delete set null,
      created_at timestamptz not null default now()
    );
    create index delivery_bucket_tenant on delivery_bucket (tenant_id, created_at);

    create table export_schedule_webhook (
      schedule_id uuid not null references export_schedule (id) on delete cascade,
      webhook_id uuid not null references webhook_endpoint (id) on delete cascade,
      primary key (schedule_id, webhook_id)
    );
    create table export_schedule_bucket (
      schedule_id uuid not null references export_schedule (id) on delete cascade,
      bucket_id uuid not null references delivery_bucket (id) on delete cascade,
      primary key (schedule_id, bucket_id)
    );

    create table delivery (
      id uuid primary key default gen_random_uuid(),
      tenant_id uuid not null references tenant (id) on delete cascade,
      run_id uuid references export_schedule_run (id) on delete cascade,
      event text not null check (event in ('export.completed', 'export.failed', 'ping')),
      channel text not null check (channel in ('email', 'webhook', 'bucket')),
      target_key text not null,
      user_id text references "user" (id) on delete cascade,
      webhook_id uuid references webhook_endpoint (id) on delete cascade,
      bucket_id uuid references delivery_bucket (id) on delete cascade,
      export_id uuid references export (id) on delete set null,
      payload jsonb not null default '{}',
      status text not null default 'pending' check (status in ('pending', 'sent', 'failed')),
      attempts int not null default 0,
      next_attempt_at timestamptz,
      last_status_code int,
      last_error text,
      created_at timestamptz not null default now(),
      finished_at timestamptz,
      check ((channel = 'email') = (user_id is not null) and (channel = 'webhook') = (webhook_id is not null) and (channel = 'bucket') = (bucket_id is not null))
    );
    create unique index delivery_once on delivery (run_id, event, target_key) where run_id is not null;
    create index delivery_webhook_log on delivery (webhook_id, created_at desc) where webhook_id is not null;
    create index delivery_bucket_log on delivery (bucket_id, created_at desc) where bucket_id is not null;

    create table delivery_attempt (
      id bigint generated always as identity primary key,
      delivery_id uuid not null references delivery (id) on delete cascade,
      attempted_at timestamptz not null default now(),
      status_code int,
      error text,
      duration_ms int not null
    );
    create index delivery_attempt_of on delivery_attempt (delivery_id, attempted_at);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop table delivery_attempt;
    drop table delivery;
    drop table export_schedule_bucket;
    drop table export_schedule_webhook;
    drop table delivery_bucket;
    drop table webhook_endpoint;
  `.execute(db);
}
