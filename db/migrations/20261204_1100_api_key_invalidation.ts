import { type Kysely, sql } from "kysely";

// Web processes cache API keys with their creator's rights and their tenant's
// limits (app/api/key-cache.server.ts). Every change that can alter what a
// key may do notifies them on one channel, from the database itself, so no
// writer can forget to (better-auth's member queries included). A key's
// last_used_at is bookkeeping and does not notify: busy keys write it each minute.
//
// api_rate_window.leased: the size of the block of requests a process last
// leased, so it knows where its block starts (requests - leased + 1).
const TABLES = ["member", "tenant_member", "tenant", "organization"];

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function notify_api_key_rights() returns trigger language plpgsql as $$
    begin
      -- One payload per table: PostgreSQL folds identical notifications of a transaction into one.
      perform pg_notify('api_key_rights', tg_table_name);
      return null;
    end $$;

    create trigger api_key_rights after update on api_key for each row
      when ((to_jsonb(old) - 'last_used_at') is distinct from (to_jsonb(new) - 'last_used_at'))
      execute function notify_api_key_rights();
    create trigger api_key_rights_delete after delete on api_key for each row execute function notify_api_key_rights();
    create trigger api_key_rights_truncate after truncate on api_key for each statement execute function notify_api_key_rights();

    alter table api_rate_window add column leased int not null default 0;
  `.execute(db);
  for (const table of TABLES) {
    await sql`
      create trigger api_key_rights after insert or update or delete on ${sql.table(table)} for each row execute function notify_api_key_rights();
      create trigger api_key_rights_truncate after truncate on ${sql.table(table)} for each statement execute function notify_api_key_rights();
    `.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [...TABLES, "api_key"]) {
    await sql`drop trigger api_key_rights on ${sql.table(table)}; drop trigger api_key_rights_truncate on ${sql.table(table)};`.execute(db);
  }
  await sql`
    drop trigger api_key_rights_delete on api_key;
    drop function notify_api_key_rights();
    alter table api_rate_window drop column leased;
  `.execute(db);
}
