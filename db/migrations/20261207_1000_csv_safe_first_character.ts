import { type Kysely, sql } from "kysely";

// CSV formula neutralization looks at the first character's code instead of
// running a regular expression: the same test (=, +, -, @, tab, carriage
// return; ascii() is the first code point, NULL for NULL, 0 for ''), about a
// third of the cost per cell, and the function runs for every text cell of a
// CSV export. Still a one-statement SQL function, so PostgreSQL inlines it.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create or replace function exportal_csv_safe(t text) returns text language sql immutable parallel safe as $$
      select case when ascii(t) in (61, 43, 45, 64, 9, 13) then '''' || t else t end
    $$;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    create or replace function exportal_csv_safe(t text) returns text language sql immutable parallel safe as $$
      select case when t ~ '^[=+\\-@\\t\\r]' then '''' || t else t end
    $$;
  `.execute(db);
}
