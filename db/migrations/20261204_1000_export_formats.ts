import { type Kysely, sql } from "kysely";

// An export holds any set of formats (NDJSON, CSV, Parquet, Excel), not one of
// ndjson, csv or both: `format` becomes the list `formats`, in archive order.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table export add column formats text[];
    update export set formats = case format when 'both' then array['ndjson', 'csv'] else array[format] end;
    alter table export
      alter column formats set not null,
      add constraint export_formats_known check (cardinality(formats) between 1 and 4 and formats <@ array['ndjson', 'csv', 'parquet', 'xlsx']),
      drop column format;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    alter table export add column format text;
    update export set format = case when formats = array['ndjson', 'csv'] then 'both' else formats[1] end;
    alter table export
      alter column format set not null,
      add constraint export_format_check check (format in ('ndjson', 'csv', 'both')),
      drop column formats;
  `.execute(db);
}
