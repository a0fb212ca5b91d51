import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { newPasswordErrors, PASSWORD_MIN, SET_PASSWORD_LINK_HOURS } from "~/account/password-rules";
import { setPasswordTokenUser, setPasswordWithToken } from "~/account/set-password.server";
import { lastTenantPath } from "~/auth/access.server";
import { FieldError } from "~/components/FieldError";
import { getDb } from "~/lib/db.server";

export const meta: MetaFunction = () => [{ title: "Set your password · Exportal" }];

// Gone: a link that was good once (or never) and is not now says so in words, with a 410.
const gone = () => data({ valid: false as const }, { status: 410 });

/** The page a one-time link opens. Nobody is signed in yet: the token is the permission. */
export async function loader({ params }: LoaderFunctionArgs) {
  const user = await setPasswordTokenUser(getDb(), params.token ?? "");
  if (!user) return gone();
  return { valid: true as const, email: user.email };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const form = (await request.formData().catch(() => null)) ?? new FormData();
  const password = String(form.get("password") ?? "");
  const fieldErrors = newPasswordErrors({ password, confirmPassword: String(form.get("confirmPassword") ?? "") }, "password");
  if (Object.keys(fieldErrors).length > 0) return data({ fieldErrors }, { status: 400 });
  const done = await setPasswordWithToken(getDb(), params.token ?? "", password, request);
  if (!done) return gone();
  throw redirect((await lastTenantPath(done.user.id)) ?? "/", { headers: done.headers });
}

function LinkGone() {
  return (
    <main className="auth-page">
      <div className="card auth-card">
        <h1>This link no longer works</h1>
        <p>
          A link to set your password works once, for {SET_PASSWORD_LINK_HOURS} hours. This one has been used already, has expired, or was never
          valid.
        </p>
        <p className="muted">If you set your password already, sign in with it. Otherwise ask whoever sent you the link for a new one.</p>
        <Link className="button primary" to="/sign-in">Go to sign in</Link>
      </div>
    </main>
  );
}

export default function SetPassword() {
  const page = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state !== "idle";
  if (!page.valid || (result && "valid" in result)) return <LinkGone />;
  const errors: Record<string, string> = result && "fieldErrors" in result ? result.fieldErrors : {};
  const field = (name: string, hint?: string) => ({ "aria-invalid": !!errors[name], "aria-describedby": errors[name] ? `${name}-error` : hint });
  return (
    <main className="auth-page">
      <Form method="post" className="card auth-card" aria-labelledby="set-password-title">
        <h1 id="set-password-title">Set your password</h1>
        <p className="muted">For {page.email}. You will be signed in once it is set.</p>
        <div className="field">
          <label htmlFor="password">Password</label>
          <input id="password" name="password" type="password" autoComplete="new-password" required minLength={PASSWORD_MIN} {...field("password", "password-hint")} />
          <p className="muted small" id="password-hint">At least {PASSWORD_MIN} characters.</p>
          <FieldError id="password-error" message={errors.password} />
        </div>
        <div className="field">
          <label htmlFor="confirmPassword">Confirm password</label>
          <input id="confirmPassword" name="confirmPassword" type="password" autoComplete="new-password" required {...field("confirmPassword")} />
          <FieldError id="confirmPassword-error" message={errors.confirmPassword} />
        </div>
        <button type="submit" className="button primary" disabled={busy}>{busy ? "Setting password…" : "Set password"}</button>
      </Form>
    </main>
  );
}
