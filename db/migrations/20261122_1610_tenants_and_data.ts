import { type Kysely, sql } from "kysely";

// Tenants are the isolation boundary: every data row carries tenant_id, so a
// query scoped by tenant cannot reach another tenant's rows by id.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table tenant (
      id uuid primary key default gen_random_uuid(),
      organization_id text not null references "organization" (id) on delete cascade,
      name text not null,
      slug text not null check (slug ~ '^[a-z0-9][a-z0-9-]*$'),
      created_at timestamptz not null default now(),
      unique (organization_id, slug)
    );

    create table tenant_member (
      tenant_id uuid not null references tenant (id) on delete cascade,
      user_id text not null references "user" (id) on delete cascade,
      role text not null check (role in ('admin', 'editor', 'viewer')),
      created_at timestamptz not null default now(),
      primary key (tenant_id, user_id)
    );
    create index tenant_member_user_idx on tenant_member (user_id);

    -- The last organization and tenant a user chose, so the choice sticks across visits.
    create table user_preference (
      user_id text primary key references "user" (id) on delete cascade,
      tenant_id uuid references tenant (id) on delete set null,
      updated_at timestamptz not null default now()
    );

    create table project (
      id uuid primary key default gen_random_uuid(),
      tenant_id uuid not null references tenant (id) on delete cascade,
      name text not null,
      description text not null default '',
      created_at timestamptz not null default now(),
      unique (tenant_id, name),
      unique (tenant_id, id)
    );

    create table app (
      id uuid primary key default gen_random_uuid(),
      tenant_id uuid not null references tenant (id) on delete cascade,
      project_id uuid not null,
      name text not null,
      platform text not null,
      created_at timestamptz not null default now(),
      foreign key (tenant_id, project_id) references project (tenant_id, id) on delete cascade,
      unique (project_id, name),
      unique (tenant_id, id)
    );

    create table participant (
      id uuid primary key default gen_random_uuid(),
      tenant_id uuid not null references tenant (id) on delete cascade,
      project_id uuid not null,
      external_id text not null,
      enrolled_at timestamptz not null,
      created_at timestamptz not null default now(),
      foreign key (tenant_id, project_id) references project (tenant_id, id) on delete cascade,
      unique (project_id, external_id),
      unique (tenant_id, id)
    );

    create table hsi_record (
      id bigint generated always as identity primary key,
      tenant_id uuid not null, -- the tenant is checked through the app's key below
      project_id uuid not null,
      app_id uuid not null,
      participant_id uuid not null,
      recorded_at timestamptz not null,
      metric text not null,
      value double precision,
      unit text not null,
      payload jsonb not null default '{}'::jsonb,
      foreign key (tenant_id, app_id) references app (tenant_id, id) on delete cascade,
      foreign key (tenant_id, participant_id) references participant (tenant_id, id) on delete cascade
    );
    create index hsi_record_tenant_recorded_idx on hsi_record (tenant_id, recorded_at);
    create index hsi_record_app_recorded_idx on hsi_record (app_id, recorded_at);

    create table lab_result (
      id bigint generated always as identity primary key,
      tenant_id uuid not null, -- the tenant is checked through the app's key below
      project_id uuid not null,
      app_id uuid not null,
      participant_id uuid not null,
      collected_at timestamptz not null,
      test_code text not null,
      test_name text not null,
      value double precision,
      unit text not null,
      reference_low double precision,
      reference_high double precision,
      payload jsonb not null default '{}'::jsonb,
      foreign key (tenant_id, app_id) references app (tenant_id, id) on delete cascade,
      foreign key (tenant_id, participant_id) references participant (tenant_id, id) on delete cascade
    );
    create index lab_result_tenant_collected_idx on lab_result (tenant_id, collected_at);
    create index lab_result_app_collected_idx on lab_result (app_id, collected_at);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table lab_result, hsi_record, participant, app, project, user_preference, tenant_member, tenant`.execute(db);
}
