import { type Kysely, sql } from "kysely";

// Web processes cache finished exports as one is read alone (an API client
// polling one; app/exports/settled-exports.server.ts). A finished export that
// changes (it expires, is purged, or its requester's key goes) and a user
// renamed (who asked is shown by name) notify them from the database itself.
// Running exports, which move every second, are never cached and never notify.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function notify_settled_exports() returns trigger language plpgsql as $$
    begin
      -- One payload for all: PostgreSQL folds identical notifications of a transaction into one.
      perform pg_notify('settled_exports', tg_table_name);
      return null;
    end $$;

    create trigger settled_exports after update or delete on export for each row
      when (old.status not in ('pending', 'running')) execute function notify_settled_exports();
    create trigger settled_exports_truncate after truncate on export for each statement execute function notify_settled_exports();
    create trigger settled_exports after update or delete on "user" for each statement execute function notify_settled_exports();
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop trigger settled_exports on export;
    drop trigger settled_exports_truncate on export;
    drop trigger settled_exports on "user";
    drop function notify_settled_exports();
  `.execute(db);
}
