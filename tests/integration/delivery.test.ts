import { createHmac, timingSafeEqual } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { DeleteObjectCommand, GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { sql } from "kysely";
import S3rver from "s3rver";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import type { Export } from "../../db/schema";
import { buildAbility, permissionsFor } from "../../app/auth/permissions";
import type { Requester } from "../../app/auth/requester";
import { deliverRun, enqueueAttempt, notifyRunFailed } from "../../app/delivery/deliver-run.server";
import { checkScheduleTargets, createBucket, createWebhook, listBuckets, listWebhooks } from "../../app/delivery/targets.server";
import { webhookLog } from "../../app/delivery/webhook-log.server";
import { isRetryable, postWebhook, WEBHOOK_TIMEOUT_MS } from "../../app/delivery/webhook-send.server";
import { downloadBySignedLink } from "../../app/exports/download.server";
import { createExport } from "../../app/exports/exports.server";
import { getStorage } from "../../app/exports/engine/storage.server";
import { createSchedule } from "../../app/schedules/schedules.server";
import * as bucketsApi from "../../app/routes/api.v1.buckets";
import * as bucketApi from "../../app/routes/api.v1.buckets.$id";
import * as bucketTestApi from "../../app/routes/api.v1.buckets.$id.test";
import * as webhooksApi from "../../app/routes/api.v1.webhooks";
import * as webhookApi from "../../app/routes/api.v1.webhooks.$id";
import * as webhookTestApi from "../../app/routes/api.v1.webhooks.$id.test";
import * as deliveryPage from "../../app/routes/o.$org.t.$tenant.delivery";
import { createKey, ownerIn, tenantBySlug } from "../setup/api";
import { exportRow, runQueuedJobs } from "../setup/exports";
import { callRoute, makeRequest, signIn } from "../setup/routes";
import { readZip } from "../setup/zip";

// Delivery of a scheduled run against real servers: an SMTP server, an HTTP
// receiver that checks signatures with its own HMAC, and s3rver as a bucket.

const db = () => getDb();
const BUCKET_KEY_ID = "AKIADELIVERY0TEST";
const BUCKET_SECRET = "delivery-secret-Zq9xW-never-shown";

// --- SMTP -------------------------------------------------------------------
const mails: { to: string; text: string }[] = [];
const decodeQuotedPrintable = (raw: string) => raw.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ["STARTTLS"],
  onData(stream, session, done) {
    let text = "";
    stream.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
    stream.on("end", () => {
      mails.push({ to: session.envelope.rcptTo.map((r) => r.address).join(","), text: decodeQuotedPrintable(text) });
      done();
    });
  },
});
const mailTo = (email: string) => mails.filter((m) => m.to === email);

// --- webhook receiver ---------------------------------------------------------
interface Received {
  path: string;
  body: string;
  signature: string | undefined;
}
const received: Received[] = [];
/** What each path answers, in turn; the last answer repeats. */
const answers: Record<string, number[]> = { "/ok": [200], "/flaky": [500, 500, 200], "/gone": [410] };
const receiver = http.createServer((req, res) => {
  if (req.url === "/slow") return; // never answers
  let body = "";
  req.on("data", (c: Buffer) => (body += c));
  req.on("end", () => {
    const path = req.url ?? "";
    received.push({ path, body, signature: req.headers["exportal-signature"] as string | undefined });
    const queue = answers[path] ?? [404];
    const status = queue.length > 1 ? queue.shift()! : queue[0];
    res.writeHead(status, { "Content-Type": "text/plain" }).end(String(status));
  });
});
let receiverUrl: string;

/** The receiver's check, written here from the documented scheme (not the app's code): t=…,v1=hex HMAC-SHA256("t.body"). */
function verifySignature(header: string | undefined, body: string, secret: string): boolean {
  const parts = Object.fromEntries((header ?? "").split(",").map((p) => p.split("=", 2) as [string, string]));
  if (!parts.t || !parts.v1) return false;
  if (Math.abs(Date.now() / 1000 - Number(parts.t)) > 300) return false;
  const expected = createHmac("sha256", secret).update(`${parts.t}.${body}`).digest();
  const given = Buffer.from(parts.v1, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

// --- S3 -----------------------------------------------------------------------
const s3Dir = mkdtempSync(path.join(os.tmpdir(), "exportal-delivery-s3-"));
const s3 = new S3rver({ port: 0, address: "127.0.0.1", directory: s3Dir, silent: true, configureBuckets: [{ name: "lake", configs: [] }] });
let s3Url: string;

// --- the run ------------------------------------------------------------------
let owner: Requester;
const people: Record<"admin" | "editor" | "viewer", { id: string; email: string }> = {} as never;
const secrets: Record<string, string> = {};
const webhookIds: Record<string, string> = {};
let bucketId: string;
let scheduleId: string;
let runId: string;
let fullExport: Export;
let deidentifiedExport: Export;
const slot = new Date("2026-11-29T01:00:00.000Z");

async function userByEmail(email: string) {
  return db().selectFrom("user").select(["id", "email"]).where("email", "=", email).executeTakeFirstOrThrow();
}

async function deliveriesOf(run: string) {
  return db().selectFrom("delivery").selectAll().where("run_id", "=", run).execute();
}

async function attemptsOf(deliveryId: string) {
  return db().selectFrom("delivery_attempt").selectAll().where("delivery_id", "=", deliveryId).orderBy("attempted_at").orderBy("id").execute();
}

async function buildExport(request: Record<string, unknown>): Promise<Export> {
  const created = await createExport(db(), owner, request, { scheduleRunId: runId });
  await runQueuedJobs();
  const row = await exportRow(created.id);
  expect(row.status, row.error ?? "").toBe("done");
  return row;
}

beforeAll(async () => {
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  process.env.EXPORTAL_SMTP_URL = `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}?ignoreTLS=true`;
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  // The bucket's own keys, registered with s3rver, so a request signed with anything else is refused.
  createRequire(import.meta.url)("s3rver/lib/models/account.js").DUMMY_ACCOUNT.createKeyPair(BUCKET_KEY_ID, BUCKET_SECRET);
  s3Url = `http://127.0.0.1:${(await s3.run()).port}`;

  owner = await ownerIn("production");
  for (const role of ["admin", "editor", "viewer"] as const) people[role] = await userByEmail(`production-${role}@acme.test`);
  for (const name of ["ok", "flaky", "gone"]) {
    const { webhook, secret } = await createWebhook(db(), owner, { url: `${receiverUrl}/${name}`, description: `${name} receiver` });
    webhookIds[name] = webhook.id;
    secrets[name] = secret;
  }
  // The bucket is added as a program would, through the API: the run below delivers to it.
  const bucketKey = await createKey("production", ["data.exports.read", "data.exports.schedule"], { name: "buckets" });
  const added = await callRoute(
    bucketsApi.action,
    new Request("http://localhost:3000/api/v1/buckets", {
      method: "POST",
      headers: { Authorization: `Bearer ${bucketKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "Data lake", endpoint: s3Url, region: "us-east-1", bucket: "lake", prefix: "exportal", forcePathStyle: true, accessKeyId: BUCKET_KEY_ID, secretAccessKey: BUCKET_SECRET }),
    }),
  );
  expect(added.status, JSON.stringify(added.data)).toBe(201);
  bucketId = added.data.id;

  const tenant = await tenantBySlug("production");
  const project = await db().selectFrom("project").select("id").where("tenant_id", "=", tenant.id).orderBy("name").executeTakeFirstOrThrow();
  const request = { scope: { type: "project", projectId: project.id }, dataTypes: ["hsi_records"], format: "ndjson", deidentification: "full" };
  const schedule = await createSchedule(db(), owner, {
    name: "Nightly HSI",
    request: { ...request, dateRange: { preset: "last_30_days" } },
    cadence: { kind: "daily", time: "02:00" },
    timeZone: "Europe/Berlin",
    recipients: Object.values(people).map((p) => p.id),
    webhookIds: Object.values(webhookIds),
    bucketIds: [bucketId],
  });
  scheduleId = schedule.id;
  runId = (
    await db()
      .insertInto("export_schedule_run")
      .values({ schedule_id: scheduleId, tenant_id: tenant.id, kind: "scheduled", slot_at: slot, interval_from: new Date(slot.getTime() - 86_400_000), interval_to: slot, status: "done" })
      .returning("id")
      .executeTakeFirstOrThrow()
  ).id;
  // What the runner builds: one export per variant its recipients need (the admin's full one, the editor's de-identified one).
  // The test plays the runner: its run is already done, so the runner (woken as each export ends) leaves it alone.
  fullExport = await buildExport({ ...request, dateRange: { preset: "last_30_days" } });
  deidentifiedExport = await buildExport({ ...request, deidentification: "deidentified", dateRange: { preset: "last_30_days" } });

  await deliverRun(db(), runId);
  await runQueuedJobs();
}, 120_000);

afterAll(async () => {
  delete process.env.EXPORTAL_SMTP_URL;
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
  const server = s3.httpServer as http.Server | undefined;
  if (server?.listening) {
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeAllConnections();
    await closed;
  }
  rmSync(s3Dir, { recursive: true, force: true });
});

describe("email to each recipient, by their rights now", () => {
  const linkIn = (text: string) => /http:\/\/localhost:3000\/downloads\/[^\s]+/.exec(text)?.[0];

  it("the admin gets the full export's signed link, its expiry and the manifest's files, rows and SHA-256, with no attachment", async () => {
    const [mail] = mailTo(people.admin.email);
    expect(mailTo(people.admin.email)).toHaveLength(1);
    expect(mail.text).toContain('The scheduled export "Nightly HSI" ran for 2026-11-29T01:00:00.000Z');
    const link = linkIn(mail.text)!;
    expect(link).toContain(`/downloads/${fullExport.id}?`);
    expect(mail.text).toMatch(/Download it until .+ GMT/);
    for (const file of fullExport.manifest!.files) {
      expect(mail.text).toContain(`${file.name}: ${file.rows.toLocaleString("en-US")} rows, SHA-256 ${file.sha256}`);
    }
    expect(mail.text).not.toMatch(/Content-Disposition: attachment/i);
    expect(mail.text).not.toContain("application/zip");
  });

  it("the editor's link opens the de-identified export", async () => {
    const [mail] = mailTo(people.editor.email);
    const link = linkIn(mail.text)!;
    expect(link).toContain(`/downloads/${deidentifiedExport.id}?`);
    expect(deidentifiedExport.deidentification).toBe("deidentified");
    const response = await downloadBySignedLink(db(), deidentifiedExport.id, new Request(link));
    expect(response.status).toBe(200);
    const files = await readZip(Buffer.from(await response.arrayBuffer()));
    expect(JSON.parse(files.get("manifest.json")!.toString()).deidentification.profile).toBe("deidentified");
  });

  it("each link that left the portal is in the audit trail", async () => {
    const issued = await db().selectFrom("audit_event").select(["subject_id", "details", "actor_label"]).where("action", "=", "export.link_issued").where("subject_id", "in", [fullExport.id, deidentifiedExport.id]).execute();
    const by = (via: string) => issued.filter((e) => (e.details as { via: string }).via === via);
    expect(by("email").map((e) => (e.details as { userId: string }).userId).sort()).toEqual([people.admin.id, people.editor.id].sort());
    expect(by("webhook").length).toBeGreaterThanOrEqual(1);
    expect(issued.every((e) => e.actor_label === "scheduled delivery")).toBe(true);
  });

  it("the viewer gets a notice without a link", async () => {
    const [mail] = mailTo(people.viewer.email);
    expect(mail.text).toContain("A scheduled export ran; your role does not include downloading it");
    expect(mail.text).not.toContain("/downloads/");
    expect(mail.text).not.toContain(fullExport.id);
  });

  it("a second deliverRun of the same run sends nothing again", async () => {
    const before = mails.length;
    await deliverRun(db(), runId);
    await runQueuedJobs();
    expect(mails.length).toBe(before);
  });
});

describe("webhooks", () => {
  it("the receiver gets export.completed, signed under the endpoint's secret, with an absolute signed link", async () => {
    const [hit] = received.filter((r) => r.path === "/ok");
    expect(verifySignature(hit.signature, hit.body, secrets.ok)).toBe(true);
    expect(verifySignature(hit.signature, hit.body, secrets.flaky)).toBe(false);
    expect(verifySignature(hit.signature, hit.body.replace("Nightly", "Daily"), secrets.ok)).toBe(false);
    const event = JSON.parse(hit.body);
    expect(event).toMatchObject({
      type: "export.completed",
      exportId: fullExport.id,
      schedule: { id: scheduleId, name: "Nightly HSI" },
      run: { id: runId, slot: slot.toISOString(), interval: { from: "2026-11-28T01:00:00.000Z", to: slot.toISOString() } },
      manifest: { exportId: fullExport.id },
    });
    expect(event.downloadUrl).toMatch(new RegExp(`^http://localhost:3000/downloads/${fullExport.id}\\?`));
    expect(Date.parse(event.expiresAt)).toBeGreaterThan(Date.now());
    const response = await downloadBySignedLink(db(), fullExport.id, new Request(event.downloadUrl));
    expect(response.status).toBe(200);
  });

  it("goes to public addresses only unless EXPORTAL_WEBHOOK_ALLOW_PRIVATE: a receiver on this machine is not called, and not retried", async () => {
    process.env.EXPORTAL_WEBHOOK_ALLOW_PRIVATE = "false";
    try {
      const before = received.length;
      const port = (receiver.address() as AddressInfo).port;
      for (const url of [`${receiverUrl}/private`, `http://localhost:${port}/private`]) {
        const outcome = await postWebhook(url, "whsec_test", { type: "ping" });
        expect(outcome).toMatchObject({ statusCode: null, final: true });
        expect(outcome.error).toMatch(/a private address; deliveries go to public addresses only/);
        expect(isRetryable(outcome)).toBe(false);
      }
      expect(received.length).toBe(before);
    } finally {
      process.env.EXPORTAL_WEBHOOK_ALLOW_PRIVATE = "true";
    }
  });

  it("a 500 is retried with backoff until the receiver takes it: three tries logged, delivered", async () => {
    const delivery = () => db().selectFrom("delivery").selectAll().where("run_id", "=", runId).where("webhook_id", "=", webhookIds.flaky).executeTakeFirstOrThrow();
    const first = await delivery();
    expect(first).toMatchObject({ status: "pending", attempts: 1, last_status_code: 500 });
    // The next try waits a minute, then two.
    const waits: number[] = [];
    for (let i = 0; i < 2; i++) {
      const d = await delivery();
      const { rows } = await sql<{ run_at: Date }>`select run_at from graphile_worker.jobs where key = ${`delivery:${d.id}`}`.execute(db());
      waits.push(Math.round((rows[0].run_at.getTime() - Date.now()) / 60_000));
      // Time passes: the job is due now.
      await enqueueAttempt(db(), d.id, new Date());
      await runQueuedJobs();
    }
    expect(waits).toEqual([1, 2]);
    const done = await delivery();
    expect(done).toMatchObject({ status: "sent", attempts: 3, last_status_code: 200, next_attempt_at: null });
    expect((await attemptsOf(done.id)).map((a) => a.status_code)).toEqual([500, 500, 200]);
    const hits = received.filter((r) => r.path === "/flaky");
    expect(hits).toHaveLength(3);
    for (const hit of hits) expect(verifySignature(hit.signature, hit.body, secrets.flaky)).toBe(true);

    const log = await webhookLog(db(), owner, webhookIds.flaky);
    expect(log[0]).toMatchObject({ event: "export.completed", status: "sent", attempts: 3 });
    expect(log[0].tries.map((t) => t.statusCode)).toEqual([500, 500, 200]);
  });

  it("no answer in time is a timeout, tried again", async () => {
    const outcome = await postWebhook(`${receiverUrl}/slow`, "whsec_x", { type: "ping" }, 300);
    expect(outcome).toMatchObject({ statusCode: null, error: "No answer within 0.3 seconds." });
    expect(isRetryable(outcome)).toBe(true);
    expect(WEBHOOK_TIMEOUT_MS).toBe(10_000);
  });

  it("a 4xx is final: failed after one try, nothing queued", async () => {
    const d = await db().selectFrom("delivery").selectAll().where("run_id", "=", runId).where("webhook_id", "=", webhookIds.gone).executeTakeFirstOrThrow();
    expect(d).toMatchObject({ status: "failed", attempts: 1, last_status_code: 410 });
    const { rows } = await sql`select 1 from graphile_worker.jobs where key = ${`delivery:${d.id}`}`.execute(db());
    expect(rows).toHaveLength(0);
    expect(received.filter((r) => r.path === "/gone")).toHaveLength(1);
  });

  it("a failed run: the owner is emailed the reason, webhooks get export.failed", async () => {
    const tenant = await tenantBySlug("production");
    const failed = await db()
      .insertInto("export_schedule_run")
      .values({ schedule_id: scheduleId, tenant_id: tenant.id, kind: "manual", slot_at: new Date(), status: "failed", error: "The database was unreachable." })
      .returning("id")
      .executeTakeFirstOrThrow();
    const ownerEmail = (await db().selectFrom("user").select("email").where("id", "=", owner.actor.userId!).executeTakeFirstOrThrow()).email;
    await notifyRunFailed(db(), failed.id, "The database was unreachable.");
    await runQueuedJobs();
    const mail = mailTo(ownerEmail).at(-1)!;
    expect(mail.text).toContain('The scheduled export "Nightly HSI" failed for');
    expect(mail.text).toContain("Reason: The database was unreachable.");
    const hit = received.filter((r) => r.path === "/ok").at(-1)!;
    expect(verifySignature(hit.signature, hit.body, secrets.ok)).toBe(true);
    expect(JSON.parse(hit.body)).toMatchObject({ type: "export.failed", run: { id: failed.id }, schedule: { id: scheduleId }, error: "The database was unreachable." });
    // Recipients other than the owner hear nothing of a failure.
    expect((await deliveriesOf(failed.id)).filter((d) => d.channel === "email").map((d) => d.user_id)).toEqual([owner.actor.userId]);
  });
});

describe("buckets", () => {
  it("the bucket receives the archive byte for byte and manifest.json under <prefix><schedule>/<slot>/", async () => {
    const d = await db().selectFrom("delivery").selectAll().where("run_id", "=", runId).where("bucket_id", "=", bucketId).executeTakeFirstOrThrow();
    expect(d.status, d.last_error ?? "").toBe("sent");
    const client = new S3Client({ endpoint: s3Url, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: BUCKET_KEY_ID, secretAccessKey: BUCKET_SECRET } });
    const get = async (Key: string) => Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: "lake", Key }))).Body!.transformToByteArray());
    const folder = `exportal/Nightly-HSI/${slot.toISOString()}/`;
    const archive = await get(`${folder}export-${fullExport.id}.zip`);
    const chunks: Buffer[] = [];
    for await (const chunk of await getStorage().read(fullExport.archive_key!)) chunks.push(chunk as Buffer);
    expect(archive.equals(Buffer.concat(chunks))).toBe(true);
    expect(JSON.parse((await get(`${folder}manifest.json`)).toString())).toEqual(fullExport.manifest);
    client.destroy();
  });

  it("sealed credentials never appear in the API or the portal", async () => {
    const key = await createKey("production", ["data.exports.read", "data.exports.schedule"], { name: "webhooks" });
    const auth = { Authorization: `Bearer ${key}` };
    const list = await callRoute(webhooksApi.loader, new Request("http://localhost:3000/api/v1/webhooks", { headers: auth }));
    expect(list.status, JSON.stringify(list.data)).toBe(200);
    expect(list.data.data.map((w: { id: string }) => w.id)).toEqual(expect.arrayContaining(Object.values(webhookIds)));
    const one = await callRoute(webhookApi.loader, new Request(`http://localhost:3000/api/v1/webhooks/${webhookIds.ok}`, { headers: auth }), { id: webhookIds.ok });
    const buckets = await callRoute(bucketsApi.loader, new Request("http://localhost:3000/api/v1/buckets", { headers: auth }));
    const page = await callRoute(deliveryPage.loader, makeRequest("/o/acme-health/t/production/delivery", { cookie: await signIn("owner@acme.test") }), { org: "acme-health", tenant: "production" });
    expect(page.status).toBe(200);
    for (const shown of [JSON.stringify(list.data), JSON.stringify(one.data), JSON.stringify(buckets.data), JSON.stringify(page.data), JSON.stringify(await listWebhooks(db(), owner)), JSON.stringify(await listBuckets(db(), owner))]) {
      for (const secret of [...Object.values(secrets), BUCKET_SECRET, BUCKET_KEY_ID]) expect(shown).not.toContain(secret);
      expect(shown).not.toMatch(/whsec_|ciphertext|auth_tag/);
    }
    // Only the last four characters of the access key id, to recognize it by.
    expect(JSON.stringify(page.data)).toContain(BUCKET_KEY_ID.slice(-4));
  });
});

describe("a bucket's test upload", () => {
  const testUrl = (id: string) => `http://localhost:3000/api/v1/buckets/${id}/test`;
  const testOver = async (id: string, key: string) => callRoute(bucketTestApi.action, new Request(testUrl(id), { method: "POST", headers: { Authorization: `Bearer ${key}` } }), { id });

  it("writes exportal-test.txt under the prefix with the bucket's own keys, from the API and the page, and audits it", async () => {
    const key = await createKey("production", ["data.exports.read", "data.exports.schedule"], { name: "test buckets" });
    const res = await testOver(bucketId, key);
    expect(res.status).toBe(200);
    expect(res.data).toMatchObject({ ok: true, key: "exportal/exportal-test.txt", statusCode: null, error: null });
    const client = new S3Client({ endpoint: s3Url, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: BUCKET_KEY_ID, secretAccessKey: BUCKET_SECRET } });
    const object = await client.send(new GetObjectCommand({ Bucket: "lake", Key: "exportal/exportal-test.txt" }));
    expect(await object.Body!.transformToString()).toMatch(/^A test upload from Exportal at .*This file may be deleted\.\n$/);
    client.destroy();

    const page = await callRoute(
      deliveryPage.action,
      makeRequest("/o/acme-health/t/production/delivery", { cookie: await signIn("production-admin@acme.test"), form: { intent: "test-bucket", bucketId } }),
      { org: "acme-health", tenant: "production" },
    );
    expect(page.data.tested).toEqual({ passed: true, summary: "Uploaded exportal/exportal-test.txt" });
    const events = await db().selectFrom("audit_event").select(["action", "details"]).where("subject_id", "=", bucketId).where("action", "=", "bucket.tested").execute();
    expect(events).toHaveLength(2);
    expect(events[0].details).toMatchObject({ ok: true, statusCode: null });
  });

  it("says what the server refused (wrong keys, no such bucket) and a private address, never the keys", async () => {
    const key = await createKey("production", ["data.exports.read", "data.exports.schedule"], { name: "test bad buckets" });
    const add = async (name: string, bucket: string, accessKeyId: string, secretAccessKey: string) =>
      (await createBucket(db(), owner, { name, endpoint: s3Url, bucket, forcePathStyle: true, accessKeyId, secretAccessKey })).id;
    const wrongKeys = await testOver(await add("Wrong keys", "lake", "AKIANOTKNOWN0KEY", "not-the-secret-Kx81"), key);
    expect(wrongKeys.data).toMatchObject({ ok: false, statusCode: 403 });
    expect(wrongKeys.data.error).toMatch(/^The upload failed: InvalidAccessKeyId: /);
    const missing = await testOver(await add("Missing", "no-such-lake", BUCKET_KEY_ID, BUCKET_SECRET), key);
    expect(missing.data).toMatchObject({ ok: false, statusCode: 404 });
    expect(missing.data.error).toMatch(/^The upload failed: NoSuchBucket: /);
    process.env.EXPORTAL_WEBHOOK_ALLOW_PRIVATE = "false";
    try {
      const refused = await testOver(bucketId, key);
      expect(refused.data).toMatchObject({ ok: false, statusCode: null });
      expect(refused.data.error).toMatch(/private address/);
    } finally {
      process.env.EXPORTAL_WEBHOOK_ALLOW_PRIVATE = "true";
    }
    for (const res of [wrongKeys, missing]) expect(JSON.stringify(res.data)).not.toMatch(new RegExp(`not-the-secret|AKIANOTKNOWN|${BUCKET_SECRET}|${BUCKET_KEY_ID}`));
  });

  it("is a 404 for another tenant's bucket and a 403 without the right to manage buckets, and uploads nothing then", async () => {
    const staging = await createKey("staging", ["data.exports.read", "data.exports.schedule"], { name: "staging test" });
    const readOnly = await createKey("production", ["data.exports.read"], { name: "read-only test" });
    const client = new S3Client({ endpoint: s3Url, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: BUCKET_KEY_ID, secretAccessKey: BUCKET_SECRET } });
    const testObject = { Bucket: "lake", Key: "exportal/exportal-test.txt" };
    await client.send(new DeleteObjectCommand(testObject));
    const before = await db().selectFrom("audit_event").select("id").where("subject_id", "=", bucketId).where("action", "=", "bucket.tested").execute();
    expect((await testOver(bucketId, staging)).status).toBe(404);
    expect((await testOver(bucketId, readOnly)).status).toBe(403);
    const viewer = await callRoute(
      deliveryPage.action,
      makeRequest("/o/acme-health/t/production/delivery", { cookie: await signIn("production-viewer@acme.test"), form: { intent: "test-bucket", bucketId } }),
      { org: "acme-health", tenant: "production" },
    );
    expect(viewer.status).toBe(403);
    const after = await db().selectFrom("audit_event").select("id").where("subject_id", "=", bucketId).where("action", "=", "bucket.tested").execute();
    expect(after).toHaveLength(before.length);
    await expect(client.send(new GetObjectCommand(testObject))).rejects.toMatchObject({ name: "NoSuchKey" });
    client.destroy();
  });
});

describe("who may see and change endpoints", () => {
  it("a new endpoint's secret is in the API's answer once; a test event is signed and answered", async () => {
    const key = await createKey("production", ["data.exports.read", "data.exports.schedule"], { name: "create hooks" });
    const headers = { Authorization: `Bearer ${key}`, "Content-Type": "application/json" };
    const created = await callRoute(webhooksApi.action, new Request("http://localhost:3000/api/v1/webhooks", { method: "POST", headers, body: JSON.stringify({ url: `${receiverUrl}/ok` }) }));
    expect(created.status).toBe(201);
    expect(created.data.secret).toMatch(/^whsec_/);
    const id = created.data.id;
    const tested = await callRoute(webhookTestApi.action, new Request(`http://localhost:3000/api/v1/webhooks/${id}/test`, { method: "POST", headers }), { id });
    expect(tested.data).toMatchObject({ ok: true, statusCode: 200 });
    const ping = received.at(-1)!;
    expect(JSON.parse(ping.body).type).toBe("ping");
    expect(verifySignature(ping.signature, ping.body, created.data.secret)).toBe(true);

    const plainHttp = await callRoute(webhooksApi.action, new Request("http://localhost:3000/api/v1/webhooks", { method: "POST", headers, body: JSON.stringify({ url: "http://example.com/hook" }) }));
    expect(plainHttp.status).toBe(400);
    expect(plainHttp.data.error.message).toMatch(/https.*localhost and 127\.0\.0\.1/);

    const deleted = await callRoute(webhookApi.action, new Request(`http://localhost:3000/api/v1/webhooks/${id}`, { method: "DELETE", headers }), { id });
    expect(deleted.status).toBe(204);
    const actions = await db().selectFrom("audit_event").select("action").where("subject_id", "=", id).orderBy("created_at").execute();
    expect(actions.map((a) => a.action)).toEqual(["webhook.created", "webhook.tested", "webhook.deleted"]);
  });

  it("buckets over the API: listed and read without their keys, a bad one refused by field, deleted with an audit trail; another tenant's id is a 404", async () => {
    const key = await createKey("production", ["data.exports.read", "data.exports.schedule"], { name: "manage buckets" });
    const headers = { Authorization: `Bearer ${key}`, "Content-Type": "application/json" };
    const list = await callRoute(bucketsApi.loader, new Request("http://localhost:3000/api/v1/buckets", { headers }));
    expect(list.status).toBe(200);
    expect(list.data.data.filter((b: { id: string }) => b.id === bucketId)).toEqual([
      { id: bucketId, name: "Data lake", endpoint: s3Url, region: "us-east-1", bucket: "lake", prefix: "exportal/", forcePathStyle: true, accessKeyHint: BUCKET_KEY_ID.slice(-4), createdAt: expect.any(String) },
    ]);
    const one = await callRoute(bucketApi.loader, new Request(`http://localhost:3000/api/v1/buckets/${bucketId}`, { headers }), { id: bucketId });
    expect(one.data).toEqual(list.data.data.find((b: { id: string }) => b.id === bucketId));

    const bad = await callRoute(bucketsApi.action, new Request("http://localhost:3000/api/v1/buckets", { method: "POST", headers, body: JSON.stringify({ name: "No keys", bucket: "x" }) }));
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.data.error.details.fields).sort()).toEqual(["accessKeyId", "bucket", "secretAccessKey"]);

    const body = { name: "Archive", bucket: "acme-archive", accessKeyId: "AKIAOTHER0KEY", secretAccessKey: "other-secret-never-shown" };
    const created = await callRoute(bucketsApi.action, new Request("http://localhost:3000/api/v1/buckets", { method: "POST", headers, body: JSON.stringify(body) }));
    expect(created.status).toBe(201);
    const id = created.data.id;
    expect(created.headers.get("location")).toBe(`http://localhost:3000/api/v1/buckets/${id}`);
    expect(created.data).toMatchObject({ endpoint: null, region: "us-east-1", prefix: "", forcePathStyle: false, accessKeyHint: "0KEY" });
    expect(JSON.stringify(created.data)).not.toMatch(/AKIAOTHER|other-secret/);

    const staging = { Authorization: `Bearer ${await createKey("staging", ["data.exports.read", "data.exports.schedule"], { name: "staging buckets" })}` };
    const theirs = await callRoute(bucketsApi.loader, new Request("http://localhost:3000/api/v1/buckets", { headers: staging }));
    expect(theirs.data.data).toEqual([]);
    for (const method of ["GET", "DELETE"]) {
      const res = await callRoute(method === "GET" ? bucketApi.loader : bucketApi.action, new Request(`http://localhost:3000/api/v1/buckets/${id}`, { method, headers: staging }), { id });
      expect(res.status, method).toBe(404);
    }
    const readOnly = { Authorization: `Bearer ${await createKey("production", ["data.exports.read"], { name: "read buckets" })}`, "Content-Type": "application/json" };
    expect((await callRoute(bucketsApi.action, new Request("http://localhost:3000/api/v1/buckets", { method: "POST", headers: readOnly, body: JSON.stringify(body) }))).status).toBe(403);
    expect((await callRoute(bucketApi.action, new Request(`http://localhost:3000/api/v1/buckets/${id}`, { method: "DELETE", headers: readOnly }), { id })).status).toBe(403);

    const deleted = await callRoute(bucketApi.action, new Request(`http://localhost:3000/api/v1/buckets/${id}`, { method: "DELETE", headers }), { id });
    expect(deleted.status).toBe(204);
    expect((await callRoute(bucketApi.loader, new Request(`http://localhost:3000/api/v1/buckets/${id}`, { headers }), { id })).status).toBe(404);
    const actions = await db().selectFrom("audit_event").select("action").where("subject_id", "=", id).orderBy("created_at").execute();
    expect(actions.map((a) => a.action)).toEqual(["bucket.created", "bucket.deleted"]);
  });

  it("another tenant's webhook id is a 404", async () => {
    const key = await createKey("staging", ["data.exports.read", "data.exports.schedule"], { name: "staging hooks" });
    const headers = { Authorization: `Bearer ${key}` };
    const id = webhookIds.ok;
    const get = await callRoute(webhookApi.loader, new Request(`http://localhost:3000/api/v1/webhooks/${id}`, { headers }), { id });
    const del = await callRoute(webhookApi.action, new Request(`http://localhost:3000/api/v1/webhooks/${id}`, { method: "DELETE", headers }), { id });
    const test = await callRoute(webhookTestApi.action, new Request(`http://localhost:3000/api/v1/webhooks/${id}/test`, { method: "POST", headers }), { id });
    for (const res of [get, del, test]) expect(res.status).toBe(404);
    expect(await db().selectFrom("webhook_endpoint").select("id").where("id", "=", id).executeTakeFirst()).toBeDefined();
  });

  it("a viewer cannot create endpoints (403), nor a key without data.exports.schedule", async () => {
    const tenant = await tenantBySlug("production");
    const viewer: Requester = { tenantId: tenant.id, organizationId: tenant.organization_id, actor: { userId: people.viewer.id, label: "viewer" }, ability: buildAbility(permissionsFor("member", "viewer")) };
    await expect(createWebhook(db(), viewer, { url: "https://example.com/hook" })).rejects.toMatchObject({ status: 403 });
    await expect(createBucket(db(), viewer, { name: "x", bucket: "abc", accessKeyId: "a", secretAccessKey: "b" })).rejects.toMatchObject({ status: 403 });
    const key = await createKey("production", ["data.exports.read"], { name: "read only" });
    const res = await callRoute(
      webhooksApi.action,
      new Request("http://localhost:3000/api/v1/webhooks", { method: "POST", headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" }, body: JSON.stringify({ url: "https://example.com/hook" }) }),
    );
    expect(res.status).toBe(403);
    const page = await callRoute(
      deliveryPage.action,
      makeRequest("/o/acme-health/t/production/delivery", { cookie: await signIn("production-viewer@acme.test"), form: { intent: "add-webhook", url: "https://example.com/hook" } }),
      { org: "acme-health", tenant: "production" },
    );
    expect(page.status).toBe(403);
  });
  it("a disabled endpoint gets no run's events and no test event, and cannot be chosen, until enabled again; from the page and the API", async () => {
    const { webhook } = await createWebhook(db(), owner, { url: `${receiverUrl}/ok`, description: "pausable" });
    const id = webhook.id;
    await db().insertInto("export_schedule_webhook").values({ schedule_id: scheduleId, webhook_id: id }).execute();
    const cookie = await signIn("production-admin@acme.test");
    const onPage = (who: string, intent: string) =>
      callRoute(deliveryPage.action, makeRequest("/o/acme-health/t/production/delivery", { cookie: who, form: { intent, webhookId: id } }), { org: "acme-health", tenant: "production" });
    expect((await onPage(await signIn("production-viewer@acme.test"), "disable-webhook")).status).toBe(403);
    const fromStaging = await callRoute(
      deliveryPage.action,
      makeRequest("/o/acme-health/t/staging/delivery", { cookie: await signIn("staging-admin@acme.test"), form: { intent: "disable-webhook", webhookId: id } }),
      { org: "acme-health", tenant: "staging" },
    );
    expect(fromStaging.status).toBe(404);
    expect((await onPage(cookie, "disable-webhook")).status).toBe(200);
    expect((await listWebhooks(db(), owner)).find((w) => w.id === id)).toMatchObject({ disabled: true });

    // The schedule's next run delivers to its other endpoints, not to this one.
    const tenant = await tenantBySlug("production");
    const nextRun = (
      await db()
        .insertInto("export_schedule_run")
        .values({ schedule_id: scheduleId, tenant_id: tenant.id, kind: "scheduled", slot_at: new Date(slot.getTime() + 86_400_000), interval_from: slot, interval_to: new Date(slot.getTime() + 86_400_000), status: "done" })
        .returning("id")
        .executeTakeFirstOrThrow()
    ).id;
    await createExport(db(), owner, { scope: fullExport.scope, dataTypes: ["hsi_records"], format: "ndjson", deidentification: "full" }, { scheduleRunId: nextRun });
    await runQueuedJobs();
    await deliverRun(db(), nextRun);
    const targets = (await deliveriesOf(nextRun)).map((d) => d.webhook_id);
    expect(targets).toContain(webhookIds.ok);
    expect(targets).not.toContain(id);
    // A delivery that was waiting for its retry when the endpoint was disabled ends failed at that try, unsent.
    await runQueuedJobs(); // the run's own deliveries, to the other endpoints
    const sentBefore = received.length;
    const waiting = await db()
      .insertInto("delivery")
      .values({ tenant_id: tenant.id, run_id: nextRun, event: "export.completed", channel: "webhook", target_key: `webhook:${id}`, webhook_id: id, user_id: null, bucket_id: null, export_id: null, payload: {}, next_attempt_at: new Date() })
      .returning("id")
      .executeTakeFirstOrThrow();
    await enqueueAttempt(db(), waiting.id, new Date());
    await runQueuedJobs();
    expect(await db().selectFrom("delivery").select(["status", "last_error"]).where("id", "=", waiting.id).executeTakeFirstOrThrow()).toEqual({ status: "failed", last_error: "The endpoint is disabled." });
    expect(received.length).toBe(sentBefore);
    await expect(checkScheduleTargets(db(), owner, { webhookIds: [id], bucketIds: [] })).rejects.toMatchObject({ status: 400 });

    const key = await createKey("production", ["data.exports.read", "data.exports.schedule"], { name: "pause hooks" });
    const headers = { Authorization: `Bearer ${key}`, "Content-Type": "application/json" };
    const url = `http://localhost:3000/api/v1/webhooks/${id}`;
    const test = () => callRoute(webhookTestApi.action, new Request(`${url}/test`, { method: "POST", headers }), { id });
    expect((await test()).status).toBe(409);
    const patch = (body: unknown, as = headers) => callRoute(webhookApi.action, new Request(url, { method: "PATCH", headers: as, body: JSON.stringify(body) }), { id });
    for (const body of [{}, { disabled: "no" }, { disabled: false, url: "https://example.com" }]) {
      const refused = await patch(body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(Object.keys(refused.data.error.details.fields), JSON.stringify(body)).toEqual([Object.keys(body).find((k) => k !== "disabled") ?? "disabled"]);
    }
    const staging = await createKey("staging", ["data.exports.read", "data.exports.schedule"], { name: "staging pause" });
    expect((await patch({ disabled: false }, { Authorization: `Bearer ${staging}`, "Content-Type": "application/json" })).status).toBe(404);
    const enabled = await patch({ disabled: false });
    expect(enabled.status).toBe(200);
    expect(enabled.data).toMatchObject({ id, disabled: false });
    expect((await test()).status).toBe(200);
    const actions = await db().selectFrom("audit_event").select("action").where("subject_id", "=", id).orderBy("created_at").orderBy("id").execute();
    expect(actions.map((a) => a.action)).toEqual(["webhook.created", "webhook.disabled", "webhook.enabled", "webhook.tested"]);
  });
});
