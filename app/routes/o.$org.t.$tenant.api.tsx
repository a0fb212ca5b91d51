import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { CopyButton } from "~/components/CopyButton";
import { ScrollRegion } from "~/components/ScrollRegion";
import { requireTenant } from "~/auth/access.server";
import { publicOrigin } from "~/api/export-json.server";
import { getDb } from "~/lib/db.server";
import { openApiDocument, OPERATIONS } from "~/api/openapi.server";
import { manifestPublicKey } from "~/exports/engine/manifest-key.server";
import { can, PERMISSION_LABELS } from "~/auth/permissions";
import { DEFAULT_EXPORT_BURST, DEFAULT_EXPORTS_PER_HOUR, DEFAULT_REQUESTS_PER_HOUR } from "~/api/rate-limit.server";

export const meta: MetaFunction = () => [{ title: "API · Exportal" }];

interface Parameter {
  name: string;
  in: string;
  required: boolean;
  description?: string;
  schema: { type?: string; enum?: string[]; minimum?: number; maximum?: number; default?: unknown; maxLength?: number };
}

/** Example values from this tenant, so the curl commands work as shown. */
async function examples(tenantId: string) {
  const db = getDb();
  const [project, exp, dashboard, schedule, run] = await Promise.all([
    db.selectFrom("project").select("id").where("tenant_id", "=", tenantId).orderBy("name").executeTakeFirst(),
    db.selectFrom("export").select("id").where("tenant_id", "=", tenantId).orderBy("created_at", "desc").executeTakeFirst(),
    db.selectFrom("dashboard").select("id").where("tenant_id", "=", tenantId).orderBy("is_default", "desc").executeTakeFirst(),
    db.selectFrom("export_schedule").select("id").where("tenant_id", "=", tenantId).orderBy("created_at", "desc").executeTakeFirst(),
    db.selectFrom("export_schedule_run").select(["id", "schedule_id"]).where("tenant_id", "=", tenantId).where("status", "=", "failed").orderBy("created_at", "desc").executeTakeFirst(),
  ]);
  return {
    projectId: project?.id ?? "PROJECT_ID",
    exportId: exp?.id ?? "EXPORT_ID",
    dashboardId: dashboard?.id ?? "DASHBOARD_ID",
    metricId: "stripe.mrr",
    scheduleId: schedule?.id ?? "SCHEDULE_ID",
    // A retry needs a failed run and its own schedule.
    failedRun: run ? { scheduleId: run.schedule_id, runId: run.id } : { scheduleId: schedule?.id ?? "SCHEDULE_ID", runId: "RUN_ID" },
  };
}

function curl(origin: string, method: string, path: string, body: unknown, isPublic: boolean): string {
  // A file download (dashboard-<id>.json) is saved under the name the answer gives it.
  const save = path.endsWith("/export") ? " -OJ" : "";
  const lines = [`curl -sS${save}${method === "get" ? "" : ` -X ${method.toUpperCase()}`} "${origin}${path}"`, ...(isPublic ? [] : [`  -H "Authorization: Bearer $EXPORTAL_API_KEY"`])];
  if (body !== undefined) {
    // Idempotency-Key replays POSTs; a PATCH sets the same fields however often it is sent.
    lines.push(`  -H "Content-Type: application/json"`, ...(method === "post" ? [`  -H "Idempotency-Key: $(uuidgen)"`] : []), `  -d '${JSON.stringify(body)}'`);
  }
  return lines.join(" \\\n");
}

export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "data.read");
  const origin = publicOrigin(request);
  const doc = openApiDocument(origin);
  const ex = await examples(ctx.tenant.id);
  const limits = await getDb()
    .selectFrom("tenant")
    .select(["api_requests_per_hour", "api_exports_per_hour", "api_export_burst"])
    .where("id", "=", ctx.tenant.id)
    .executeTakeFirstOrThrow();
  const operations = OPERATIONS.map((op) => {
    const spec = doc.paths[op.path][op.method] as { parameters?: Parameter[] };
    const scheduleId = op.path.includes("{runId}") ? ex.failedRun.scheduleId : ex.scheduleId;
    const examplePath = op.path
      .replace("{id}", op.path.includes("dashboards") ? ex.dashboardId : op.path.includes("schedules") ? scheduleId : ex.exportId)
      .replace("{runId}", ex.failedRun.runId)
      .replace("{metricId}", ex.metricId)
      .concat(op.path.endsWith("timeseries") ? "?startDate=2026-01-01&endDate=2026-07-01&interval=week" : op.path.endsWith("/metrics") ? "?metricIds=stripe.mrr&limit=10" : op.path.endsWith("/runs") ? "?limit=10" : "");
    const body = op.path === "/api/v1/exports" && op.method === "post" ? { scope: { type: "project", projectId: ex.projectId }, dateRange: { preset: "last_30_days" }, dataTypes: ["hsi_records"], format: ["csv", "parquet"] } : op.body?.example;
    return {
      id: `${op.method}-${op.path.replace(/[^a-z]+/gi, "-")}`,
      method: op.method.toUpperCase(),
      path: op.path,
      summary: op.summary,
      description: op.description,
      permission: op.permission,
      permissionLabel: op.permission ? PERMISSION_LABELS[op.permission] : null,
      parameters: spec.parameters ?? [],
      body: body === undefined ? undefined : JSON.stringify(body, null, 2),
      responses: Object.entries(op.responses).map(([status, r]) => ({ status, description: r.description })),
      curl: curl(origin, op.method, examplePath, body, op.permission === null),
    };
  });
  return {
    tenant: ctx.tenant,
    apiKeysPath: can(ctx.ability, "api_keys.manage") ? `/o/${ctx.org.slug}/t/${ctx.tenant.slug}/api-keys` : null,
    origin,
    limits: {
      requests: limits.api_requests_per_hour ?? DEFAULT_REQUESTS_PER_HOUR,
      exports: limits.api_exports_per_hour ?? DEFAULT_EXPORTS_PER_HOUR,
      burst: limits.api_export_burst ?? DEFAULT_EXPORT_BURST,
    },
    operations,
    manifestKey: manifestPublicKey(),
  };
}

/** The document's descriptions mark code with backticks, as OpenAPI's Markdown does. */
function Prose({ text }: { text?: string }) {
  if (!text) return null;
  return <>{text.split("`").map((part, i) => (i % 2 ? <code key={i}>{part}</code> : part))}</>;
}

function constraints(schema: Parameter["schema"]): string {
  const parts: string[] = [];
  if (schema.enum) parts.push(`one of ${schema.enum.join(", ")}`);
  if (schema.minimum !== undefined && schema.maximum !== undefined) parts.push(`${schema.minimum}–${schema.maximum}`);
  if (schema.default !== undefined) parts.push(`default ${String(schema.default)}`);
  if (schema.maxLength) parts.push(`up to ${schema.maxLength} characters`);
  return parts.join("; ");
}

export default function ApiDocs() {
  const { tenant, apiKeysPath, origin, limits, operations, manifestKey } = useLoaderData<typeof loader>();
  return (
    <>
      <div className="page-header">
        <div>
          <h1>API</h1>
          <p className="muted">Everything a program can do with {tenant.name}'s exports, schedules, metrics and dashboards.</p>
        </div>
        <a className="button secondary" href="/api/v1/openapi.json">OpenAPI document</a>
      </div>

      <section className="card api-intro" aria-labelledby="api-basics">
        <h2 id="api-basics">Basics</h2>
        <dl className="details">
          <dt>Base URL</dt>
          <dd><code>{origin}/api/v1</code></dd>
          <dt>Authentication</dt>
          <dd>
            <code>Authorization: Bearer xpk_…</code> with a key of this tenant.{" "}
            {apiKeysPath ? <Link to={apiKeysPath}>Create a key</Link> : "A tenant admin creates keys."} The examples read it from <code>$EXPORTAL_API_KEY</code>.
          </dd>
          <dt>Rate limits</dt>
          <dd>
            {limits.requests.toLocaleString("en")} requests per hour for the tenant; export creation in bursts of {limits.burst}, at most {limits.exports} per hour. Every answer says how many are left
            (<code>X-RateLimit-*</code>, <code>RateLimit</code>); a 429 says when to retry (<code>Retry-After</code>).
          </dd>
          <dt>Retries</dt>
          <dd>Send an <code>Idempotency-Key</code> with a POST: the same key and body within 24 hours returns the first answer instead of acting twice.</dd>
          <dt>Archive signatures</dt>
          <dd>
            Each archive's <code>manifest.sig</code> is the {manifestKey.algorithm} signature of its <code>manifest.json</code>, which lists every file's SHA-256, size and rows.
            Check an archive with <code>npm run verify -- export.zip --key {origin}/api/v1/manifest-key</code>. The public key (id <code>{manifestKey.keyId}</code>, SPKI DER in base64):
            <div className="code-with-copy">
              <ScrollRegion as="pre" className="code-block" label="Public key of archive signatures"><code>{manifestKey.publicKey}</code></ScrollRegion>
              <CopyButton value={manifestKey.publicKey} label="Copy key" />
            </div>
          </dd>
          <dt>Errors</dt>
          <dd>
            <code>{'{"error": {"code", "message", "details", "requestId"}}'}</code>; bad input is a 400 naming the field or parameter. Bodies are limited to 1 MB.
          </dd>
        </dl>
      </section>

      <nav aria-label="Endpoints" className="api-toc">
        <h2 className="small-heading">Endpoints</h2>
        <ul>
          {operations.map((op) => (
            <li key={op.id}>
              <a href={`#${op.id}`}>
                <span className={`method method-${op.method.toLowerCase()}`}>{op.method}</span> <code>{op.path}</code>
              </a>
            </li>
          ))}
        </ul>
      </nav>

      {operations.map((op) => (
        <section key={op.id} id={op.id} className="card api-operation" aria-labelledby={`${op.id}-title`}>
          <h2 id={`${op.id}-title`}>
            <span className={`method method-${op.method.toLowerCase()}`}>{op.method}</span> <code>{op.path}</code>
          </h2>
          <p>
            <strong>{op.summary}.</strong> <Prose text={op.description} />
          </p>
          <p className="muted small">
            {op.permission ? (
              <>
                Needs the key permission <code>{op.permission}</code> ({op.permissionLabel?.toLowerCase()}).
              </>
            ) : (
              "Public: no API key needed."
            )}
          </p>
          {op.parameters.length > 0 && (
            <ScrollRegion className="table-wrap" label={`Parameters of ${op.method} ${op.path}`}>
              <table>
                <caption className="visually-hidden">Parameters of {op.method} {op.path}</caption>
                <thead>
                  <tr>
                    <th scope="col">Parameter</th>
                    <th scope="col">In</th>
                    <th scope="col">Type</th>
                    <th scope="col">Rules</th>
                    <th scope="col">Description</th>
                  </tr>
                </thead>
                <tbody>
                  {op.parameters.map((p) => (
                    <tr key={`${p.in}-${p.name}`}>
                      <td>
                        <code>{p.name}</code>
                        {p.required && <span className="badge">required</span>}
                      </td>
                      <td>{p.in}</td>
                      <td>{p.schema.type ?? "string"}</td>
                      <td>{constraints(p.schema)}</td>
                      <td>
                        <Prose text={p.description} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </ScrollRegion>
          )}
          {op.body && (
            <>
              <h3 className="small-heading">Body</h3>
              <ScrollRegion as="pre" className="code-block" label={`Example body of ${op.method} ${op.path}`}><code>{op.body}</code></ScrollRegion>
            </>
          )}
          <h3 className="small-heading">Responses</h3>
          <ul className="responses">
            {op.responses.map((r) => (
              <li key={r.status}>
                <code>{r.status}</code> {r.description}
              </li>
            ))}
          </ul>
          <h3 className="small-heading">Example</h3>
          <div className="code-with-copy">
            <ScrollRegion as="pre" className="code-block" label={`Example command for ${op.method} ${op.path}`}><code>{op.curl}</code></ScrollRegion>
            <CopyButton value={op.curl} label="Copy command" />
          </div>
        </section>
      ))}
    </>
  );
}
