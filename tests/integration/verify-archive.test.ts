import { execFile } from "node:child_process";
import { createHash, createPublicKey, generateKeyPairSync, sign } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import { ZipArchive } from "archiver";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import type { ExportManifest } from "../../db/schema";
import { createExport } from "../../app/exports/exports.server";
import { writeParquet } from "../../app/exports/engine/parquet-file.server";
import type { RowColumn, RowFileWriter } from "../../app/exports/engine/row-files.server";
import { getStorage } from "../../app/exports/engine/storage.server";
import { writeXlsx, xlsxWriter } from "../../app/exports/engine/xlsx-file.server";
import * as manifestKeyRoute from "../../app/routes/api.v1.manifest-key";
import * as apiPage from "../../app/routes/o.$org.t.$tenant.api";
import * as exportPage from "../../app/routes/o.$org.t.$tenant.exports.$id";
import { exportRow, runQueuedJobs } from "../setup/exports";
import { callRoute, makeRequest, requesterFor, signIn } from "../setup/routes";
import { readZip } from "../setup/zip";

// The real CLI, as a recipient runs it, on a real export's archive and on copies of it altered the
// ways an archive can be altered: a file's byte, a removed row with the hashes redone, the manifest
// itself, a signature by another key.

const run = promisify(execFile);
const VERIFY = path.resolve("scripts/verify.ts");
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const manifestText = (m: ExportManifest) => Buffer.from(JSON.stringify(m, null, 2) + "\n");
const MULTILINE = 'Glucose, "fasting"\nsecond line of the name';

let dir: string;
let admin: Awaited<ReturnType<typeof requesterFor>>;
let archive: Buffer;
let exportId: string;
let files: Map<string, Buffer>;
let manifest: ExportManifest;
let served: { algorithm: string; publicKey: string; keyId: string };
let pem: string;

async function verify(file: string, ...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", VERIFY, file, ...args]);
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

/** A new zip of these entries, as a tamperer would rebuild one. */
async function zipOf(entries: Map<string, Buffer>): Promise<Buffer> {
  const zip = new ZipArchive({ zlib: { level: 1 } });
  const collected = (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of zip) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  })();
  for (const [name, content] of entries) zip.append(content, { name });
  await zip.finalize();
  return collected;
}

function writeTemp(name: string, bytes: Buffer): string {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

async function exportArchive(request: Record<string, unknown>): Promise<{ id: string; bytes: Buffer }> {
  const exp = await createExport(getDb(), admin, request);
  await runQueuedJobs();
  const row = await exportRow(exp.id);
  expect(row.status, row.error ?? "").toBe("done");
  const chunks: Buffer[] = [];
  for await (const chunk of await getStorage().read(row.archive_key!)) chunks.push(chunk as Buffer);
  return { id: exp.id, bytes: Buffer.concat(chunks) };
}

async function servedKey() {
  const res = await callRoute(manifestKeyRoute.loader, makeRequest("/api/v1/manifest-key"));
  expect(res.status).toBe(200);
  return res.data as typeof served;
}

let request: Record<string, unknown>;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "exportal-verify-"));
  admin = await requesterFor("production-admin@acme.test", "production");
  const project = await getDb().selectFrom("project").select("id").where("tenant_id", "=", admin.tenantId).where("name", "=", "Cardio Study").executeTakeFirstOrThrow();
  // A quoted CSV field with a newline and quotes in it: rows are records, not lines.
  await sql`update lab_result set test_name = ${MULTILINE}
    where id = (select id from lab_result where project_id = ${project.id} order by collected_at, id limit 1)`.execute(getDb());
  request = { scope: { type: "project", projectId: project.id }, dataTypes: ["hsi_records", "lab_results"], format: "both", deidentification: "full" };
  ({ id: exportId, bytes: archive } = await exportArchive(request));
  files = await readZip(archive);
  manifest = JSON.parse(files.get("manifest.json")!.toString());
  served = await servedKey();
  pem = createPublicKey({ key: Buffer.from(served.publicKey, "base64"), format: "der", type: "spki" }).export({ format: "pem", type: "spki" }).toString();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("GET /api/v1/manifest-key", () => {
  it("answers the Ed25519 public key without an API key, and other methods with a 405 in the API's shape", async () => {
    expect(served).toEqual({ algorithm: "Ed25519", publicKey: expect.stringMatching(/^[A-Za-z0-9+/]+=*$/), keyId: expect.stringMatching(/^[0-9a-f]{16}$/) });
    const post = await callRoute(manifestKeyRoute.action, makeRequest("/api/v1/manifest-key", { method: "POST" }));
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET");
    expect(post.data.error.code).toBe("METHOD_NOT_ALLOWED");
  });
});

describe("the portal's pages", () => {
  it("the API page shows the key and documents its endpoint without an API key; the export's page shows the command for its archive", async () => {
    const cookie = await signIn("production-viewer@acme.test");
    const params = { org: "acme-health", tenant: "production" };
    const page = await callRoute(apiPage.loader, makeRequest("/o/acme-health/t/production/api", { cookie }), params);
    expect(page.data.manifestKey).toEqual(served);
    const op = page.data.operations.find((o: { path: string }) => o.path === "/api/v1/manifest-key");
    expect(op).toMatchObject({ method: "GET", permission: null });
    expect(op.curl).toBe('curl -sS "http://localhost:3000/api/v1/manifest-key"');

    const admin = await signIn("production-admin@acme.test");
    const detail = await callRoute(exportPage.loader, makeRequest(`/o/acme-health/t/production/exports/${exportId}`, { cookie: admin }), { ...params, id: exportId });
    expect(detail.data.verifyCommand).toBe(`npm run verify -- export-${exportId}.zip --key http://localhost:3000/api/v1/manifest-key`);
  });
});

describe("exportal-verify", () => {
  it("passes the archive as the portal wrote it, with the key from the endpoint as PEM, as base64, and by URL", async () => {
    expect([...files.keys()].sort()).toEqual(["hsi_records.csv", "hsi_records.ndjson", "lab_results.csv", "lab_results.ndjson", "manifest.json", "manifest.sig"]);
    expect(files.get("manifest.sig")!.length).toBe(64);
    // The CSV does hold a record over two lines, so counting lines would get it wrong.
    const csv = files.get("lab_results.csv")!.toString();
    expect(csv).toContain('"Glucose, ""fasting""\nsecond line of the name"');
    const labRows = manifest.files.find((f) => f.name === "lab_results.csv")!.rows;
    expect(csv.trimEnd().split("\n").length - 1).toBe(labRows + 1);

    const file = writeTemp("good.zip", archive);
    const good = await verify(file, "--key", pem);
    expect(good.code, good.out).toBe(0);
    for (const f of manifest.files) expect(good.out).toMatch(new RegExp(`^ok +${f.name.replace(".", "\\.")} +${f.rows} rows, ${f.bytes} bytes, SHA-256 matches$`, "m"));
    expect(good.out).toMatch(/^ok +manifest\.sig +Ed25519 signature of manifest\.json holds under key [0-9a-f]{16}$/m);
    expect(good.out).toMatch(/^VERIFIED: the 4 files match the manifest, and the manifest's signature holds\.$/m);
    expect(good.out).not.toContain("FAIL");

    expect((await verify(file, "--key", served.publicKey)).code).toBe(0);

    // A recipient's usual form: the portal's URL of the key.
    const server: Server = createServer(async (req, res) => {
      const answer = await manifestKeyRoute.loader({ request: new Request(`http://localhost${req.url}`), params: {}, context: {} });
      res.writeHead(answer.status, Object.fromEntries(answer.headers));
      res.end(await answer.text());
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/manifest-key`;
      const byUrl = await verify(file, "--key", url);
      expect(byUrl.code, byUrl.out).toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("without --key checks the files but fails, saying the signature was not checked and how to pass the key", async () => {
    const { code, out } = await verify(writeTemp("nokey.zip", archive));
    expect(code).toBe(1);
    expect(out).toMatch(/^ok +hsi_records\.csv/m);
    expect(out).toMatch(/manifest\.sig +signature NOT CHECKED: pass the portal's key, --key https:\/\/<portal>\/api\/v1\/manifest-key/);
    expect(out).toMatch(/^NOT VERIFIED: the 4 files match the manifest, but the manifest's signature was not checked/m);
  });

  it("fails on one flipped byte in a data file, naming the file and its hash, while the signature still holds", async () => {
    const edited = new Map(files);
    const ndjson = Buffer.from(files.get("hsi_records.ndjson")!);
    ndjson[ndjson.indexOf('"value"') + 1] ^= 0x20; // "value" becomes "Value": same size, same lines
    edited.set("hsi_records.ndjson", ndjson);
    const { code, out } = await verify(writeTemp("flipped.zip", await zipOf(edited)), "--key", pem);
    expect(code, out).toBe(1);
    expect(out).toMatch(new RegExp(`^FAIL +hsi_records\\.ndjson: SHA-256 ${sha256(ndjson)}, the manifest says [0-9a-f]{64}$`, "m"));
    expect(out).toMatch(/^ok +hsi_records\.csv/m);
    expect(out).toMatch(/^ok +manifest\.sig/m);
    expect(out).toMatch(/^NOT VERIFIED: 1 problem\.$/m);
  });

  it("fails on a removed row whose hash and size the manifest was made to match: the rows and the signature say so", async () => {
    const edited = new Map(files);
    const lines = files.get("lab_results.ndjson")!.toString().split("\n");
    const shorter = Buffer.from([...lines.slice(0, 1), ...lines.slice(2)].join("\n"));
    edited.set("lab_results.ndjson", shorter);
    const forged: ExportManifest = { ...manifest, files: manifest.files.map((f) => (f.name === "lab_results.ndjson" ? { ...f, bytes: shorter.length, sha256: sha256(shorter) } : f)) };
    edited.set("manifest.json", manifestText(forged));
    const { code, out } = await verify(writeTemp("row-removed.zip", await zipOf(edited)), "--key", pem);
    expect(code, out).toBe(1);
    const rows = manifest.files.find((f) => f.name === "lab_results.ndjson")!.rows;
    expect(out).toMatch(new RegExp(`^FAIL +lab_results\\.ndjson: ${rows - 1} rows, the manifest says ${rows}$`, "m"));
    expect(out).toMatch(/^FAIL +manifest\.sig: the signature does not match manifest\.json under key [0-9a-f]{16}: the manifest was changed, or signed with another key$/m);
    expect(out).toMatch(/^NOT VERIFIED: 2 problems\.$/m);
  });

  it("fails on an edited manifest whose files all still match: only the signature can tell", async () => {
    const edited = new Map(files);
    edited.set("manifest.json", manifestText({ ...manifest, snapshotAt: new Date(0).toISOString() }));
    const { code, out } = await verify(writeTemp("manifest-edited.zip", await zipOf(edited)), "--key", pem);
    expect(code, out).toBe(1);
    for (const f of manifest.files) expect(out).toMatch(new RegExp(`^ok +${f.name.replace(".", "\\.")} `, "m"));
    expect(out).toMatch(/^FAIL +manifest\.sig: the signature does not match manifest\.json/m);
    expect(out).toMatch(/^NOT VERIFIED: 1 problem\.$/m);
  });

  it("fails on a manifest signed by another key, and on the right signature checked with another key", async () => {
    const other = generateKeyPairSync("ed25519");
    const edited = new Map(files);
    edited.set("manifest.sig", sign(null, files.get("manifest.json")!, other.privateKey));
    const resigned = writeTemp("other-key.zip", await zipOf(edited));
    const forged = await verify(resigned, "--key", pem);
    expect(forged.code, forged.out).toBe(1);
    expect(forged.out).toMatch(new RegExp(`^FAIL +manifest\\.sig: the signature does not match manifest\\.json under key ${served.keyId}`, "m"));
    // The forger's own key does verify it: which is why the key must come from the portal.
    expect((await verify(resigned, "--key", other.publicKey.export({ format: "pem", type: "spki" }).toString())).code).toBe(0);

    const wrongKey = await verify(writeTemp("good-other.zip", archive), "--key", other.publicKey.export({ format: "der", type: "spki" }).toString("base64"));
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.out).toMatch(/^FAIL +manifest\.sig: the signature does not match/m);
  });

  it("fails on a file the manifest does not list, and on a missing signature", async () => {
    const edited = new Map(files);
    edited.delete("manifest.sig");
    edited.set("extra.csv", Buffer.from("a\n1\n"));
    const { code, out } = await verify(writeTemp("extra.zip", await zipOf(edited)), "--key", pem);
    expect(code, out).toBe(1);
    expect(out).toMatch(/^FAIL +extra\.csv: in the archive, not listed in the manifest$/m);
    expect(out).toMatch(/^FAIL +manifest\.sig: missing: the archive is not signed/m);
  });

  it("signs with the key EXPORTAL_MANIFEST_KEY supplies, and the endpoint serves its public half", async () => {
    const supplied = generateKeyPairSync("ed25519");
    process.env.EXPORTAL_MANIFEST_KEY = supplied.privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    try {
      const key = await servedKey();
      expect(key.publicKey).toBe(supplied.publicKey.export({ format: "der", type: "spki" }).toString("base64"));
      expect(key.keyId).not.toBe(served.keyId);
      const { bytes } = await exportArchive(request);
      const file = writeTemp("supplied.zip", bytes);
      expect((await verify(file, "--key", key.publicKey)).code).toBe(0);
      // The generated key no longer vouches for new archives.
      expect((await verify(file, "--key", pem)).code).toBe(1);
    } finally {
      delete process.env.EXPORTAL_MANIFEST_KEY;
    }
  });

  it("an EXPORTAL_MANIFEST_KEY that is not an Ed25519 private key fails the export before it copies, saying what to fix", async () => {
    process.env.EXPORTAL_MANIFEST_KEY = generateKeyPairSync("ed25519").publicKey.export({ format: "pem", type: "spki" }).toString();
    try {
      const exp = await createExport(getDb(), admin, request);
      await runQueuedJobs();
      const row = await exportRow(exp.id);
      expect(row.status).toBe("failed");
      expect(row.error).toContain("EXPORTAL_MANIFEST_KEY");
      expect(Number(row.rows_done)).toBe(0);
    } finally {
      delete process.env.EXPORTAL_MANIFEST_KEY;
    }
  });
});

describe("exportal-verify on Parquet and Excel files", () => {
  let typed: Map<string, Buffer>;
  let typedManifest: ExportManifest;
  const entry = (name: string) => typedManifest.files.find((f) => f.name === name)!;
  const COLUMNS: RowColumn[] = [{ name: "id", type: "int64" }];

  /** A writer's file of `rows` one-column rows, as a tamperer would make one. */
  async function fileOf(writer: RowFileWriter, rows: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    const out = new Writable({ write: (chunk: Buffer, _e, cb) => (chunks.push(chunk), cb()) });
    const done = new Promise((resolve) => out.on("finish", resolve));
    await writer("hsi_records", COLUMNS, (async function* () { yield Array.from({ length: rows }, (_, i) => [BigInt(i)]); })(), out);
    await done;
    return Buffer.concat(chunks);
  }

  /** The archive with these files replaced and the manifest's hashes and sizes (not rows) made to match them. */
  async function forged(replaced: Record<string, Buffer>): Promise<string> {
    const edited = new Map(typed);
    for (const [name, bytes] of Object.entries(replaced)) edited.set(name, bytes);
    const files = typedManifest.files.map((f) => (replaced[f.name] ? { ...f, bytes: replaced[f.name].length, sha256: sha256(replaced[f.name]) } : f));
    edited.set("manifest.json", manifestText({ ...typedManifest, files }));
    return writeTemp(`forged-${Object.keys(replaced).join("-")}.zip`, await zipOf(edited));
  }

  beforeAll(async () => {
    const { bytes } = await exportArchive({ ...request, format: ["parquet", "xlsx"] });
    typed = await readZip(bytes);
    typedManifest = JSON.parse(typed.get("manifest.json")!.toString());
    writeTemp("typed.zip", bytes);
  });

  it("passes the archive as written, counting Parquet rows from the footer and workbook rows sheet by sheet", async () => {
    const { code, out } = await verify(path.join(dir, "typed.zip"), "--key", pem);
    expect(code, out).toBe(0);
    for (const name of ["hsi_records.parquet", "hsi_records.xlsx", "lab_results.parquet", "lab_results.xlsx"]) {
      expect(out).toMatch(new RegExp(`^ok +${name.replace(".", "\\.")} +${entry(name).rows} rows, ${entry(name).bytes} bytes, SHA-256 matches$`, "m"));
    }
    expect(entry("hsi_records.xlsx").sheets).toEqual([{ name: "hsi_records", rows: entry("hsi_records.xlsx").rows }]);
  });

  it("fails on a Parquet file and a workbook with a row fewer than the manifest says, hashes redone", async () => {
    const rows = entry("hsi_records.parquet").rows;
    const file = await forged({ "hsi_records.parquet": await fileOf(writeParquet, rows - 1), "hsi_records.xlsx": await fileOf(writeXlsx, rows - 1) });
    const { code, out } = await verify(file, "--key", pem);
    expect(code, out).toBe(1);
    expect(out).toMatch(new RegExp(`^FAIL +hsi_records\\.parquet: ${rows - 1} rows, the manifest says ${rows}$`, "m"));
    expect(out).toMatch(new RegExp(`^FAIL +hsi_records\\.xlsx: ${rows - 1} rows, the manifest says ${rows}; sheets "hsi_records" ${rows - 1}, the manifest says "hsi_records" ${rows}$`, "m"));
    expect(out).toMatch(/^ok +lab_results\.parquet/m);
  });

  it("fails on a workbook with every row but on other sheets than the manifest lists", async () => {
    const rows = entry("hsi_records.xlsx").rows;
    const half = Math.ceil(rows / 2);
    const file = await forged({ "hsi_records.xlsx": await fileOf(xlsxWriter({ maxRowsPerSheet: half }), rows) });
    const { out } = await verify(file, "--key", pem);
    expect(out).toMatch(new RegExp(`^FAIL +hsi_records\\.xlsx: sheets "hsi_records" ${half}, "hsi_records \\(2\\)" ${rows - half}, the manifest says "hsi_records" ${rows}$`, "m"));
  });

  it("names a file that is not what its name says instead of crashing", async () => {
    const cut = typed.get("lab_results.parquet")!.subarray(0, 100);
    const { code, out } = await verify(await forged({ "lab_results.parquet": cut, "lab_results.xlsx": Buffer.from("not a workbook") }), "--key", pem);
    expect(code, out).toBe(1);
    expect(out).toMatch(/^FAIL +lab_results\.parquet: rows could not be counted \(.+\)$/m);
    expect(out).toMatch(/^FAIL +lab_results\.xlsx: rows could not be counted \(.+\)$/m);
  });
});
