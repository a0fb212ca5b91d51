import { closeDb, databaseUrl, getDb } from "../../db/client";
import { migrateToLatest } from "../../db/migrate";
import { seedDemo } from "../../db/seed";
import { sealCredential } from "../../app/analytics/credential-crypto.server";

// Builds the template database every test file clones: migrations and a small demo seed.
await migrateToLatest(getDb(), databaseUrl());
await seedDemo(getDb(), { hsiRows: 4000, labRows: 400, seal: sealCredential });
await closeDb();
