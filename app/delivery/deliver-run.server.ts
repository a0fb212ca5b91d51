import { sql } from "kysely";
import type { DB } from "../../db/client";
import type { Delivery, DeliveryEvent, Export, ExportManifest, ExportSchedule, ExportScheduleRun } from "../../db/schema";
import { recordExportEvent, SYSTEM } from "../audit/audit.server";
import { AppError } from "../lib/errors";
import { mailConfigured, sendMail } from "../lib/mail.server";
import { signedDownloadPath } from "../exports/signed-links.server";
import { recipientVariant, requesterForUser, variantKey, type RecipientVariant } from "../schedules/owner-rights.server";
import { uploadFailure, uploadToBucket } from "./bucket-upload.server";
import { isRetryable, postWebhook, type PostOutcome } from "./webhook-send.server";
import { webhookSecret } from "./targets.server";

// Delivery of a finished (or failed) run. deliverRun decides, once per run,
// who and what gets which event (one delivery row per target, the unique
// index keeps a second call from repeating it) and queues one
// `delivery_attempt` job per delivery; attemptDelivery makes one try and, for
// what may succeed later, queues the next with exponential backoff for up to
// a day. Signed links are minted at each try, never stored.

/** The graphile-worker task that makes one try of a delivery. */
export const DELIVERY_TASK = "delivery_attempt";
/** A download link in a delivery works this long (never past the export's own expiry). */
const LINK_HOURS = 24;
/** Tries stop this long after the delivery was made; the last failure is final. */
export const RETRY_WINDOW_MS = 24 * 60 * 60 * 1000;
const MAX_BACKOFF_MS = 60 * 60 * 1000;

/** The wait after the nth failed try: 1 minute, 2, 4, … capped at an hour. */
export function backoffMs(attempts: number): number {
  return Math.min(60_000 * 2 ** Math.max(0, attempts - 1), MAX_BACKOFF_MS);
}

/** The origin links in mail and webhooks are built on: PUBLIC_URL, else BETTER_AUTH_URL. */
export function appOrigin(): string {
  return (process.env.PUBLIC_URL || process.env.BETTER_AUTH_URL || "http://localhost:3000").replace(/\/+$/, "");
}

const ADDED_DATA_TYPES = new Set(["participants", "dashboard_widgets"]);

/**
 * The variant an export of a run was built for, keyed as variantKey keys a
 * recipient's: its scope, profile and asked data types (without those the
 * export adds by itself). The one place that knows how the runner marks
 * which export is which; change it here if the runner records it otherwise.
 */
export function exportVariantKey(e: Pick<Export, "scope" | "deidentification" | "data_types">): string {
  return variantKey({ scope: e.scope, deidentification: e.deidentification, dataTypes: e.data_types.filter((t) => !ADDED_DATA_TYPES.has(t)) });
}

/** The run's export a variant gets, if the run built one. */
export function exportForVariant<E extends Pick<Export, "scope" | "deidentification" | "data_types">>(exports: E[], variant: NonNullable<RecipientVariant>): E | undefined {
  const key = variantKey(variant);
  return exports.find((e) => exportVariantKey(e) === key);
}

interface RunContext {
  run: ExportScheduleRun;
  schedule: ExportSchedule;
}

async function loadRun(db: DB, runId: string): Promise<RunContext> {
  const run = await db.selectFrom("export_schedule_run").selectAll().where("id", "=", runId).executeTakeFirst();
  if (!run) throw new AppError("NOT_FOUND", "No such run.");
  const schedule = await db.selectFrom("export_schedule").selectAll().where("id", "=", run.schedule_id).executeTakeFirstOrThrow();
  return { run, schedule };
}

/**
 * The export webhooks and buckets get: they are not people, so the one the
 * schedule asked for (its owner's choice, checked when it was saved), else
 * the owner's variant now, else the most protective the run built.
 */
async function machineExport(db: DB, { schedule }: RunContext, exports: Export[]): Promise<Export | undefined> {
  const asked = exportForVariant(exports, { scope: schedule.request.scope, deidentification: schedule.request.deidentification ?? null, dataTypes: schedule.request.dataTypes });
  if (asked) return asked;
  const owner = schedule.owner_user_id ? await requesterForUser(db, schedule.owner_user_id, schedule.tenant_id) : null;
  const variant = owner ? recipientVariant(owner.ability, schedule.request) : null;
  const owners = variant ? exportForVariant(exports, variant) : undefined;
  if (owners) return owners;
  const rank = (e: Export) => ["deidentified", "identifiers_removed", null, "full"].indexOf(e.deidentification);
  return [...exports].sort((a, b) => rank(a) - rank(b))[0];
}

type NewDelivery = Pick<Delivery, "channel" | "target_key" | "user_id" | "webhook_id" | "bucket_id" | "export_id"> & { payload: Record<string, unknown> };

/** Stores the run's deliveries of one event (those not made before) and queues their first tries, together. */
async function queueDeliveries(db: DB, tenantId: string, runId: string, event: DeliveryEvent, deliveries: NewDelivery[]): Promise<string[]> {
  if (deliveries.length === 0) return [];
  return db.transaction().execute(async (trx) => {
    const rows = await trx
      .insertInto("delivery")
      .values(deliveries.map((d) => ({ ...d, tenant_id: tenantId, run_id: runId, event, next_attempt_at: new Date() })))
      .onConflict((oc) => oc.columns(["run_id", "event", "target_key"]).where("run_id", "is not", null).doNothing())
      .returning("id")
      .execute();
    for (const { id } of rows) await enqueueAttempt(trx, id, new Date());
    return rows.map((r) => r.id);
  });
}

/** Queues a delivery's next try at `runAt`; one job per delivery (its key), so a repeat replaces it. */
export async function enqueueAttempt(db: DB, deliveryId: string, runAt: Date): Promise<void> {
  await sql`select graphile_worker.add_job(${DELIVERY_TASK}, json_build_object('deliveryId', ${deliveryId}::text),
    run_at := ${runAt}::timestamptz, max_attempts := 3, job_key := ${`delivery:${deliveryId}`})`.execute(db);
}

/** Delivers a finished run: each recipient's email, each webhook's POST, each bucket's upload (queued, retried). */
export async function deliverRun(db: DB, runId: string): Promise<void> {
  const ctx = await loadRun(db, runId);
  const { run, schedule } = ctx;
  const exports = await db.selectFrom("export").selectAll().where("schedule_run_id", "=", run.id).where("status", "=", "done").execute();
  const deliveries: NewDelivery[] = [];

  const recipients = await db.selectFrom("export_schedule_recipient").select("user_id").where("schedule_id", "=", schedule.id).execute();
  for (const { user_id } of recipients) {
    // Rights as they are now; someone who may no longer open the tenant gets nothing, not even a notice.
    const person = await requesterForUser(db, user_id, schedule.tenant_id);
    if (!person) continue;
    const variant = recipientVariant(person.ability, schedule.request);
    const exp = variant ? exportForVariant(exports, variant) : undefined;
    deliveries.push({
      channel: "email",
      target_key: `user:${user_id}`,
      user_id,
      webhook_id: null,
      bucket_id: null,
      export_id: exp?.id ?? null,
      // A recipient whose archive the run did not build gets the notice rather than someone else's archive.
      payload: { kind: exp ? "link" : "notice", ...(variant && !exp && { missingVariant: true }) },
    });
  }

  const forMachines = await machineExport(db, ctx, exports);
  if (forMachines) {
    const webhooks = await enabledWebhooks(db, schedule.id);
    for (const w of webhooks) {
      deliveries.push({ channel: "webhook", target_key: `webhook:${w.id}`, user_id: null, webhook_id: w.id, bucket_id: null, export_id: forMachines.id, payload: {} });
    }
    const buckets = await db.selectFrom("export_schedule_bucket").select("bucket_id").where("schedule_id", "=", schedule.id).execute();
    for (const b of buckets) {
      deliveries.push({ channel: "bucket", target_key: `bucket:${b.bucket_id}`, user_id: null, webhook_id: null, bucket_id: b.bucket_id, export_id: forMachines.id, payload: {} });
    }
  }
  await queueDeliveries(db, schedule.tenant_id, run.id, "export.completed", deliveries);
}

/** The schedule's webhook endpoints that are not disabled: where its events go. */
function enabledWebhooks(db: DB, scheduleId: string) {
  return db
    .selectFrom("export_schedule_webhook as sw")
    .innerJoin("webhook_endpoint as w", "w.id", "sw.webhook_id")
    .where("sw.schedule_id", "=", scheduleId)
    .where("w.disabled", "=", false)
    .select("w.id")
    .execute();
}

/** Tells the schedule's owner that a run failed, and why (email; webhooks get a failure event). */
export async function notifyRunFailed(db: DB, runId: string, reason: string): Promise<void> {
  const { run, schedule } = await loadRun(db, runId);
  const deliveries: NewDelivery[] = [];
  if (schedule.owner_user_id && (await requesterForUser(db, schedule.owner_user_id, schedule.tenant_id))) {
    const user_id = schedule.owner_user_id;
    deliveries.push({ channel: "email", target_key: `user:${user_id}`, user_id, webhook_id: null, bucket_id: null, export_id: null, payload: { kind: "failed", reason } });
  }
  const webhooks = await enabledWebhooks(db, schedule.id);
  for (const w of webhooks) {
    deliveries.push({ channel: "webhook", target_key: `webhook:${w.id}`, user_id: null, webhook_id: w.id, bucket_id: null, export_id: null, payload: { reason } });
  }
  await queueDeliveries(db, schedule.tenant_id, run.id, "export.failed", deliveries);
}

/** A signed, absolute download link for the export, and when it stops working. */
function downloadLink(exp: Export): { url: string; expiresAt: Date } {
  const cap = Date.now() + LINK_HOURS * 3600_000;
  const expiresAt = new Date(Math.min(cap, exp.expires_at?.getTime() ?? cap));
  return { url: appOrigin() + signedDownloadPath(exp.id, exp.tenant_id, expiresAt, exp.scope.type === "organization"), expiresAt };
}

const runJson = (run: ExportScheduleRun) => ({
  id: run.id,
  slot: run.slot_at.toISOString(),
  interval: { from: run.interval_from?.toISOString() ?? null, to: run.interval_to?.toISOString() ?? null },
});

/** What a webhook receives: the same shape for every event, with `error` or the export's manifest and link. */
export function webhookEvent(event: DeliveryEvent, { run, schedule }: RunContext, exp: Export | undefined, reason?: string) {
  const base = { type: event, schedule: { id: schedule.id, name: schedule.name }, run: runJson(run) };
  if (event === "export.failed") return { ...base, exportId: null, error: reason ?? "The run failed." };
  if (!exp) throw new Error("the export of this delivery is gone");
  const link = downloadLink(exp);
  return { ...base, exportId: exp.id, manifest: exp.manifest, downloadUrl: link.url, expiresAt: link.expiresAt.toISOString() };
}

function manifestLines(manifest: ExportManifest | null): string[] {
  if (!manifest) return [];
  const rows = manifest.files.reduce((sum, f) => sum + f.rows, 0);
  return [
    `Files (${manifest.files.length}, ${rows.toLocaleString("en-US")} rows in all):`,
    ...manifest.files.map((f) => `  ${f.name}: ${f.rows.toLocaleString("en-US")} rows, SHA-256 ${f.sha256}`),
    ...(manifest.deidentification ? ["", `De-identification: ${manifest.deidentification.profile}. ${manifest.deidentification.note}`] : []),
  ];
}

/** The email of a delivery: a link and the manifest's summary (never an attachment), a notice, or a failure. */
function emailOf(delivery: Delivery, { run, schedule }: RunContext, exp: Export | undefined): { subject: string; text: string } {
  const name = `"${schedule.name}"`;
  const slot = run.slot_at.toISOString();
  const interval = run.interval_from && run.interval_to ? ` (data from ${run.interval_from.toISOString()} to ${run.interval_to.toISOString()})` : "";
  const kind = delivery.payload.kind;
  if (kind === "failed") {
    return {
      subject: `Scheduled export ${name} failed`,
      text: [`The scheduled export ${name} failed for ${slot}${interval}.`, "", `Reason: ${String(delivery.payload.reason)}`, "", "Open the schedule in Exportal to retry the run."].join("\n"),
    };
  }
  if (kind === "link" && exp) {
    const link = downloadLink(exp);
    return {
      subject: `Scheduled export ${name} is ready`,
      text: [
        `The scheduled export ${name} ran for ${slot}${interval}.`,
        "",
        `Download it until ${link.expiresAt.toUTCString()}:`,
        link.url,
        "",
        ...manifestLines(exp.manifest),
        "",
        "The archive is not attached. Anyone with this link can download it until it expires: do not forward this email.",
      ].join("\n"),
    };
  }
  // A recipient who may download but whose archive the run did not build (the runner and their rights disagreed) is told so, not told they may not.
  const why = delivery.payload.missingVariant
    ? "A scheduled export ran, but no archive was made for what your role may download. Ask the schedule's owner to run it again."
    : "A scheduled export ran; your role does not include downloading it.";
  return {
    subject: `Scheduled export ${name} ran`,
    text: [why, "", `Schedule: ${schedule.name}`, `Slot: ${slot}${interval}`].join("\n"),
  };
}

type TryOutcome = PostOutcome & { retry: boolean };

async function tryDelivery(db: DB, delivery: Delivery, ctx: RunContext): Promise<TryOutcome> {
  const exp = delivery.export_id ? await db.selectFrom("export").selectAll().where("id", "=", delivery.export_id).executeTakeFirst() : undefined;
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  if (delivery.channel === "webhook") {
    const endpoint = await db.selectFrom("webhook_endpoint").select(["url", "disabled"]).where("id", "=", delivery.webhook_id!).executeTakeFirstOrThrow();
    if (endpoint.disabled) return { statusCode: null, error: "The endpoint is disabled.", durationMs: 0, retry: false };
    if (delivery.event === "export.completed" && !exp) return { statusCode: null, error: "The export is gone.", durationMs: 0, retry: false };
    const outcome = await postWebhook(endpoint.url, await webhookSecret(db, delivery.webhook_id!), webhookEvent(delivery.event, ctx, exp, delivery.payload.reason as string | undefined));
    return { ...outcome, retry: isRetryable(outcome) };
  }
  if (delivery.channel === "email") {
    if (!mailConfigured()) return { statusCode: null, error: "No mail server is configured (EXPORTAL_SMTP_URL).", durationMs: 0, retry: false };
    const user = await db.selectFrom("user").select("email").where("id", "=", delivery.user_id!).executeTakeFirstOrThrow();
    try {
      await sendMail({ to: user.email, ...emailOf(delivery, ctx, exp) });
      return { statusCode: null, error: null, durationMs: elapsed(), retry: false };
    } catch (error) {
      const e = error as Error & { responseCode?: number };
      // A mail server's 5xx refuses this message for good; a 4xx or no answer may pass later.
      return { statusCode: e.responseCode ?? null, error: `The mail server did not take the message: ${e.message}`, durationMs: elapsed(), retry: !(e.responseCode && e.responseCode >= 500) };
    }
  }
  if (!exp?.archive_key || exp.status !== "done") return { statusCode: null, error: "The export's archive is gone.", durationMs: 0, retry: false };
  try {
    await uploadToBucket(db, delivery.bucket_id!, exp, ctx);
    return { statusCode: null, error: null, durationMs: elapsed(), retry: false };
  } catch (error) {
    const { statusCode, error: message, refused } = uploadFailure(error);
    return { statusCode, error: message, durationMs: elapsed(), retry: !refused && (statusCode === null || statusCode >= 500) };
  }
}

/**
 * One try of a delivery (the `delivery_attempt` task): logs it, and marks the
 * delivery sent, failed, or due again after the backoff while the day since
 * it was made lasts.
 */
export async function attemptDelivery(db: DB, deliveryId: string): Promise<void> {
  const delivery = await db.selectFrom("delivery").selectAll().where("id", "=", deliveryId).executeTakeFirst();
  if (!delivery || delivery.status !== "pending" || !delivery.run_id) return;
  const ctx = await loadRun(db, delivery.run_id).catch(() => null);
  const outcome: TryOutcome = ctx ? await tryDelivery(db, delivery, ctx) : { statusCode: null, error: "The run is gone.", durationMs: 0, retry: false };
  const attempts = delivery.attempts + 1;
  const nextAt = new Date(Date.now() + backoffMs(attempts));
  const again = outcome.error !== null && outcome.retry && nextAt.getTime() < delivery.created_at.getTime() + RETRY_WINDOW_MS;
  const status = outcome.error === null ? "sent" : again ? "pending" : "failed";
  await db.transaction().execute(async (trx) => {
    await trx.insertInto("delivery_attempt").values({ delivery_id: delivery.id, status_code: outcome.statusCode, error: outcome.error, duration_ms: outcome.durationMs }).execute();
    await trx
      .updateTable("delivery")
      .set({
        attempts,
        status,
        next_attempt_at: again ? nextAt : null,
        last_status_code: outcome.statusCode,
        last_error: outcome.error,
        finished_at: status === "pending" ? null : new Date(),
      })
      .where("id", "=", delivery.id)
      .execute();
    if (again) await enqueueAttempt(trx, delivery.id, nextAt);
    // A signed link that left the portal (in an email or a webhook's body) is in the audit trail, as one issued on the page is.
    const sentLink = status === "sent" && delivery.event === "export.completed" && (delivery.channel === "webhook" || (delivery.channel === "email" && delivery.payload.kind === "link"));
    const exp = sentLink && delivery.export_id ? await trx.selectFrom("export").select(["id", "tenant_id", "organization_id"]).where("id", "=", delivery.export_id).executeTakeFirst() : undefined;
    if (exp) {
      await recordExportEvent(trx, exp, "link_issued", { ...SYSTEM, label: "scheduled delivery" }, {
        via: delivery.channel,
        runId: delivery.run_id,
        ...(delivery.user_id && { userId: delivery.user_id }),
        ...(delivery.webhook_id && { webhookId: delivery.webhook_id }),
      });
    }
  });
}
