import { type Kysely, sql } from "kysely";

// Numbers of an hour's requests that a web process leased and handed back unused, once every number of
// the window was leased (app/api/rate-limit.server.ts): `returned` lists them in the order they came
// back, and `returned_taken` counts how many of them were granted since, so one UPDATE takes the next.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table api_rate_window add column returned int[] not null default '{}';
    alter table api_rate_window add column returned_taken int not null default 0;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    alter table api_rate_window drop column returned;
    alter table api_rate_window drop column returned_taken;
  `.execute(db);
}
