import { type Kysely, sql } from "kysely";

// Participants carry identifying fields (all optional: a study may not
// collect them). Study exports record the de-identification profile they
// were made with; other exports have none. pgcrypto's hmac() lets COPY
// compute keyed pseudonyms and date offsets inside PostgreSQL.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create extension if not exists pgcrypto;
    alter table participant
      add column name text,
      add column email text,
      add column date_of_birth date,
      add column notes text,
      add column device_serial text;
    alter table export
      add column deidentification text
        check (deidentification in ('full', 'identifiers_removed', 'deidentified'));
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    alter table export drop column deidentification;
    alter table participant drop column name, drop column email, drop column date_of_birth, drop column notes, drop column device_serial;
  `.execute(db);
}
