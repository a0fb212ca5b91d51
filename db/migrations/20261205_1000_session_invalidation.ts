import { type Kysely, sql } from "kysely";

// Web processes cache who a session cookie signs in (app/auth/auth.server.ts).
// A session that ends or changes, and a user renamed or deleted, notify them
// from the database itself, whoever wrote it (better-auth included). New
// sessions do not: nothing cached can be wrong about a session it never saw.
const TABLES = ["session", "user"];

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function notify_auth_sessions() returns trigger language plpgsql as $$
    begin
      perform pg_notify('auth_sessions', tg_table_name);
      return null;
    end $$;
  `.execute(db);
  for (const table of TABLES) {
    await sql`
      create trigger auth_sessions after update or delete on ${sql.table(table)} for each statement execute function notify_auth_sessions();
      create trigger auth_sessions_truncate after truncate on ${sql.table(table)} for each statement execute function notify_auth_sessions();
    `.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of TABLES) {
    await sql`drop trigger auth_sessions on ${sql.table(table)}; drop trigger auth_sessions_truncate on ${sql.table(table)};`.execute(db);
  }
  await sql`drop function notify_auth_sessions();`.execute(db);
}
