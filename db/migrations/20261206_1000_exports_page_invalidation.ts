import { type Kysely, sql } from "kysely";

// Web processes keep the exports page's answers (app/exports/exports-page-cache.server.ts).
// Whatever the page, its tenant frame and its rights check read notifies them
// from the database itself, whoever wrote it. An export's change empties only
// its organization's pages ("prefix:/o/<slug>/"): exports run and report
// progress all the time, and one organization's must not empty every other's.
// Everything else is rare and empties all.
const TABLES = [
  "user", "organization", "member", "tenant", "tenant_member",
  "project", "app", "participant", "study", "cohort", "export_schedule", "export_schedule_run",
];

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function notify_exports_page() returns trigger language plpgsql as $$
    begin
      perform pg_notify('exports_page', tg_table_name);
      return null;
    end $$;

    create function notify_exports_page_of_org() returns trigger language plpgsql as $$
    declare
      org text;
    begin
      if tg_op = 'DELETE' then org := old.organization_id; else org := new.organization_id; end if;
      perform pg_notify('exports_page', 'prefix:/o/' || o.slug || '/') from organization o where o.id = org;
      return null;
    end $$;

    create trigger exports_page after insert or update or delete on export for each row execute function notify_exports_page_of_org();
    create trigger exports_page_truncate after truncate on export for each statement execute function notify_exports_page();

    -- Every page view remembers its tenant (an upsert that mostly changes nothing), and keys note their last use
    -- once a minute: only a row that changed, and only a key's name, which the page shows, notify.
    create trigger exports_page after insert or update or delete on user_preference for each row execute function notify_exports_page();
    create trigger exports_page after update of name or delete on api_key for each row execute function notify_exports_page();
  `.execute(db);
  for (const table of TABLES) {
    await sql`
      create trigger exports_page after insert or update or delete or truncate on ${sql.table(table)} for each statement execute function notify_exports_page();
    `.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [...TABLES, "user_preference", "api_key"]) await sql`drop trigger exports_page on ${sql.table(table)};`.execute(db);
  await sql`
    drop trigger exports_page on export;
    drop trigger exports_page_truncate on export;
    drop function notify_exports_page();
    drop function notify_exports_page_of_org();
  `.execute(db);
}
