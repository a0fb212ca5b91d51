import { type Kysely, sql } from "kysely";

// Invitations live in better-auth's "invitation" table. Two things of ours sit
// beside it: the hash of the link's token (the link is shown and emailed, never
// stored, so a reader of the database or of the audit trail cannot accept it;
// snake_case marks the column as ours), and the role the invitee gets in each
// tenant of the organization.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table "invitation" add column token_hash text;
    create unique index invitation_token_hash_key on "invitation" (token_hash);

    create table invitation_tenant_role (
      invitation_id text not null references "invitation" (id) on delete cascade,
      tenant_id uuid not null references tenant (id) on delete cascade,
      role text not null check (role in ('admin', 'editor', 'viewer')),
      primary key (invitation_id, tenant_id)
    );
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop table invitation_tenant_role;
    drop index invitation_token_hash_key;
    alter table "invitation" drop column token_hash;
  `.execute(db);
}
