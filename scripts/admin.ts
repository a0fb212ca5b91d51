import { parseArgs } from "node:util";
import { SET_PASSWORD_LINK_HOURS } from "../app/account/password-rules";
import { createOwner } from "../app/admin/create-owner.server";
import { dataDir } from "../app/lib/config.server";
import { AppError } from "../app/lib/errors";
import { getSecret } from "../app/lib/secrets.server";
import { joinDatabase } from "../db/bootstrap";
import { closeDb, getDb } from "../db/client";
import { migrateToLatest } from "../db/migrate";

// `npm run admin -- create-owner --email … --org "…"`: an operator's commands. Runs against the
// database `npm start` uses (DATABASE_URL, or the embedded one: joined if running, else started).
const USAGE = `Usage: npm run admin -- create-owner --email <email> --org "<organization name>" [--name "<person>"] [--tenant "<tenant name>"]

  create-owner   creates the organization, its first tenant (default "Production") and its owner,
                 and prints a one-time link (valid ${SET_PASSWORD_LINK_HOURS} hours) where the owner sets a password.`;

function usage(problem?: string): never {
  if (problem) console.error(`${problem}\n`);
  console.error(USAGE);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: { email: { type: "string" }, org: { type: "string" }, name: { type: "string" }, tenant: { type: "string", default: "Production" }, help: { type: "boolean" } },
  });
} catch (error) {
  usage((error as Error).message);
}
const { values, positionals } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (positionals[0] !== "create-owner" || positionals.length > 1) usage(positionals[0] ? `Unknown command: ${positionals.join(" ")}` : "Say which command to run.");
const missing = (["email", "org"] as const).filter((flag) => !values[flag]?.trim()).map((flag) => `--${flag}`);
if (missing.length > 0) usage(`Missing ${missing.join(" and ")}.`);

const publicUrl = (process.env.PUBLIC_URL ?? `http://localhost:${process.env.PORT ?? 3000}`).replace(/\/+$/, "");
process.env.BETTER_AUTH_URL ??= publicUrl;
const database = await joinDatabase(dataDir(), () => getSecret("database"));
let exitCode = 0;
try {
  await migrateToLatest(getDb(), database.url);
  const owner = await createOwner(getDb(), { email: values.email!, orgName: values.org!, name: values.name, tenantName: values.tenant! });
  console.log(`Created organization “${owner.org.name}” (/o/${owner.org.slug}) with tenant “${owner.tenant.name}”, owned by ${owner.name} <${owner.email}>.`);
  console.log(`\nSend the owner this link to set their password (it works once, for ${SET_PASSWORD_LINK_HOURS} hours):\n\n  ${publicUrl}/set-password/${owner.token}\n`);
} catch (error) {
  if (!(error instanceof AppError)) throw error;
  console.error(error.message);
  exitCode = error.code === "INVALID_REQUEST" ? 2 : 1;
} finally {
  await closeDb();
  await database.stop();
}
process.exit(exitCode);
