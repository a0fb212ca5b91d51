import { type Kysely, sql } from "kysely";

// Sign-in attempts counted per account and per client address in PostgreSQL,
// so the limit holds across web processes; and audit events about sign-in,
// which happen before anyone is known to belong to an organization or tenant.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table sign_in_attempt_window (
      -- 'account:<email>' or 'address:<ip>'
      key text primary key,
      attempts int not null,
      window_start timestamptz not null
    );
    create index sign_in_attempt_window_start_idx on sign_in_attempt_window (window_start);

    alter table audit_event alter column organization_id drop not null, alter column tenant_id drop not null;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop table sign_in_attempt_window;
    -- The append-only trigger stands aside for the rows that cannot go back.
    alter table audit_event disable trigger audit_event_append_only;
    delete from audit_event where organization_id is null or tenant_id is null;
    alter table audit_event enable trigger audit_event_append_only;
    alter table audit_event alter column organization_id set not null, alter column tenant_id set not null;
  `.execute(db);
}
