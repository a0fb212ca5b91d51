import { type Kysely, sql } from "kysely";

// Integration connections feed metric points; their credentials live in a
// table of their own, encrypted, which no export and no page ever reads.
// Dashboards are grids of widgets over those metrics.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table integration_connection (
      id uuid primary key default gen_random_uuid(),
      tenant_id uuid not null,
      project_id uuid not null,
      service text not null check (service ~ '^[a-z0-9][a-z0-9_-]*$'),
      type text not null check (type in ('oauth', 'api_key', 'webhook')),
      status text not null check (status in ('active', 'error', 'paused', 'disconnected')),
      last_sync_at timestamptz,
      account_info jsonb not null default '{}'::jsonb,
      configuration jsonb not null default '{}'::jsonb,
      created_at timestamptz not null default now(),
      foreign key (tenant_id, project_id) references project (tenant_id, id) on delete cascade,
      unique (tenant_id, id)
    );
    create index integration_connection_project_idx on integration_connection (tenant_id, project_id);

    -- AES-256-GCM: ciphertext, 12-byte nonce and 16-byte tag; the key comes from
    -- the environment or is generated on first start.
    create table integration_credential (
      id uuid primary key default gen_random_uuid(),
      tenant_id uuid not null,
      connection_id uuid not null,
      kind text not null check (kind in ('oauth_access_token', 'oauth_refresh_token', 'api_key', 'webhook_secret', 'encryption_key')),
      ciphertext bytea not null,
      nonce bytea not null check (length(nonce) = 12),
      auth_tag bytea not null check (length(auth_tag) = 16),
      expires_at timestamptz,
      created_at timestamptz not null default now(),
      foreign key (tenant_id, connection_id) references integration_connection (tenant_id, id) on delete cascade,
      unique (connection_id, kind)
    );

    create table metric_point (
      id bigint generated always as identity primary key,
      tenant_id uuid not null references tenant (id) on delete cascade,
      project_id uuid,
      connection_id uuid,
      metric_id text not null check (metric_id ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$'),
      metric_name text not null,
      value double precision not null,
      unit text not null default '',
      recorded_at timestamptz not null,
      service text not null,
      quality text not null default 'good' check (quality in ('good', 'estimated', 'suspect')),
      metadata jsonb not null default '{}'::jsonb,
      created_by_api_key_id uuid references api_key (id) on delete set null,
      created_at timestamptz not null default now(),
      foreign key (tenant_id, project_id) references project (tenant_id, id) on delete cascade,
      foreign key (tenant_id, connection_id) references integration_connection (tenant_id, id) on delete set null (connection_id)
    );
    create index metric_point_tenant_metric_idx on metric_point (tenant_id, metric_id, recorded_at);
    create index metric_point_tenant_recorded_idx on metric_point (tenant_id, recorded_at, id);

    -- Points are immutable once written; only the links to a deleted connection
    -- or API key may be cleared.
    create function metric_point_immutable() returns trigger language plpgsql as $$
    begin
      raise exception 'metric points are immutable';
    end $$;
    create trigger metric_point_no_update before update on metric_point
      for each row when (
        (old.tenant_id, old.project_id, old.metric_id, old.metric_name, old.value, old.unit, old.recorded_at, old.service, old.quality, old.metadata)
        is distinct from
        (new.tenant_id, new.project_id, new.metric_id, new.metric_name, new.value, new.unit, new.recorded_at, new.service, new.quality, new.metadata)
      ) execute function metric_point_immutable();

    create table dashboard (
      id uuid primary key default gen_random_uuid(),
      tenant_id uuid not null references tenant (id) on delete cascade,
      name text not null check (length(name) between 1 and 200),
      slug text not null check (slug ~ '^[a-z0-9][a-z0-9-]*$'),
      type text not null check (type in ('custom', 'category')),
      is_default boolean not null default false,
      description text not null default '',
      created_by_user_id text references "user" (id) on delete set null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (tenant_id, slug),
      unique (tenant_id, id)
    );
    create unique index dashboard_one_default_idx on dashboard (tenant_id) where is_default;

    create table dashboard_widget (
      id uuid primary key default gen_random_uuid(),
      tenant_id uuid not null,
      dashboard_id uuid not null,
      type text not null check (type in ('metric', 'chart', 'table')),
      title text not null,
      x int not null check (x >= 0),
      y int not null check (y >= 0),
      w int not null check (w between 1 and 12),
      h int not null check (h between 1 and 12),
      visible boolean not null default true,
      config jsonb not null default '{}'::jsonb,
      created_at timestamptz not null default now(),
      foreign key (tenant_id, dashboard_id) references dashboard (tenant_id, id) on delete cascade
    );
    create index dashboard_widget_dashboard_idx on dashboard_widget (dashboard_id);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop table dashboard_widget, dashboard, metric_point, integration_credential, integration_connection;
    drop function metric_point_immutable();
  `.execute(db);
}
