#!/usr/bin/env node
import { createHash, type KeyObject } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import yauzl from "yauzl";
import type { ExportManifest } from "../db/schema";
import { keyIdOf, manifestSignatureHolds, publicKeyFrom } from "../app/lib/manifest-signature";
import { ParquetRowCounter } from "../app/lib/parquet-rows";
import { CsvRecordCounter, LineCounter } from "../app/lib/record-count";
import { xlsxSheetRows } from "../app/lib/xlsx-rows";

// `npm run verify -- export.zip --key <key or URL>`, and the `exportal-verify` bin (this file bundled by
// `npm run build`): checks an archive against its manifest and the manifest against its signature. It
// imports only node built-ins, yauzl and the pure helpers above, so the bundle runs anywhere Node does.

const USAGE = `Usage: npm run verify -- <archive.zip> [--key <public key>]
       exportal-verify <archive.zip> [--key <public key>]

  Checks each file of the archive against manifest.json (SHA-256, size, and the rows
  of NDJSON, CSV, Parquet and Excel files, an Excel workbook's sheet by sheet) and
  manifest.json against manifest.sig (Ed25519).

  --key   the portal's public key: the URL of its /api/v1/manifest-key
          (https://exports.example.com/api/v1/manifest-key), the key itself
          (SPKI DER in base64, or a PEM), or a file holding either.

  Exit status: 0 when every file and the signature were verified; 1 when anything
  differs, is missing, or the signature was not checked (no --key); 2 on a usage error.`;

const MANIFEST = "manifest.json";
const SIGNATURE = "manifest.sig";

/** `rows`: counted from the file itself; null when its format has no rows to count; an Error when the file could not be read as its format. */
type EntryStats = { bytes: number; sha256: string; rows: number | null | Error; sheets?: { name: string; rows: number }[]; content?: Buffer };

function usage(problem?: string): never {
  if (problem) console.error(`${problem}\n`);
  console.error(USAGE);
  process.exit(2);
}

/** The public key from --key: a URL of /api/v1/manifest-key, a file, or the key's text. */
async function publicKeyOf(value: string): Promise<KeyObject> {
  let text = value;
  if (/^https?:\/\//i.test(value)) {
    const res = await fetch(value, { headers: { Accept: "application/json" } });
    if (!res.ok) throw new Error(`${value} answered ${res.status} ${res.statusText}`);
    text = await res.text();
  } else if (!value.trim().startsWith("-----BEGIN") && existsSync(value)) {
    text = readFileSync(value, "utf8");
  }
  // The endpoint's answer (or a saved copy of it) names the key in `publicKey`.
  if (text.trim().startsWith("{")) {
    const body = JSON.parse(text) as { algorithm?: unknown; publicKey?: unknown };
    if (body.algorithm !== "Ed25519" || typeof body.publicKey !== "string") throw new Error("the key document has no Ed25519 publicKey");
    text = body.publicKey;
  }
  return publicKeyFrom(text);
}

/** A counter of the rows of a file in this format, fed its bytes as they stream past. */
function rowCounterFor(name: string): { update(chunk: Buffer): void; rows(): number } | null {
  if (name.endsWith(".csv")) return new CsvRecordCounter();
  if (name.endsWith(".ndjson")) return new LineCounter();
  if (name.endsWith(".parquet")) return new ParquetRowCounter();
  return null;
}

/** The counter's rows, or what kept it from counting them (a file that is not what its name says). */
function countedRows(counter: { rows(): number }): number | Error {
  try {
    return counter.rows();
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** Reads every entry once, streaming: hashes and sizes all, counts rows of NDJSON, CSV and Parquet, keeps JSON files and workbooks whole. */
function readEntries(file: string): Promise<{ entries: Map<string, EntryStats>; duplicates: string[] }> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error);
      const entries = new Map<string, EntryStats>();
      const duplicates: string[] = [];
      zip.on("error", reject);
      zip.on("end", () => resolve({ entries, duplicates }));
      zip.on("entry", (entry: yauzl.Entry) => {
        const name = entry.fileName;
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e);
          const hash = createHash("sha256");
          const counter = rowCounterFor(name);
          const kept: Buffer[] | null = counter ? null : [];
          let bytes = 0;
          stream.on("data", (chunk: Buffer) => {
            hash.update(chunk);
            bytes += chunk.length;
            counter?.update(chunk);
            kept?.push(chunk);
          });
          stream.on("error", reject);
          stream.on("end", () => {
            const content = kept ? Buffer.concat(kept) : undefined;
            // A second entry of the same name would let a reader pick either copy: that alone fails the archive.
            if (entries.has(name)) duplicates.push(name);
            entries.set(name, { bytes, sha256: hash.digest("hex"), rows: counter ? countedRows(counter) : name.endsWith(".xlsx") ? null : jsonRows(content!), content });
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

/**
 * A workbook's rows, sheet by sheet. A zip entry of the archive can only be opened whole, so the
 * workbook is held in memory while its sheets are counted (each sheet's XML streams).
 */
async function countWorkbooks(entries: Map<string, EntryStats>): Promise<void> {
  for (const [name, entry] of entries) {
    if (!name.endsWith(".xlsx") || !entry.content) continue;
    try {
      entry.sheets = await xlsxSheetRows(entry.content);
      entry.rows = entry.sheets.reduce((sum, sheet) => sum + sheet.rows, 0);
    } catch (error) {
      entry.rows = error instanceof Error ? error : new Error(String(error));
    }
    entry.content = undefined;
  }
}

/** dashboards.json counts its dashboards; another JSON file has no rows to count. */
function jsonRows(content: Buffer): number | null {
  try {
    const document = JSON.parse(content.toString("utf8"));
    return Array.isArray(document?.dashboards) ? document.dashboards.length : null;
  } catch {
    return null;
  }
}

const pad = (text: string, width: number) => text.padEnd(width);
const sheetList = (sheets: { name: string; rows: number }[]) => sheets.map((sheet) => `"${sheet.name}" ${sheet.rows}`).join(", ");

async function main(): Promise<number> {
  let parsed;
  try {
    // A PEM starts with "-----", which parseArgs takes for an option unless it is joined to its flag: join it.
    const argv = process.argv.slice(2);
    const args: string[] = [];
    for (let i = 0; i < argv.length; i++) args.push(argv[i] === "--key" && i + 1 < argv.length ? `--key=${argv[++i]}` : argv[i]);
    parsed = parseArgs({ args, allowPositionals: true, options: { key: { type: "string" }, help: { type: "boolean", short: "h" } } });
  } catch (error) {
    usage((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) usage(positionals.length === 0 ? "Name the archive to verify." : "Name one archive.");
  const file = positionals[0];

  let publicKey: KeyObject | null = null;
  if (values.key !== undefined) {
    try {
      publicKey = await publicKeyOf(values.key);
    } catch (error) {
      usage(`--key: not an Ed25519 public key, nor a URL or file giving one (${(error as Error).message}).`);
    }
  }

  let read;
  try {
    read = await readEntries(file);
    await countWorkbooks(read.entries);
  } catch (error) {
    console.log(`FAIL  ${file}: not a readable zip archive (${(error as Error).message})`);
    console.log("NOT VERIFIED");
    return 1;
  }
  const { entries, duplicates } = read;
  const problems: string[] = [];
  const fail = (name: string, what: string) => {
    problems.push(`${name}: ${what}`);
    console.log(`FAIL  ${name}: ${what}`);
  };
  for (const name of new Set(duplicates)) fail(name, "appears more than once in the archive");

  const manifestBytes = entries.get(MANIFEST)?.content;
  let manifest: ExportManifest | null = null;
  if (!manifestBytes) fail(MANIFEST, "missing: there is nothing to check the files against");
  else {
    try {
      manifest = JSON.parse(manifestBytes.toString("utf8")) as ExportManifest;
      if (!Array.isArray(manifest.files)) throw new Error("it lists no files");
    } catch (error) {
      manifest = null;
      fail(MANIFEST, `not a manifest (${(error as Error).message})`);
    }
  }

  // Every file the manifest lists, against what the archive holds.
  const listed = new Set<string>();
  const width = Math.max(24, ...[...entries.keys()].map((n) => n.length + 2));
  for (const expected of manifest?.files ?? []) {
    listed.add(expected.name);
    const actual = entries.get(expected.name);
    if (!actual) {
      fail(expected.name, "listed in the manifest, missing from the archive");
      continue;
    }
    const differences: string[] = [];
    if (actual.bytes !== expected.bytes) differences.push(`${actual.bytes} bytes, the manifest says ${expected.bytes}`);
    if (actual.sha256 !== expected.sha256) differences.push(`SHA-256 ${actual.sha256}, the manifest says ${expected.sha256}`);
    if (actual.rows instanceof Error) differences.push(`rows could not be counted (${actual.rows.message})`);
    else if (actual.rows !== null && actual.rows !== expected.rows) differences.push(`${actual.rows} rows, the manifest says ${expected.rows}`);
    if (actual.sheets && JSON.stringify(actual.sheets) !== JSON.stringify(expected.sheets ?? actual.sheets)) {
      differences.push(`sheets ${sheetList(actual.sheets)}, the manifest says ${sheetList(expected.sheets!)}`);
    }
    if (differences.length > 0) fail(expected.name, differences.join("; "));
    else console.log(`ok    ${pad(expected.name, width)}${actual.rows === null ? "rows not counted" : `${actual.rows} rows`}, ${actual.bytes} bytes, SHA-256 matches`);
  }
  if (manifest) {
    for (const name of entries.keys()) if (!listed.has(name) && name !== MANIFEST && name !== SIGNATURE) fail(name, "in the archive, not listed in the manifest");
  }

  // The signature covers manifest.json's exact bytes, so it vouches for every hash checked above.
  const signature = entries.get(SIGNATURE)?.content;
  let signatureChecked = false;
  if (!manifestBytes) {
    // Reported above.
  } else if (!signature) {
    fail(SIGNATURE, "missing: the archive is not signed (archives made before signing was added have none)");
  } else if (!publicKey) {
    console.log(`--    ${pad(SIGNATURE, width)}signature NOT CHECKED: pass the portal's key, --key https://<portal>/api/v1/manifest-key`);
  } else if (manifestSignatureHolds(manifestBytes, signature, publicKey)) {
    signatureChecked = true;
    console.log(`ok    ${pad(SIGNATURE, width)}Ed25519 signature of manifest.json holds under key ${keyIdOf(publicKey)}`);
  } else {
    fail(SIGNATURE, `the signature does not match manifest.json under key ${keyIdOf(publicKey)}: the manifest was changed, or signed with another key`);
  }

  if (problems.length > 0) {
    console.log(`NOT VERIFIED: ${problems.length} ${problems.length === 1 ? "problem" : "problems"}.`);
    return 1;
  }
  const files = manifest!.files.length;
  if (!signatureChecked) {
    console.log(`NOT VERIFIED: the ${files} files match the manifest, but the manifest's signature was not checked (no --key).`);
    return 1;
  }
  console.log(`VERIFIED: the ${files} files match the manifest, and the manifest's signature holds.`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
