import { generateKeyPairSync, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { dataDir } from "./config.server";

type SecretName = "auth" | "signing" | "encryption" | "pseudonym" | "manifest" | "database";
/** The variable that overrides each secret; the embedded database's password has none, it is the embedded server's own. */
const ENV: Record<SecretName, string | null> = {
  auth: "BETTER_AUTH_SECRET",
  signing: "EXPORTAL_SIGNING_SECRET",
  encryption: "EXPORTAL_ENCRYPTION_KEY",
  pseudonym: "EXPORTAL_PSEUDONYM_SECRET",
  manifest: "EXPORTAL_MANIFEST_KEY",
  database: null,
};

/**
 * The data directory is the portal's user's alone. As root the embedded
 * PostgreSQL runs as the `postgres` user, which must pass through it to its
 * own data: others keep the execute bit then, never read.
 */
const DATA_DIR_MODE = process.getuid?.() === 0 ? 0o711 : 0o700;

/** Sets `mode` on a file or folder of ours whose mode differs; another user's is left alone. */
function tighten(file: string, mode: number): void {
  const s = statSync(file);
  if ((s.mode & 0o777) !== mode && s.uid === process.getuid?.()) chmodSync(file, mode);
}

/** A new secret: random bytes, except the manifest key, which is an Ed25519 private key (PKCS8 DER, base64). */
function generate(name: SecretName): string {
  if (name === "manifest") return generateKeyPairSync("ed25519").privateKey.export({ format: "der", type: "pkcs8" }).toString("base64");
  return randomBytes(32).toString("base64url");
}

let fileSecrets: Partial<Record<SecretName, string>> | undefined;

/**
 * Secrets generated on first start and kept in the data directory. The file
 * is made 0600 on every start, whatever made it looser, and rewritten whole
 * (a private temporary file, then a rename) when a secret is added.
 */
function secretsFile(): Partial<Record<SecretName, string>> {
  if (fileSecrets) return fileSecrets;
  const dir = dataDir();
  const file = path.join(dir, "secrets.json");
  mkdirSync(dir, { recursive: true, mode: DATA_DIR_MODE });
  tighten(dir, DATA_DIR_MODE);
  if (existsSync(file)) tighten(file, 0o600);
  const stored = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
  let changed = false;
  for (const name of Object.keys(ENV) as SecretName[]) {
    if (!stored[name]) {
      stored[name] = generate(name);
      changed = true;
    }
  }
  if (changed) {
    const temp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
    writeFileSync(temp, JSON.stringify(stored, null, 2), { mode: 0o600 });
    renameSync(temp, file);
  }
  fileSecrets = stored;
  return stored;
}

/** A secret from the environment, else the one generated on first start. */
export function getSecret(name: SecretName): string {
  const env = ENV[name];
  return (env && process.env[env]) || secretsFile()[name]!;
}
