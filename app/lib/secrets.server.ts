import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { dataDir } from "./config.server";

type SecretName = "auth" | "signing" | "encryption" | "pseudonym";
const ENV: Record<SecretName, string> = {
  auth: "BETTER_AUTH_SECRET",
  signing: "EXPORTAL_SIGNING_SECRET",
  encryption: "EXPORTAL_ENCRYPTION_KEY",
  pseudonym: "EXPORTAL_PSEUDONYM_SECRET",
};

let fileSecrets: Partial<Record<SecretName, string>> | undefined;

/** Secrets generated on first start and kept in the data directory (mode 0600). */
function secretsFile(): Partial<Record<SecretName, string>> {
  if (fileSecrets) return fileSecrets;
  const file = path.join(dataDir(), "secrets.json");
  const stored = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
  let changed = false;
  for (const name of Object.keys(ENV) as SecretName[]) {
    if (!stored[name]) {
      stored[name] = randomBytes(32).toString("base64url");
      changed = true;
    }
  }
  if (changed) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
  }
  fileSecrets = stored;
  return stored;
}

/** A secret from the environment, else the one generated on first start. */
export function getSecret(name: SecretName): string {
  return process.env[ENV[name]] || secretsFile()[name]!;
}
