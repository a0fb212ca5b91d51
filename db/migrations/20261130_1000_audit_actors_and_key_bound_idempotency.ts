import { type Kysely, sql } from "kysely";

// Who acted, from where: every audit event names the user or the API key and
// the client's address and user agent. The trail refuses TRUNCATE as it
// refuses UPDATE and DELETE. Stored idempotent responses belong to the key
// that made them, so another key cannot replay them.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table audit_event
      add column actor_api_key_id uuid,
      add column client_ip text,
      add column user_agent text;
    create trigger audit_event_no_truncate before truncate on audit_event
      for each statement execute function audit_event_append_only();

    -- In-flight and replayable responses are at most 24 hours old; dropping them only means a retry runs anew.
    delete from api_idempotency_key;
    alter table api_idempotency_key
      add column api_key_id uuid not null references api_key (id) on delete cascade,
      drop constraint api_idempotency_key_pkey,
      add primary key (api_key_id, key);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    delete from api_idempotency_key;
    alter table api_idempotency_key drop constraint api_idempotency_key_pkey, drop column api_key_id, add primary key (tenant_id, key);
    drop trigger audit_event_no_truncate on audit_event;
    alter table audit_event drop column actor_api_key_id, drop column client_ip, drop column user_agent;
  `.execute(db);
}
