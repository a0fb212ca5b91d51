import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useFetcher, useLoaderData, useNavigation, useSearchParams } from "@remix-run/react";
import { useState } from "react";
import { ConfirmAction } from "~/components/ConfirmAction";
import { CopyButton } from "~/components/CopyButton";
import { DialogButton } from "~/components/ModalDialog";
import { ScrollRegion } from "~/components/ScrollRegion";
import { Time } from "~/components/Time";
import { requirePermission, requireTenant, requesterOf } from "~/auth/access.server";
import { can } from "~/auth/permissions";
import { createBucket, createWebhook, deleteBucket, deleteWebhook, listBuckets, listWebhooks, setWebhookDisabled } from "~/delivery/targets.server";
import { testBucket } from "~/delivery/bucket-upload.server";
import { sendTestEvent, webhookLog } from "~/delivery/webhook-log.server";
import { refused } from "~/lib/action-result.server";
import { getDb } from "~/lib/db.server";
import { AppError } from "~/lib/errors";

export const meta: MetaFunction = () => [{ title: "Delivery · Exportal" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "data.exports.read");
  const requester = requesterOf(ctx);
  const db = getDb();
  const [webhooks, buckets] = await Promise.all([listWebhooks(db, requester), listBuckets(db, requester)]);
  const logId = new URL(request.url).searchParams.get("log");
  const logFor = logId ? webhooks.find((w) => w.id === logId) : undefined;
  return {
    tenant: ctx.tenant,
    canManage: can(ctx.ability, "data.exports.schedule"),
    webhooks,
    buckets,
    log: logFor ? { webhook: logFor, entries: await webhookLog(db, requester, logFor.id) } : null,
  };
}

const text = (form: FormData, name: string) => String(form.get(name) ?? "");

export async function action({ request, params }: ActionFunctionArgs) {
  const ctx = await requireTenant(request, params);
  requirePermission(ctx, "data.exports.schedule");
  const requester = requesterOf(ctx);
  const db = getDb();
  const form = (await request.formData().catch(() => null)) ?? new FormData();
  const intent = text(form, "intent");
  try {
    switch (intent) {
      case "add-webhook": {
        const { webhook, secret } = await createWebhook(db, requester, { url: text(form, "url"), description: text(form, "description") });
        return data({ ok: true as const, webhook, secret }, { status: 201 });
      }
      case "delete-webhook":
        await deleteWebhook(db, requester, text(form, "webhookId"));
        return data({ ok: true as const });
      case "disable-webhook":
      case "enable-webhook":
        await setWebhookDisabled(db, requester, text(form, "webhookId"), intent === "disable-webhook");
        return data({ ok: true as const });
      case "test-webhook": {
        const { statusCode, error } = await sendTestEvent(db, requester, text(form, "webhookId"));
        return data({ ok: true as const, tested: { passed: error === null, summary: statusCode ? `Answered ${statusCode}` : (error ?? "") } });
      }
      case "test-bucket": {
        const { key, error } = await testBucket(db, requester, text(form, "bucketId"));
        return data({ ok: true as const, tested: { passed: error === null, summary: error ?? `Uploaded ${key}` } });
      }
      case "add-bucket": {
        const bucket = await createBucket(db, requester, {
          name: text(form, "name"),
          endpoint: text(form, "endpoint"),
          region: text(form, "region"),
          bucket: text(form, "bucket"),
          prefix: text(form, "prefix"),
          forcePathStyle: form.get("forcePathStyle") === "on",
          accessKeyId: text(form, "accessKeyId"),
          secretAccessKey: text(form, "secretAccessKey"),
        });
        return data({ ok: true as const, bucket }, { status: 201 });
      }
      case "delete-bucket":
        await deleteBucket(db, requester, text(form, "bucketId"));
        return data({ ok: true as const });
      default:
        throw new AppError("INVALID_REQUEST", "Unknown action.");
    }
  } catch (error) {
    // Never echo a secret back: only the fields that are not.
    return refused(error, { values: { url: text(form, "url"), description: text(form, "description"), name: text(form, "name"), endpoint: text(form, "endpoint"), region: text(form, "region"), bucket: text(form, "bucket"), prefix: text(form, "prefix") } });
  }
}

type ActionResult = { ok: boolean; error?: string; fieldErrors?: Record<string, string>; values?: Record<string, string>; secret?: string; tested?: { passed: boolean; summary: string } };

function Field({ id, label, name, errors, values, hint, ...input }: { id: string; label: string; name: string; errors?: Record<string, string>; values?: Record<string, string>; hint?: string } & React.InputHTMLAttributes<HTMLInputElement>) {
  const error = errors?.[name];
  const described = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(" ") || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} name={name} defaultValue={values?.[name]} aria-invalid={!!error} aria-describedby={described} {...input} />
      {hint && <p className="muted small" id={`${id}-hint`}>{hint}</p>}
      {error && <p className="field-error" id={`${id}-error`} role="alert">{error}</p>}
    </div>
  );
}

/** Add endpoint: the form, then (once) the signing secret with Copy. */
function AddWebhookForm({ onDone }: { onDone: () => void }) {
  const fetcher = useFetcher<ActionResult>();
  const busy = fetcher.state !== "idle";
  const result = fetcher.state === "idle" ? fetcher.data : undefined;
  if (result?.ok && result.secret) {
    return (
      <div className="webhook-secret">
        <p role="status">
          <strong>Copy the signing secret now.</strong> It is shown only this once. Your receiver checks each request&rsquo;s <code>Exportal-Signature</code> header with it.
        </p>
        <div className="copy-row">
          <input className="link-field" readOnly value={result.secret} aria-label="Signing secret" onFocus={(e) => e.target.select()} />
          <CopyButton value={result.secret} />
        </div>
        <footer className="dialog-footer">
          <button type="button" className="button primary" onClick={onDone}>Done</button>
        </footer>
      </div>
    );
  }
  return (
    <fetcher.Form method="post" noValidate>
      <input type="hidden" name="intent" value="add-webhook" />
      {result?.error && !Object.keys(result.fieldErrors ?? {}).length && <p className="form-error" role="alert">{result.error}</p>}
      <Field id="webhook-url" label="URL" name="url" type="url" required maxLength={2000} placeholder="https://example.com/hooks/exportal"
        hint="https, or http only for localhost and 127.0.0.1." errors={result?.fieldErrors} values={result?.values} />
      <Field id="webhook-description" label="Description (optional)" name="description" maxLength={200} errors={result?.fieldErrors} values={result?.values} />
      <footer className="dialog-footer">
        <button type="button" className="button secondary" onClick={onDone}>Cancel</button>
        <button type="submit" className="button primary" disabled={busy}>{busy ? "Adding…" : "Add endpoint"}</button>
      </footer>
    </fetcher.Form>
  );
}

function AddBucketForm({ onDone }: { onDone: () => void }) {
  const fetcher = useFetcher<ActionResult>();
  const busy = fetcher.state !== "idle";
  const result = fetcher.state === "idle" ? fetcher.data : undefined;
  const [sent, setSent] = useState(false);
  if (sent && result?.ok) {
    setSent(false);
    onDone();
  }
  const errors = result?.fieldErrors;
  const values = result?.values;
  return (
    <fetcher.Form method="post" noValidate onSubmit={() => setSent(true)}>
      <input type="hidden" name="intent" value="add-bucket" />
      {result?.error && !Object.keys(errors ?? {}).length && <p className="form-error" role="alert">{result.error}</p>}
      <Field id="bucket-name" label="Name" name="name" required maxLength={100} errors={errors} values={values} />
      <Field id="bucket-bucket" label="Bucket" name="bucket" required maxLength={255} errors={errors} values={values} />
      <Field id="bucket-region" label="Region" name="region" maxLength={100} placeholder="us-east-1" errors={errors} values={values} />
      <Field id="bucket-endpoint" label="Endpoint (optional)" name="endpoint" type="url" maxLength={2000} hint="Leave empty for AWS S3; set it for S3-compatible storage." errors={errors} values={values} />
      <Field id="bucket-prefix" label="Prefix (optional)" name="prefix" maxLength={500} hint="Runs go under <prefix><schedule>/<slot>/." errors={errors} values={values} />
      <label className="choice">
        <input type="checkbox" name="forcePathStyle" /> Path-style addressing (most S3-compatible servers)
      </label>
      <Field id="bucket-key-id" label="Access key id" name="accessKeyId" required maxLength={200} autoComplete="off" errors={errors} />
      <Field id="bucket-secret" label="Secret access key" name="secretAccessKey" type="password" required maxLength={500} autoComplete="new-password"
        hint="Stored encrypted and never shown again." errors={errors} />
      <footer className="dialog-footer">
        <button type="button" className="button secondary" onClick={onDone}>Cancel</button>
        <button type="submit" className="button primary" disabled={busy}>{busy ? "Adding…" : "Add bucket"}</button>
      </footer>
    </fetcher.Form>
  );
}

/**
 * A one-click action on a target: "Send test event" (a signed ping now, and the code the endpoint answered),
 * "Test upload" (a small file into a bucket now, and whether it was taken), or "Enable" (nothing is lost by
 * it, so no confirmation).
 */
function TargetButton(props: { intent: "test-webhook" | "enable-webhook" | "test-bucket"; target: { webhookId: string } | { bucketId: string }; label: string; pendingLabel: string; accessibleLabel: string; className: string }) {
  const fetcher = useFetcher<ActionResult>();
  const busy = fetcher.state !== "idle";
  const result = fetcher.state === "idle" ? fetcher.data : undefined;
  return (
    <fetcher.Form method="post" className="webhook-test">
      <input type="hidden" name="intent" value={props.intent} />
      {Object.entries(props.target).map(([name, id]) => <input key={name} type="hidden" name={name} value={id} />)}
      <button type="submit" className={props.className} aria-label={props.accessibleLabel} disabled={busy}>
        {busy ? props.pendingLabel : props.label}
      </button>
      <span role="status" className="small">
        {result?.tested && <span className={`badge ${result.tested.passed ? "badge-done" : "badge-failed"}`}>{result.tested.summary}</span>}
        {result?.ok === false && <span className="form-error">{result.error}</span>}
      </span>
    </fetcher.Form>
  );
}

const EVENT_LABELS = { "export.completed": "Export completed", "export.failed": "Run failed", ping: "Test event" } as const;

export default function Delivery() {
  const { tenant, canManage, webhooks, buckets, log } = useLoaderData<typeof loader>();
  const [params] = useSearchParams();
  const loading = useNavigation().state === "loading";
  return (
    <>
      <h1>Delivery</h1>
      <p className="muted">
        Where scheduled exports of {tenant.name} are delivered besides their recipients&rsquo; email: signed webhooks and buckets. Choose them on each schedule.
      </p>

      <section aria-labelledby="webhooks-title" className="delivery-section" aria-busy={loading}>
        <div className="section-head">
          <h2 id="webhooks-title">Webhook endpoints</h2>
          {canManage && <DialogButton label="Add endpoint" title="Add webhook endpoint" form={(close) => <AddWebhookForm onDone={close} />} />}
        </div>
        {webhooks.length === 0 ? (
          <div className="empty-state">
            <p>No webhook endpoints yet.{canManage ? " Add one to have each run POSTed to your system." : ""}</p>
          </div>
        ) : (
          <ScrollRegion className="table-wrap" label="Webhook endpoints">
            <table>
              <thead>
                <tr>
                  <th scope="col">URL</th>
                  <th scope="col" className="col-secondary">Description</th>
                  <th scope="col" className="col-secondary">Added</th>
                  <th scope="col"><span className="visually-hidden">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                {webhooks.map((w) => (
                  <tr key={w.id} data-webhook-id={w.id}>
                    <td><code className="break">{w.url}</code>{w.disabled && <span className="badge">Disabled</span>}</td>
                    <td className="col-secondary">{w.description}</td>
                    <td className="col-secondary"><Time value={w.createdAt} />{w.createdBy ? ` by ${w.createdBy}` : ""}</td>
                    <td className="row-actions">
                      <Link to={params.get("log") === w.id ? "." : `?log=${w.id}`} preventScrollReset aria-label={`${params.get("log") === w.id ? "Hide log" : "Log"} of ${w.url}`}>
                        {params.get("log") === w.id ? "Hide log" : "Log"}
                      </Link>
                      {canManage && !w.disabled && (
                        <TargetButton intent="test-webhook" target={{ webhookId: w.id }} label="Send test event" pendingLabel="Sending…" accessibleLabel={`Send test event to ${w.url}`} className="button secondary small-button" />
                      )}
                      {canManage && !w.disabled && (
                        <ConfirmAction
                          label="Disable"
                          accessibleLabel={`Disable ${w.url}`}
                          title="Disable this endpoint?"
                          consequence={`Schedules stop delivering to ${w.url} until you enable it again, and deliveries waiting for a retry end as failed. Its secret and delivery log are kept.`}
                          confirmLabel="Disable endpoint"
                          pendingLabel="Disabling…"
                          dismissLabel="Keep it on"
                          fields={{ intent: "disable-webhook", webhookId: w.id }}
                        />
                      )}
                      {canManage && w.disabled && (
                        <TargetButton intent="enable-webhook" target={{ webhookId: w.id }} label="Enable" pendingLabel="Enabling…" accessibleLabel={`Enable ${w.url}`} className="link-button" />
                      )}
                      {canManage && (
                        <ConfirmAction
                          label="Delete"
                          accessibleLabel={`Delete ${w.url}`}
                          title="Delete this endpoint?"
                          consequence={`Schedules stop delivering to ${w.url}, and its delivery log is deleted. Its secret cannot be restored.`}
                          confirmLabel="Delete endpoint"
                          pendingLabel="Deleting…"
                          dismissLabel="Keep it"
                          fields={{ intent: "delete-webhook", webhookId: w.id }}
                        />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        )}
        {params.get("log") && !log && <p className="form-error" role="alert">No such endpoint in this tenant.</p>}
        {log && (
          <section aria-labelledby="log-title" className="card delivery-log">
            <h3 id="log-title">Deliveries to <code className="break">{log.webhook.url}</code></h3>
            {log.entries.length === 0 ? (
              <p className="muted">Nothing delivered yet. Send a test event to try the endpoint.</p>
            ) : (
              <ScrollRegion className="table-wrap" label="Delivery log">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Event</th>
                      <th scope="col">Status</th>
                      <th scope="col">Tries (time, response)</th>
                    </tr>
                  </thead>
                  <tbody>
                    {log.entries.map((d) => (
                      <tr key={d.id}>
                        <td>{EVENT_LABELS[d.event]}</td>
                        <td>
                          <span className={`badge badge-${d.status === "sent" ? "done" : d.status}`}>{d.status === "sent" ? "Delivered" : d.status === "failed" ? "Failed" : "Retrying"}</span>
                          {d.nextAttemptAt && <p className="muted small">Next try <Time value={d.nextAttemptAt} /></p>}
                        </td>
                        <td>
                          <ol className="attempts">
                            {d.tries.map((t, i) => (
                              <li key={i}>
                                <Time value={t.at} />: {t.statusCode ?? "no answer"}
                                {t.error && t.statusCode === null ? ` (${t.error})` : ""}, {t.durationMs} ms
                              </li>
                            ))}
                          </ol>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </ScrollRegion>
            )}
          </section>
        )}
      </section>

      <section aria-labelledby="buckets-title" className="delivery-section">
        <div className="section-head">
          <h2 id="buckets-title">Buckets</h2>
          {canManage && <DialogButton label="Add bucket" title="Add bucket" form={(close) => <AddBucketForm onDone={close} />} />}
        </div>
        {buckets.length === 0 ? (
          <div className="empty-state">
            <p>No buckets yet.{canManage ? " Add an S3 or S3-compatible bucket to have each run's archive and manifest copied there." : ""}</p>
          </div>
        ) : (
          <ScrollRegion className="table-wrap" label="Buckets">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Location</th>
                  <th scope="col" className="col-secondary">Access key</th>
                  <th scope="col"><span className="visually-hidden">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                {buckets.map((b) => (
                  <tr key={b.id} data-bucket-id={b.id}>
                    <td>{b.name}</td>
                    <td>
                      <code className="break">s3://{b.bucket}/{b.prefix}</code>
                      <p className="muted small">{b.endpoint ?? "AWS"} · {b.region}{b.forcePathStyle ? " · path style" : ""}</p>
                    </td>
                    <td className="col-secondary"><code>…{b.accessKeyHint}</code></td>
                    <td className="row-actions">
                      {canManage && (
                        <TargetButton intent="test-bucket" target={{ bucketId: b.id }} label="Test upload" pendingLabel="Uploading…" accessibleLabel={`Test upload to bucket ${b.name}`} className="button secondary small-button" />
                      )}
                      {canManage && (
                        <ConfirmAction
                          label="Delete"
                          accessibleLabel={`Delete bucket ${b.name}`}
                          title={`Delete “${b.name}”?`}
                          consequence="Schedules stop delivering to this bucket. What was uploaded stays in the bucket; the stored keys are deleted."
                          confirmLabel="Delete bucket"
                          pendingLabel="Deleting…"
                          dismissLabel="Keep it"
                          fields={{ intent: "delete-bucket", bucketId: b.id }}
                        />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        )}
      </section>
    </>
  );
}

