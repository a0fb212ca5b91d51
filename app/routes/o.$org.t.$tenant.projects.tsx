import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, useActionData, useFetcher, useLoaderData, useNavigation } from "@remix-run/react";
import { useEffect, useId, useRef } from "react";
import { getDb } from "~/lib/db.server";
import { refused } from "~/lib/action-result.server";
import { invalid } from "~/lib/validation";
import { requirePermission, requireTenant, requesterOf } from "~/auth/access.server";
import { can } from "~/auth/permissions";
import { RenameForm } from "~/components/RenameForm";
import { NAME_MAX } from "~/tenants/names";
import { createApp, createProject, renameApp, renameProject } from "~/tenants/projects.server";
import { listProjects } from "~/tenants/tenant-data.server";

export const meta: MetaFunction = () => [{ title: "Projects · Exportal" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "data.read");
  const requester = requesterOf(ctx);
  return {
    tenant: ctx.tenant,
    projects: await listProjects(getDb(), requester),
    // An archived tenant is read-only: its services refuse changes, so the page offers none.
    canManage: can(ctx.ability, "projects.manage") && !ctx.tenant.archived,
  };
}

/** Tenant admins create and rename projects and apps. */
export async function action({ request, params }: ActionFunctionArgs) {
  const ctx = await requireTenant(request, params);
  requirePermission(ctx, "projects.manage");
  const form = (await request.formData().catch(() => null)) ?? new FormData();
  const field = (name: string) => String(form.get(name) ?? "");
  const intent = field("intent");
  const db = getDb();
  const requester = requesterOf(ctx);
  try {
    if (intent === "create-project") await createProject(db, requester, { name: field("name"), description: field("description") });
    else if (intent === "rename-project") await renameProject(db, requester, field("projectId"), { name: field("name") });
    else if (intent === "create-app") await createApp(db, requester, field("projectId"), { name: field("name"), platform: field("platform") });
    else if (intent === "rename-app") await renameApp(db, requester, field("appId"), { name: field("name") });
    else throw invalid("intent", "Unknown action.");
    return { ok: true as const, intent };
  } catch (error) {
    return refused(error, { intent, values: { name: field("name"), description: field("description"), platform: field("platform") } });
  }
}

function NewProject() {
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const busy = navigation.state !== "idle" && navigation.formData?.get("intent") === "create-project";
  const refusal = result && result.ok === false && result.intent === "create-project" ? result : undefined;
  const errors: Record<string, string> = refusal?.fieldErrors ?? {};
  const created = result?.ok === true && result.intent === "create-project";
  const formRef = useRef<HTMLFormElement>(null);
  // A created project empties the form for the next one.
  useEffect(() => {
    if (created && navigation.state === "idle") formRef.current?.reset();
  }, [created, navigation.state, result]);
  return (
    <Form method="post" ref={formRef} className="card key-form" aria-labelledby="new-project-title">
      <h2 id="new-project-title">New project</h2>
      {refusal && Object.keys(errors).length === 0 && <p className="form-error" role="alert">{refusal.error}</p>}
      <input type="hidden" name="intent" value="create-project" />
      <div className="field">
        <label htmlFor="project-name">Name</label>
        <input id="project-name" name="name" maxLength={NAME_MAX} defaultValue={refusal?.values.name ?? ""}
          aria-invalid={!!errors.name} aria-describedby={errors.name ? "project-name-error" : undefined} />
        {errors.name && <p className="field-error" id="project-name-error" role="alert">{errors.name}</p>}
      </div>
      <div className="field">
        <label htmlFor="project-description">Description (optional)</label>
        <input id="project-description" name="description" maxLength={500} defaultValue={refusal?.values.description ?? ""}
          aria-invalid={!!errors.description} aria-describedby={errors.description ? "project-description-error" : undefined} />
        {errors.description && <p className="field-error" id="project-description-error" role="alert">{errors.description}</p>}
      </div>
      <div>
        <button type="submit" className="button primary" disabled={busy}>{busy ? "Creating…" : "Create project"}</button>
      </div>
    </Form>
  );
}

/** Adds an app to one project; errors stay with this project's form, which keeps what was typed. */
function AddApp({ projectId, projectName }: { projectId: string; projectName: string }) {
  const fetcher = useFetcher<{ ok: boolean; error?: string; fieldErrors?: Record<string, string> }>();
  const formRef = useRef<HTMLFormElement>(null);
  const id = useId();
  const busy = fetcher.state !== "idle";
  const refusal = !busy && fetcher.data?.ok === false ? fetcher.data : undefined;
  const errors = refusal?.fieldErrors ?? {};
  useEffect(() => {
    if (fetcher.state === "idle" && fetcher.data?.ok) formRef.current?.reset();
  }, [fetcher.state, fetcher.data]);
  return (
    <details className="add-app">
      <summary>Add an app to {projectName}</summary>
      <fetcher.Form method="post" ref={formRef} className="add-app-form">
        <input type="hidden" name="intent" value="create-app" />
        <input type="hidden" name="projectId" value={projectId} />
        {refusal && Object.keys(errors).length === 0 && <p className="form-error" role="alert">{refusal.error}</p>}
        <div className="field">
          <label htmlFor={`${id}-name`}>App name</label>
          <input id={`${id}-name`} name="name" maxLength={NAME_MAX} aria-invalid={!!errors.name} aria-describedby={errors.name ? `${id}-name-error` : undefined} />
          {errors.name && <p className="field-error" id={`${id}-name-error`} role="alert">{errors.name}</p>}
        </div>
        <div className="field">
          <label htmlFor={`${id}-platform`}>Platform</label>
          <input id={`${id}-platform`} name="platform" maxLength={40} placeholder="e.g. iOS, watchOS, ring" aria-invalid={!!errors.platform}
            aria-describedby={errors.platform ? `${id}-platform-error` : undefined} />
          {errors.platform && <p className="field-error" id={`${id}-platform-error`} role="alert">{errors.platform}</p>}
        </div>
        <div>
          <button type="submit" className="button primary small-button" disabled={busy}>{busy ? "Adding…" : "Add app"}</button>
        </div>
      </fetcher.Form>
    </details>
  );
}

export default function Projects() {
  const { tenant, projects, canManage } = useLoaderData<typeof loader>();
  return (
    <>
      <h1>Projects</h1>
      <p className="muted">Projects in {tenant.name} and the apps that send their data.</p>
      {canManage && <NewProject />}
      {projects.length === 0 ? (
        <div className="empty-state">
          <p>This tenant has no projects yet.{canManage ? " Create the first one above." : ""}</p>
        </div>
      ) : (
        <ul className="cards">
          {projects.map((p) => (
            <li key={p.id} className="card">
              <div className="card-title-row">
                <h2>{p.name}</h2>
                {canManage && <RenameForm currentName={p.name} what="project" fields={{ intent: "rename-project", projectId: p.id }} />}
              </div>
              {p.description && <p className="muted">{p.description}</p>}
              <p>{p.participants.toLocaleString()} participants</p>
              <h3 className="small-heading">Apps</h3>
              {p.apps.length === 0 ? (
                <p className="muted">No apps yet.</p>
              ) : canManage ? (
                <ul className="app-list" aria-label={`Apps of ${p.name}`}>
                  {p.apps.map((a) => (
                    <li key={a.id}>
                      <span>{a.name} <span className="muted">· {a.platform}</span></span>
                      <RenameForm currentName={a.name} what="app" fields={{ intent: "rename-app", appId: a.id }} />
                    </li>
                  ))}
                </ul>
              ) : (
                <ul className="tags" aria-label={`Apps of ${p.name}`}>
                  {p.apps.map((a) => (
                    <li key={a.id} className="tag">
                      {a.name} <span className="muted">· {a.platform}</span>
                    </li>
                  ))}
                </ul>
              )}
              {canManage && <AddApp projectId={p.id} projectName={p.name} />}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
