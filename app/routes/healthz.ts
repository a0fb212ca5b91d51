import { sql } from "kysely";
import { getDb } from "~/lib/db.server";

/** Liveness for load balancers: the process answers and the database does too. */
export async function loader() {
  await sql`select 1`.execute(getDb());
  return Response.json({ ok: true });
}
