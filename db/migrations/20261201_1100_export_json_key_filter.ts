import { type Kysely, sql } from "kysely";

// Exported JSON columns leave out keys that look like secrets, at any depth
// (the export's column allowlist declares which). This removes every object
// key whose name matches a case-insensitive pattern, in nested objects and
// inside arrays, and keeps everything else. It descends only into values
// whose text matches the pattern, and COPY calls it only for such values, so
// rows without secrets never reach it. PL/pgSQL: as a recursive SQL function
// it was four times slower.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function exportal_jsonb_drop_keys(j jsonb, pattern text) returns jsonb language plpgsql immutable parallel safe as $$
    begin
      if jsonb_typeof(j) = 'object' then
        return (
          select coalesce(jsonb_object_agg(e.key, case when jsonb_typeof(e.value) in ('object', 'array') and e.value::text ~* pattern
            then exportal_jsonb_drop_keys(e.value, pattern) else e.value end), '{}'::jsonb)
          from jsonb_each(j) as e where e.key !~* pattern);
      elsif jsonb_typeof(j) = 'array' then
        return (
          select coalesce(jsonb_agg(case when jsonb_typeof(a.value) in ('object', 'array') and a.value::text ~* pattern
            then exportal_jsonb_drop_keys(a.value, pattern) else a.value end order by a.n), '[]'::jsonb)
          from jsonb_array_elements(j) with ordinality as a(value, n));
      end if;
      return j;
    end $$;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function exportal_jsonb_drop_keys(jsonb, text)`.execute(db);
}
