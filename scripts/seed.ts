import { parseArgs } from "node:util";
import { sealCredential } from "../app/analytics/credential-crypto.server";
import { dataDir } from "../app/lib/config.server";
import { getSecret } from "../app/lib/secrets.server";
import { joinDatabase } from "../db/bootstrap";
import { closeDb, getDb } from "../db/client";
import { migrateToLatest } from "../db/migrate";
import { addDemoData, isSeeded, seedDemo } from "../db/seed";

// `npm run seed -- --hsi-rows 1000000`: seeds the demo on an empty database,
// or adds that many more HSI rows (and a tenth as many lab results) to it.
const { values } = parseArgs({ options: { "hsi-rows": { type: "string", default: "100000" }, "lab-rows": { type: "string" } } });
const hsiRows = Number(values["hsi-rows"]);
const labRows = values["lab-rows"] === undefined ? Math.round(hsiRows / 10) : Number(values["lab-rows"]);
if (!Number.isInteger(hsiRows) || hsiRows < 0 || !Number.isInteger(labRows) || labRows < 0) {
  console.error("--hsi-rows and --lab-rows take whole numbers of rows, e.g. --hsi-rows 1000000");
  process.exit(2);
}

// Beside a running `npm start`, join its embedded PostgreSQL rather than stopping it as a leftover.
const database = await joinDatabase(dataDir(), () => getSecret("database"));
try {
  const db = getDb();
  await migrateToLatest(db, database.url);
  const started = Date.now();
  if (await isSeeded(db)) {
    await addDemoData(db, { hsiRows, labRows });
    console.log(`Added ${hsiRows} HSI records and ${labRows} lab results in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  } else {
    await seedDemo(db, { hsiRows, labRows, seal: sealCredential });
    console.log(`Seeded the demo with ${hsiRows} HSI records and ${labRows} lab results in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  }
} finally {
  await closeDb();
  await database.stop();
}
