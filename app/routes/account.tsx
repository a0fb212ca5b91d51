import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { changePassword } from "~/account/password.server";
import { PASSWORD_MIN } from "~/account/password-rules";
import { listSessions, signOutSessions } from "~/account/sessions.server";
import { shortUserAgent } from "~/lib/user-agent";
import { listTenantChoices, requireUser } from "~/auth/access.server";
import { AppShell } from "~/components/AppShell";
import { ConfirmAction } from "~/components/ConfirmAction";
import { FieldError } from "~/components/FieldError";
import { Time } from "~/components/Time";
import { refused } from "~/lib/action-result.server";
import { getDb } from "~/lib/db.server";

export const meta: MetaFunction = () => [{ title: "Your account · Exportal" }];

/** Your account: a person's own password and sessions. Anyone signed in; about them alone. */
export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  return {
    shell: { user, choices: await listTenantChoices(user.id), current: null },
    sessions: await listSessions(getDb(), user, request),
  };
}

export async function action({ request }: ActionFunctionArgs) {
  const user = await requireUser(request);
  const form = (await request.formData().catch(() => null)) ?? new FormData();
  const intent = String(form.get("intent") ?? "");
  if (intent === "sign-out-all") {
    await signOutSessions(getDb(), user, request, "all");
    throw redirect("/sign-in");
  }
  if (intent === "sign-out-others") {
    await signOutSessions(getDb(), user, request, "others");
    return data({ ok: true as const, intent: "sign-out-others" as const, message: "You are signed out everywhere else. This browser stays signed in." });
  }
  // What was typed is never sent back: a password does not belong in a page.
  try {
    const headers = await changePassword(getDb(), user, request, {
      currentPassword: String(form.get("currentPassword") ?? ""),
      newPassword: String(form.get("newPassword") ?? ""),
      confirmPassword: String(form.get("confirmPassword") ?? ""),
      signOutOthers: form.get("signOutOthers") === "on",
    });
    const message = form.get("signOutOthers") === "on" ? "Your password was changed, and you are signed out everywhere else." : "Your password was changed.";
    return data({ ok: true as const, intent: "password" as const, message, changedAt: Date.now() }, { headers });
  } catch (error) {
    return refused(error, { intent: "password" as const });
  }
}

function PasswordForm() {
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const busy = navigation.state !== "idle" && navigation.formData?.get("intent") === "password";
  const mine = result?.intent === "password" ? result : undefined;
  const errors = mine && !mine.ok ? mine.fieldErrors : {};
  const field = (name: string) => ({ "aria-invalid": !!errors[name], "aria-describedby": errors[name] ? `${name}-error` : undefined });
  return (
    // A success remounts the form, so it starts empty again.
    <Form method="post" className="card account-form" aria-labelledby="password-title" key={mine?.ok ? mine.changedAt : "password"}>
      <h2 id="password-title">Change password</h2>
      <input type="hidden" name="intent" value="password" />
      {mine?.ok && <p className="notice success" role="status">{mine.message}</p>}
      {mine && !mine.ok && Object.keys(errors).length === 0 && <p className="form-error" role="alert">{mine.error}</p>}
      <div className="field">
        <label htmlFor="currentPassword">Current password</label>
        <input id="currentPassword" name="currentPassword" type="password" autoComplete="current-password" required {...field("currentPassword")} />
        <FieldError id="currentPassword-error" message={errors.currentPassword} />
      </div>
      <div className="field">
        <label htmlFor="newPassword">New password</label>
        <input id="newPassword" name="newPassword" type="password" autoComplete="new-password" required minLength={PASSWORD_MIN} {...field("newPassword")} />
        <FieldError id="newPassword-error" message={errors.newPassword} />
        <p className="muted small">At least {PASSWORD_MIN} characters.</p>
      </div>
      <div className="field">
        <label htmlFor="confirmPassword">Confirm new password</label>
        <input id="confirmPassword" name="confirmPassword" type="password" autoComplete="new-password" required {...field("confirmPassword")} />
        <FieldError id="confirmPassword-error" message={errors.confirmPassword} />
      </div>
      <label className="choice">
        <input type="checkbox" name="signOutOthers" /> Sign out my other sessions
      </label>
      <div>
        <button type="submit" className="button primary" disabled={busy}>{busy ? "Changing password…" : "Change password"}</button>
      </div>
    </Form>
  );
}

function Sessions() {
  const { sessions } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const busy = navigation.state !== "idle" && navigation.formData?.get("intent") === "sign-out-others";
  const others = sessions.filter((s) => !s.current).length;
  return (
    <section className="account-sessions" aria-labelledby="sessions-title">
      <div className="page-header">
        <div>
          <h2 id="sessions-title">Sessions</h2>
          <p className="muted">Where you are signed in. A session you do not recognise? Sign out everywhere and change your password.</p>
        </div>
        <div className="actions">
          <Form method="post">
            <input type="hidden" name="intent" value="sign-out-others" />
            <button type="submit" className="button secondary" disabled={busy || others === 0}>
              {busy ? "Signing out…" : "Sign out everywhere else"}
            </button>
          </Form>
          <ConfirmAction
            label="Sign out everywhere"
            title="Sign out everywhere?"
            consequence={`This ends all ${sessions.length} of your sessions, this one included: you will need to sign in again here and on every other device.`}
            confirmLabel="Sign out everywhere"
            pendingLabel="Signing out…"
            dismissLabel="Stay signed in"
            fields={{ intent: "sign-out-all" }}
            buttonClassName="button danger"
          />
        </div>
      </div>
      {result?.intent === "sign-out-others" && result.ok && <p className="notice success" role="status">{result.message}</p>}
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Browser</th>
              <th scope="col">Address</th>
              <th scope="col" className="col-secondary">Signed in</th>
              <th scope="col">Last active</th>
              <th scope="col" className="col-secondary">Expires</th>
            </tr>
          </thead>
          <tbody>
            {sessions.map((s) => (
              <tr key={s.id} data-session-id={s.id}>
                <td>
                  <span title={s.userAgent ?? undefined}>{s.userAgent ? shortUserAgent(s.userAgent) : "Unknown browser"}</span>
                  {s.current && <> <span className="badge badge-done">This session</span></>}
                </td>
                <td>{s.ipAddress || "—"}</td>
                <td className="col-secondary"><Time value={s.createdAt} /></td>
                <td><Time value={s.updatedAt} /></td>
                <td className="col-secondary"><Time value={s.expiresAt} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export default function Account() {
  const { shell } = useLoaderData<typeof loader>();
  return (
    <AppShell shell={shell} section="exports">
      <p className="back-link"><Link to="/">← Back to the portal</Link></p>
      <h1>Your account</h1>
      <p className="muted">{shell.user.name} · {shell.user.email}</p>
      <PasswordForm />
      <Sessions />
    </AppShell>
  );
}
