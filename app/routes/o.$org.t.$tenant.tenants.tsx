import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useFetcher, useLoaderData, useNavigation } from "@remix-run/react";
import { useState } from "react";
import { requirePermission, requireTenant, requesterOf } from "~/auth/access.server";
import { ConfirmAction } from "~/components/ConfirmAction";
import { RenameForm } from "~/components/RenameForm";
import { Time } from "~/components/Time";
import { refused } from "~/lib/action-result.server";
import { getDb } from "~/lib/db.server";
import { invalid } from "~/lib/validation";
import { NAME_MAX, SLUG_MAX, slugFromName } from "~/tenants/names";
import { archiveTenant, createTenant, listTenants, renameTenant, restoreTenant } from "~/tenants/tenants.server";

export const meta: MetaFunction = () => [{ title: "Tenants · Exportal" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "tenants.manage");
  return { org: ctx.org, current: ctx.tenant.id, tenants: await listTenants(getDb(), requesterOf(ctx)) };
}

/** Create (then open the new tenant), rename, archive and restore; org owners and admins only. */
export async function action({ request, params }: ActionFunctionArgs) {
  const ctx = await requireTenant(request, params);
  requirePermission(ctx, "tenants.manage");
  const form = (await request.formData().catch(() => null)) ?? new FormData();
  const field = (name: string) => String(form.get(name) ?? "");
  const intent = field("intent");
  const requester = requesterOf(ctx);
  try {
    if (intent === "create") {
      const created = await createTenant(getDb(), requester, { name: field("name"), slug: field("slug") });
      throw redirect(`/o/${ctx.org.slug}/t/${created.slug}/projects`);
    }
    if (intent === "rename") await renameTenant(getDb(), requester, field("tenantId"), { name: field("name") });
    else if (intent === "archive") await archiveTenant(getDb(), requester, field("tenantId"));
    else if (intent === "restore") await restoreTenant(getDb(), requester, field("tenantId"));
    else throw invalid("intent", "Unknown action.");
    return { ok: true as const, intent };
  } catch (error) {
    if (error instanceof Response) throw error;
    return refused(error, { intent, values: { name: field("name"), slug: field("slug") } });
  }
}

function CreateTenant() {
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const busy = navigation.state !== "idle" && navigation.formData?.get("intent") === "create";
  const refusal = result && result.ok === false && result.intent === "create" ? result : undefined;
  const errors: Record<string, string> = refusal?.fieldErrors ?? {};
  const [name, setName] = useState(refusal?.values.name ?? "");
  const [slug, setSlug] = useState(refusal?.values.slug ?? "");
  // The slug follows the name until someone edits it.
  const [slugEdited, setSlugEdited] = useState(Boolean(refusal?.values.slug));
  return (
    <Form method="post" className="card key-form" aria-labelledby="new-tenant-title">
      <h2 id="new-tenant-title">New tenant</h2>
      {refusal && Object.keys(errors).length === 0 && <p className="form-error" role="alert">{refusal.error}</p>}
      <input type="hidden" name="intent" value="create" />
      <div className="field">
        <label htmlFor="tenant-name">Name</label>
        <input id="tenant-name" name="name" maxLength={NAME_MAX} value={name} aria-invalid={!!errors.name} aria-describedby={errors.name ? "tenant-name-error" : undefined}
          onChange={(e) => {
            setName(e.target.value);
            if (!slugEdited) setSlug(slugFromName(e.target.value));
          }} />
        {errors.name && <p className="field-error" id="tenant-name-error" role="alert">{errors.name}</p>}
      </div>
      <div className="field">
        <label htmlFor="tenant-slug">Slug</label>
        <input id="tenant-slug" name="slug" maxLength={SLUG_MAX} value={slug} aria-invalid={!!errors.slug} aria-describedby={errors.slug ? "tenant-slug-hint tenant-slug-error" : "tenant-slug-hint"}
          onChange={(e) => {
            setSlug(e.target.value);
            setSlugEdited(e.target.value !== "");
          }} />
        <p className="muted small" id="tenant-slug-hint">Part of the tenant&apos;s address; lowercase letters, digits and hyphens. It cannot be changed later.</p>
        {errors.slug && <p className="field-error" id="tenant-slug-error" role="alert">{errors.slug}</p>}
      </div>
      <div>
        <button type="submit" className="button primary" disabled={busy}>{busy ? "Creating…" : "Create tenant"}</button>
      </div>
    </Form>
  );
}

function RestoreButton({ tenantId, name }: { tenantId: string; name: string }) {
  const fetcher = useFetcher<{ ok: boolean; error?: string }>();
  const busy = fetcher.state !== "idle";
  return (
    <fetcher.Form method="post" className="inline-form">
      <input type="hidden" name="intent" value="restore" />
      <input type="hidden" name="tenantId" value={tenantId} />
      <button type="submit" className="button secondary small-button" aria-label={`Restore ${name}`} disabled={busy}>{busy ? "Restoring…" : "Restore"}</button>
      {fetcher.state === "idle" && fetcher.data?.ok === false && <p className="field-error" role="alert">{fetcher.data.error}</p>}
    </fetcher.Form>
  );
}

export default function Tenants() {
  const { org, current, tenants } = useLoaderData<typeof loader>();
  return (
    <>
      <h1>Tenants</h1>
      <p className="muted">The tenants of {org.name}. Each keeps its own data, members, exports and API keys.</p>
      <CreateTenant />
      {tenants.length === 0 ? (
        <div className="empty-state"><p>{org.name} has no tenants yet. Create the first one above.</p></div>
      ) : (
        <div className="table-wrap">
          <table className="tenants-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" className="col-secondary">Slug</th>
                <th scope="col" className="col-secondary">Created</th>
                <th scope="col" className="col-secondary">Projects</th>
                <th scope="col" className="col-secondary">Members</th>
                <th scope="col">Status</th>
                <th scope="col"><span className="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {tenants.map((t) => (
                <tr key={t.id} data-tenant-id={t.id}>
                  <td>
                    <Link to={`/o/${org.slug}/t/${t.slug}/projects`}>{t.name}</Link>
                    {t.id === current && <span className="muted small"> (this tenant)</span>}
                  </td>
                  <td className="col-secondary"><code>{t.slug}</code></td>
                  <td className="col-secondary"><Time value={t.created_at} /></td>
                  <td className="col-secondary">{t.projects.toLocaleString()}</td>
                  <td className="col-secondary">{t.members.toLocaleString()}</td>
                  <td>{t.archived_at ? <>Archived <Time value={t.archived_at} /></> : "Active"}</td>
                  <td>
                    <div className="row-actions">
                      <RenameForm currentName={t.name} what="tenant" fields={{ intent: "rename", tenantId: t.id }} />
                    {t.archived_at ? (
                      <RestoreButton tenantId={t.id} name={t.name} />
                    ) : (
                      <ConfirmAction
                        label="Archive"
                        accessibleLabel={`Archive ${t.name}`}
                        title={`Archive “${t.name}”?`}
                        consequence={`${t.name} becomes read-only: no new exports, API keys, dashboard imports, metric pushes, projects or apps, and its API keys stop working. Its history and archives stay downloadable until their retention ends. You can restore it later.`}
                        confirmLabel="Archive tenant"
                        pendingLabel="Archiving…"
                        dismissLabel="Keep it active"
                        fields={{ intent: "archive", tenantId: t.id }}
                      />
                    )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
