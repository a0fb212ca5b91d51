import { type Kysely, sql } from "kysely";

// Tenant-scoped API keys. Only a hash of the key is stored; the prefix and
// last four characters identify it to people.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table api_key (
      id uuid primary key default gen_random_uuid(),
      tenant_id uuid not null references tenant (id) on delete cascade,
      name text not null check (length(name) between 1 and 100),
      key_prefix text not null,
      last4 text not null,
      key_hash text not null unique,
      permissions text[] not null,
      created_by_user_id text references "user" (id) on delete set null,
      created_at timestamptz not null default now(),
      expires_at timestamptz,
      revoked_at timestamptz,
      last_used_at timestamptz
    );
    create index api_key_tenant_idx on api_key (tenant_id, created_at desc);
    alter table export add column requested_by_api_key_id uuid references api_key (id) on delete set null;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table export drop column requested_by_api_key_id; drop table api_key`.execute(db);
}
