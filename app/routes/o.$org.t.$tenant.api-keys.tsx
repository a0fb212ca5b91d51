import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { CopyButton } from "~/components/CopyButton";
import { Time } from "~/components/Time";
import { ScrollRegion } from "~/components/ScrollRegion";
import { ConfirmAction } from "~/components/ConfirmAction";
import { requirePermission, requireTenant, requesterOf } from "~/auth/access.server";
import { API_KEY_PERMISSIONS, createApiKey, listApiKeys, revokeApiKey } from "~/api/keys.server";
import { getDb } from "~/lib/db.server";
import { refused } from "~/lib/action-result.server";
import { can, PERMISSION_LABELS, type Permission } from "~/auth/permissions";

export const meta: MetaFunction = () => [{ title: "API keys · Exportal" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "api_keys.manage");
  return {
    tenant: ctx.tenant,
    keys: await listApiKeys(getDb(), requesterOf(ctx)),
    grantable: API_KEY_PERMISSIONS.filter((p) => can(ctx.ability, p)),
  };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const ctx = await requireTenant(request, params);
  requirePermission(ctx, "api_keys.manage");
  const form = (await request.formData().catch(() => null)) ?? new FormData();
  try {
    if (form.get("intent") === "revoke") {
      await revokeApiKey(getDb(), requesterOf(ctx), String(form.get("keyId") ?? ""));
      return data({ revoked: true as const });
    }
    const created = await createApiKey(getDb(), requesterOf(ctx), {
      name: String(form.get("name") ?? ""),
      permissions: form.getAll("permissions").map(String),
      expiresAt: form.get("expiresAt") ? String(form.get("expiresAt")) : undefined,
    });
    return data({ created }, { status: 201 });
  } catch (error) {
    return refused(error, { name: String(form.get("name") ?? "") });
  }
}

function NewKey({ value }: { value: string }) {
  return (
    <div className="notice" role="status">
      <p>
        <strong>Copy this key now.</strong> It is shown only once; Exportal keeps only a hash of it.
      </p>
      <div className="copy-row">
        <input className="link-field" readOnly value={value} aria-label="New API key" onFocus={(e) => e.target.select()} />
        <CopyButton value={value} />
      </div>
    </div>
  );
}

export default function ApiKeys() {
  const { tenant, keys, grantable } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state !== "idle";
  const errors = result && "fieldErrors" in result ? result.fieldErrors : {};
  return (
    <>
      <h1>API keys</h1>
      <p className="muted">Keys let programs use {tenant.name} through the REST API, with the permissions you give them.</p>
      {result && "created" in result && <NewKey value={result.created.key} />}

      {/* A new key remounts the form, so it starts empty again. */}
      <Form method="post" className="card key-form" aria-labelledby="new-key-title" key={result && "created" in result ? result.created.id : "new"}>
        <h2 id="new-key-title">New key</h2>
        {result && "error" in result && Object.keys(errors).length === 0 && <p className="form-error" role="alert">{result.error}</p>}
        <div className="field">
          <label htmlFor="key-name">Name</label>
          <input id="key-name" name="name" maxLength={100} defaultValue={result && "name" in result ? result.name : ""}
            aria-invalid={!!errors.name} aria-describedby={errors.name ? "key-name-error" : undefined} />
          {errors.name && <p className="field-error" id="key-name-error" role="alert">{errors.name}</p>}
        </div>
        <fieldset className="field">
          <legend>Permissions</legend>
          {grantable.map((p) => (
            <label key={p} className="choice">
              <input type="checkbox" name="permissions" value={p} defaultChecked={p === "data.exports.read"} /> {PERMISSION_LABELS[p]}
            </label>
          ))}
          {errors.permissions && <p className="field-error" role="alert">{errors.permissions}</p>}
        </fieldset>
        <div className="field">
          <label htmlFor="key-expires">Expires (optional)</label>
          <input id="key-expires" type="date" name="expiresAt" aria-invalid={!!errors.expiresAt} />
          {errors.expiresAt && <p className="field-error" role="alert">{errors.expiresAt}</p>}
        </div>
        <div>
          <button type="submit" className="button primary" disabled={busy}>Create key</button>
        </div>
      </Form>

      {keys.length === 0 ? (
        <div className="empty-state"><p>No API keys yet. Create one above for each program that needs access.</p></div>
      ) : (
        <ScrollRegion className="table-wrap" label="API keys">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" className="col-secondary">Key</th>
                <th scope="col">Permissions</th>
                <th scope="col" className="col-secondary">Created</th>
                <th scope="col" className="col-secondary">Last used</th>
                <th scope="col">Status</th>
                <th scope="col"><span className="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => {
                return (
                  <tr key={k.id} data-key-id={k.id}>
                    <td>{k.name}</td>
                    <td className="col-secondary"><code>{k.key_prefix}…{k.last4}</code></td>
                    <td>
                      {k.permissions.map((p) => PERMISSION_LABELS[p as Permission] ?? p).join(", ")}
                      {k.creatorActive && k.effectivePermissions.length < k.permissions.length && (
                        <p className="muted small">
                          Suspended while its creator lacks them:{" "}
                          {k.permissions.filter((p) => !k.effectivePermissions.includes(p as Permission)).map((p) => PERMISSION_LABELS[p as Permission] ?? p).join(", ")}
                        </p>
                      )}
                    </td>
                    <td className="col-secondary"><Time value={k.created_at} />{k.createdBy ? ` by ${k.createdBy}` : ""}</td>
                    <td className="col-secondary">{k.last_used_at ? <Time value={k.last_used_at} /> : "Never"}</td>
                    <td>
                      {k.revoked_at ? "Revoked" : k.expired ? "Expired" : !k.creatorActive ? "Inactive: its creator no longer has access to this tenant"
                        : k.expires_at ? <>Active, expires <Time value={k.expires_at} /></> : "Active"}
                    </td>
                    <td>
                      {!k.revoked_at && (
                        <ConfirmAction
                          label="Revoke"
                          accessibleLabel={`Revoke ${k.name}`}
                          title={`Revoke “${k.name}”?`}
                          consequence="Programs using this key lose access at once. A revoked key cannot be restored; you would make a new one."
                          confirmLabel="Revoke key"
                          pendingLabel="Revoking…"
                          dismissLabel="Keep the key"
                          fields={{ intent: "revoke", keyId: k.id }}
                        />
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </ScrollRegion>
      )}
    </>
  );
}
