import { type Kysely, sql } from "kysely";

// Exports counted lines per file, so one in NDJSON and CSV said twice its
// records. They now count records; halve what the history says for those
// (each of their data types was written exactly twice). Audit events keep what
// they recorded.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`update export set rows_done = rows_done / 2, rows_expected = rows_expected / 2 where format = 'both'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`update export set rows_done = rows_done * 2, rows_expected = rows_expected * 2 where format = 'both'`.execute(db);
}
