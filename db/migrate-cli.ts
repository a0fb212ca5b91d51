import { openDatabase } from "./bootstrap";
import { closeDb, getDb } from "./client";
import { migrateToLatest } from "./migrate";

// `npm run migrate`: applies pending migrations to DATABASE_URL (or the embedded database).
const database = await openDatabase();
try {
  await migrateToLatest(getDb(), database.url);
  console.log("Database is up to date.");
} finally {
  await closeDb();
  await database.stop();
}
