import { dataDir } from "../app/lib/config.server";
import { getSecret } from "../app/lib/secrets.server";
import { joinDatabase } from "../db/bootstrap";
import { closeDb, getDb } from "../db/client";
import { migrateToLatest } from "../db/migrate";

// `npm run migrate`: applies pending migrations to DATABASE_URL (or the embedded database).
// Beside a running `npm start`, join its embedded PostgreSQL rather than stopping it as a leftover.
const database = await joinDatabase(dataDir(), () => getSecret("database"));
try {
  await migrateToLatest(getDb(), database.url);
  console.log("Database is up to date.");
} finally {
  await closeDb();
  await database.stop();
}
