import { data, redirect, type ActionFunctionArgs, type HeadersFunction, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, useActionData, useNavigation, useSearchParams } from "@remix-run/react";
import { recordAuthEvent } from "~/account/account-events.server";
import { cookiesOf, getAuth, getSessionUser, type SessionUser } from "~/auth/auth.server";
import { beginSignIn, signInFailed, signInSucceeded, tooManyAttemptsMessage } from "~/auth/sign-in-limit.server";
import { getDb } from "~/lib/db.server";
import { safeRedirect } from "~/lib/safe-redirect";
import { clientOf } from "~/lib/client.server";

export const meta: MetaFunction = () => [{ title: "Sign in · Exportal" }];

// A refused attempt's Retry-After reaches the page response too, not only the action's data.
export const headers: HeadersFunction = ({ actionHeaders }) => {
  const retryAfter = actionHeaders.get("Retry-After");
  return retryAfter ? { "Retry-After": retryAfter } : new Headers();
};

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await getSessionUser(request);
  if (user) throw redirect(safeRedirect(new URL(request.url).searchParams.get("redirectTo")));
  return null;
}

export async function action({ request }: ActionFunctionArgs) {
  const form = (await request.formData().catch(() => null)) ?? new FormData();
  const email = String(form.get("email") ?? "").trim();
  const password = String(form.get("password") ?? "");
  if (!email || !password) {
    return data({ error: "Enter your email and password.", email }, { status: 400 });
  }
  const attempt = await beginSignIn(getDb(), email, clientOf(request).ip);
  if (!attempt.allowed) {
    const retryAfter = String(attempt.retryAfterSeconds);
    return data({ error: tooManyAttemptsMessage(attempt.retryAfterSeconds), email }, { status: 429, headers: { "Retry-After": retryAfter } });
  }
  const response = await getAuth().api.signInEmail({ body: { email, password }, headers: request.headers, asResponse: true });
  if (!response.ok) {
    await signInFailed(getDb(), attempt);
    return data({ error: "Incorrect email or password.", email }, { status: 401 });
  }
  await signInSucceeded(getDb(), attempt);
  const { user } = (await response.clone().json()) as { user: SessionUser };
  await recordAuthEvent(getDb(), "sign_in", user, request);
  throw redirect(safeRedirect(form.get("redirectTo")), { headers: cookiesOf(response) });
}

export default function SignIn() {
  const result = useActionData<typeof action>();
  const [params] = useSearchParams();
  const busy = useNavigation().state !== "idle";
  return (
    <main className="auth-page">
      <Form method="post" className="card auth-card" aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to Exportal</h1>
        {result?.error && (
          <p className="form-error" role="alert" id="sign-in-error">
            {result.error}
          </p>
        )}
        <input type="hidden" name="redirectTo" value={params.get("redirectTo") ?? "/"} />
        <label htmlFor="email">Email</label>
        <input id="email" name="email" type="email" autoComplete="username" required defaultValue={result?.email}
          aria-describedby={result?.error ? "sign-in-error" : undefined} />
        <label htmlFor="password">Password</label>
        <input id="password" name="password" type="password" autoComplete="current-password" required />
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </Form>
    </main>
  );
}
