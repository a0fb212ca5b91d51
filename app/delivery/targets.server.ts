import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import type { DB } from "../../db/client";
import type { DeliveryBucket, WebhookEndpoint } from "../../db/schema";
import { openCredential, sealCredential } from "../analytics/credential-crypto.server";
import { recordEvent } from "../audit/audit.server";
import { authorize, type Requester } from "../auth/requester";
import { AppError } from "../lib/errors";
import { isUuid } from "../lib/ids";
import { fieldErrors, invalid } from "../lib/validation";
import { assertTenantWritable } from "../tenants/archived.server";
import { bucketInputSchema, webhookInputSchema } from "./delivery-input";

// A tenant's delivery targets: webhook endpoints and buckets. Their secrets
// are sealed in the database and leave it only to sign or upload: no
// function here returns one, except createWebhook, once.

/** A webhook endpoint as pages and the API show it: never its secret. */
export interface WebhookView {
  id: string;
  url: string;
  description: string;
  disabled: boolean;
  createdAt: Date;
  createdBy: string | null;
}

/** A bucket as pages and the API show it: never its keys, only the access key id's last four characters. */
export interface BucketView {
  id: string;
  name: string;
  endpoint: string | null;
  region: string;
  bucket: string;
  prefix: string;
  forcePathStyle: boolean;
  accessKeyHint: string;
  createdAt: Date;
}

const place = (requester: Requester) => ({ organization_id: requester.organizationId, tenant_id: requester.tenantId });

function webhookView(row: WebhookEndpoint & { creator?: string | null }): WebhookView {
  return { id: row.id, url: row.url, description: row.description, disabled: row.disabled, createdAt: row.created_at, createdBy: row.creator ?? null };
}

function bucketView(row: DeliveryBucket): BucketView {
  return {
    id: row.id,
    name: row.name,
    endpoint: row.endpoint,
    region: row.region,
    bucket: row.bucket,
    prefix: row.prefix,
    forcePathStyle: row.force_path_style,
    accessKeyHint: row.access_key_hint,
    createdAt: row.created_at,
  };
}

/** The tenant's webhook endpoints, oldest first. */
export async function listWebhooks(db: DB, requester: Requester): Promise<WebhookView[]> {
  authorize(requester, "data.exports.read");
  const rows = await db
    .selectFrom("webhook_endpoint as w")
    .leftJoin("user as u", "u.id", "w.created_by_user_id")
    .leftJoin("api_key as k", "k.id", "w.created_by_api_key_id")
    .selectAll("w")
    .select(sql<string | null>`coalesce(u.name, 'API key ' || k.name)`.as("creator"))
    .where("w.tenant_id", "=", requester.tenantId)
    .orderBy("w.created_at")
    .orderBy("w.id")
    .execute();
  return rows.map(webhookView);
}

/** The requester's tenant's endpoint with this id, or 404 (another tenant's looks the same as none). */
export async function findWebhook(db: DB, requester: Requester, id: string): Promise<WebhookView> {
  authorize(requester, "data.exports.read");
  const row = isUuid(id) ? await db.selectFrom("webhook_endpoint").selectAll().where("tenant_id", "=", requester.tenantId).where("id", "=", id).executeTakeFirst() : undefined;
  if (!row) throw new AppError("NOT_FOUND", "No such webhook endpoint.");
  return webhookView(row);
}

/** A new signing secret: `whsec_` and 32 random bytes. */
function newSecret(): string {
  return `whsec_${randomBytes(32).toString("base64url")}`;
}

/** Adds an endpoint; its signing secret is in the answer this once and never again. */
export async function createWebhook(db: DB, requester: Requester, input: unknown): Promise<{ webhook: WebhookView; secret: string }> {
  authorize(requester, "data.exports.schedule");
  await assertTenantWritable(db, requester.tenantId);
  const parsed = webhookInputSchema.safeParse(input ?? {});
  if (!parsed.success) throw new AppError("INVALID_REQUEST", "The webhook endpoint is not valid.", { fieldErrors: fieldErrors(parsed.error) });
  const secret = newSecret();
  const sealed = sealCredential(secret);
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto("webhook_endpoint")
      .values({
        ...place(requester),
        url: parsed.data.url,
        description: parsed.data.description,
        secret_ciphertext: sealed.ciphertext,
        secret_nonce: sealed.nonce,
        secret_auth_tag: sealed.auth_tag,
        created_by_user_id: requester.actor.userId,
        created_by_api_key_id: requester.actor.apiKeyId ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordEvent(trx, place(requester), "webhook.created", { type: "webhook", id: row.id }, requester.actor, { url: row.url });
    return { webhook: webhookView({ ...row, creator: requester.actor.label }), secret };
  });
}

/**
 * Stops an endpoint receiving events, or lets it receive them again. While it is disabled schedules skip it,
 * deliveries waiting for a retry end failed, and new schedules cannot choose it; its secret and log stay.
 */
export async function setWebhookDisabled(db: DB, requester: Requester, id: string, disabled: boolean): Promise<WebhookView> {
  authorize(requester, "data.exports.schedule");
  await assertTenantWritable(db, requester.tenantId);
  const webhook = await findWebhook(db, requester, id);
  if (webhook.disabled === disabled) return webhook;
  return db.transaction().execute(async (trx) => {
    const row = await trx.updateTable("webhook_endpoint").set({ disabled }).where("id", "=", webhook.id).returningAll().executeTakeFirstOrThrow();
    await recordEvent(trx, place(requester), disabled ? "webhook.disabled" : "webhook.enabled", { type: "webhook", id: row.id }, requester.actor, { url: row.url });
    return webhookView({ ...row, creator: webhook.createdBy });
  });
}

/** Deletes an endpoint, its schedule links and its delivery log. */
export async function deleteWebhook(db: DB, requester: Requester, id: string): Promise<void> {
  authorize(requester, "data.exports.schedule");
  const webhook = await findWebhook(db, requester, id);
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom("webhook_endpoint").where("id", "=", webhook.id).execute();
    await recordEvent(trx, place(requester), "webhook.deleted", { type: "webhook", id: webhook.id }, requester.actor, { url: webhook.url });
  });
}

/** An endpoint's signing secret, opened to sign with (delivery only: never shown). */
export async function webhookSecret(db: DB, webhookId: string): Promise<string> {
  const row = await db.selectFrom("webhook_endpoint").select(["secret_ciphertext", "secret_nonce", "secret_auth_tag"]).where("id", "=", webhookId).executeTakeFirstOrThrow();
  return openCredential({ ciphertext: row.secret_ciphertext, nonce: row.secret_nonce, auth_tag: row.secret_auth_tag });
}

/** The tenant's buckets, oldest first. */
export async function listBuckets(db: DB, requester: Requester): Promise<BucketView[]> {
  authorize(requester, "data.exports.read");
  const rows = await db.selectFrom("delivery_bucket").selectAll().where("tenant_id", "=", requester.tenantId).orderBy("created_at").orderBy("id").execute();
  return rows.map(bucketView);
}

export async function findBucket(db: DB, requester: Requester, id: string): Promise<BucketView> {
  authorize(requester, "data.exports.read");
  const row = isUuid(id) ? await db.selectFrom("delivery_bucket").selectAll().where("tenant_id", "=", requester.tenantId).where("id", "=", id).executeTakeFirst() : undefined;
  if (!row) throw new AppError("NOT_FOUND", "No such bucket.");
  return bucketView(row);
}

/** Adds a bucket; its keys are sealed at once and never shown again. */
export async function createBucket(db: DB, requester: Requester, input: unknown): Promise<BucketView> {
  authorize(requester, "data.exports.schedule");
  await assertTenantWritable(db, requester.tenantId);
  const parsed = bucketInputSchema.safeParse(input ?? {});
  if (!parsed.success) throw new AppError("INVALID_REQUEST", "The bucket is not valid.", { fieldErrors: fieldErrors(parsed.error) });
  const { accessKeyId, secretAccessKey, ...rest } = parsed.data;
  const sealed = sealCredential(JSON.stringify({ accessKeyId, secretAccessKey }));
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto("delivery_bucket")
      .values({
        ...place(requester),
        name: rest.name,
        endpoint: rest.endpoint ?? null,
        region: rest.region,
        bucket: rest.bucket,
        prefix: rest.prefix,
        force_path_style: rest.forcePathStyle,
        access_key_hint: accessKeyId.slice(-4),
        credentials_ciphertext: sealed.ciphertext,
        credentials_nonce: sealed.nonce,
        credentials_auth_tag: sealed.auth_tag,
        created_by_user_id: requester.actor.userId,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordEvent(trx, place(requester), "bucket.created", { type: "bucket", id: row.id }, requester.actor, { name: row.name, bucket: row.bucket });
    return bucketView(row);
  });
}

export async function deleteBucket(db: DB, requester: Requester, id: string): Promise<void> {
  authorize(requester, "data.exports.schedule");
  const bucket = await findBucket(db, requester, id);
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom("delivery_bucket").where("id", "=", bucket.id).execute();
    await recordEvent(trx, place(requester), "bucket.deleted", { type: "bucket", id: bucket.id }, requester.actor, { name: bucket.name, bucket: bucket.bucket });
  });
}

/** A bucket with its keys opened, to upload with (delivery only: never shown). */
export async function bucketWithKeys(db: DB, bucketId: string): Promise<DeliveryBucket & { accessKeyId: string; secretAccessKey: string }> {
  const row = await db.selectFrom("delivery_bucket").selectAll().where("id", "=", bucketId).executeTakeFirstOrThrow();
  const keys = JSON.parse(openCredential({ ciphertext: row.credentials_ciphertext, nonce: row.credentials_nonce, auth_tag: row.credentials_auth_tag })) as {
    accessKeyId: string;
    secretAccessKey: string;
  };
  return { ...row, ...keys };
}

/** The tenant's webhook endpoints and buckets a schedule may deliver to, for the schedule form. */
export async function listDeliveryTargets(db: DB, requester: Requester): Promise<{ webhooks: { id: string; label: string }[]; buckets: { id: string; label: string }[] }> {
  const [webhooks, buckets] = await Promise.all([listWebhooks(db, requester), listBuckets(db, requester)]);
  return {
    webhooks: webhooks.filter((w) => !w.disabled).map((w) => ({ id: w.id, label: w.description ? `${w.description} (${w.url})` : w.url })),
    buckets: buckets.map((b) => ({ id: b.id, label: `${b.name} (s3://${b.bucket}/${b.prefix})` })),
  };
}

/** Checks that each id is one of the tenant's endpoints or buckets (400 naming the field otherwise). */
export async function checkScheduleTargets(db: DB, requester: Requester, targets: { webhookIds: string[]; bucketIds: string[] }) {
  const webhookIds = [...new Set(targets.webhookIds)];
  const bucketIds = [...new Set(targets.bucketIds)];
  if (webhookIds.length) {
    const found = webhookIds.every(isUuid)
      ? await db.selectFrom("webhook_endpoint").select("id").where("tenant_id", "=", requester.tenantId).where("disabled", "=", false).where("id", "in", webhookIds).execute()
      : [];
    if (found.length !== webhookIds.length) throw invalid("webhookIds", "Every webhook must be one of this tenant's webhook endpoints, and not disabled.");
  }
  if (bucketIds.length) {
    const found = bucketIds.every(isUuid) ? await db.selectFrom("delivery_bucket").select("id").where("tenant_id", "=", requester.tenantId).where("id", "in", bucketIds).execute() : [];
    if (found.length !== bucketIds.length) throw invalid("bucketIds", "Every bucket must be one of this tenant's buckets.");
  }
  return { webhookIds, bucketIds };
}

/** Replaces a schedule's webhook and bucket targets (inside the caller's transaction). */
export async function setScheduleTargets(db: DB, scheduleId: string, targets: { webhookIds: string[]; bucketIds: string[] }): Promise<void> {
  await db.deleteFrom("export_schedule_webhook").where("schedule_id", "=", scheduleId).execute();
  await db.deleteFrom("export_schedule_bucket").where("schedule_id", "=", scheduleId).execute();
  if (targets.webhookIds.length) {
    await db.insertInto("export_schedule_webhook").values(targets.webhookIds.map((webhook_id) => ({ schedule_id: scheduleId, webhook_id }))).execute();
  }
  if (targets.bucketIds.length) {
    await db.insertInto("export_schedule_bucket").values(targets.bucketIds.map((bucket_id) => ({ schedule_id: scheduleId, bucket_id }))).execute();
  }
}

/** A schedule's current targets. */
export async function scheduleTargets(db: DB, scheduleId: string): Promise<{ webhookIds: string[]; bucketIds: string[] }> {
  const [webhooks, buckets] = await Promise.all([
    db.selectFrom("export_schedule_webhook").select("webhook_id").where("schedule_id", "=", scheduleId).orderBy("webhook_id").execute(),
    db.selectFrom("export_schedule_bucket").select("bucket_id").where("schedule_id", "=", scheduleId).orderBy("bucket_id").execute(),
  ]);
  return { webhookIds: webhooks.map((w) => w.webhook_id), bucketIds: buckets.map((b) => b.bucket_id) };
}
