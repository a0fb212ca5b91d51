import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation, useParams } from "@remix-run/react";
import { cookiesOf, getAuth, getSessionUser } from "~/auth/auth.server";
import { acceptInvitation, findInvitation } from "~/members/accept-invitation.server";
import { FieldError } from "~/components/FieldError";
import { clientOf } from "~/lib/client.server";
import { getDb } from "~/lib/db.server";
import { AppError } from "~/lib/errors";

export const meta: MetaFunction<typeof loader> = ({ data: d }) => [{ title: d && "orgName" in d ? `Join ${d.orgName} · Exportal` : "Invitation · Exportal" }];

const GONE: Record<string, { title: string; text: string }> = {
  expired: { title: "This invitation has expired", text: "Invitations work for 7 days. Ask whoever invited you to send it again." },
  revoked: { title: "This invitation was revoked", text: "It no longer works. Ask whoever invited you for a new invitation if you still need access." },
  accepted: { title: "This invitation was already used", text: "Each invitation link works once. If it was you, sign in." },
};

/**
 * What the link leads to for whoever opened it: why it no longer works (410),
 * a form to choose a password (no account with the invited email), a sign-in
 * that comes back here (an account exists), a Join button (signed in as the
 * invited email), or a clear refusal (signed in as someone else, 403).
 */
async function resolve(request: Request, token: string) {
  const invitation = await findInvitation(getDb(), token);
  if (!invitation) throw new Response("Not found", { status: 404 });
  const orgName = invitation.org.name;
  if (invitation.state !== "pending") return { view: "gone" as const, orgName, state: invitation.state, status: 410 };
  const user = await getSessionUser(request);
  if (user && user.email.toLowerCase() !== invitation.email.toLowerCase()) {
    return { view: "wrong_user" as const, orgName, email: invitation.email, signedInAs: user.email, status: 403 };
  }
  if (user) return { view: "join" as const, orgName, email: invitation.email, user, status: 200 };
  if (invitation.hasAccount) return { view: "sign_in" as const, orgName, email: invitation.email, status: 200 };
  const { minPasswordLength } = (await getAuth().$context).password.config;
  return { view: "new_account" as const, orgName, email: invitation.email, minPasswordLength, status: 200 };
}

export async function loader({ request, params }: LoaderFunctionArgs) {
  const { status, ...page } = await resolve(request, params.token ?? "");
  return data(page, { status });
}

export async function action({ request, params }: ActionFunctionArgs) {
  const token = params.token ?? "";
  const { status, ...page } = await resolve(request, token);
  if (page.view !== "join" && page.view !== "new_account") return data({ ...page, error: undefined }, { status: status === 200 ? 409 : status });
  const form = (await request.formData().catch(() => null)) ?? new FormData();
  const name = String(form.get("name") ?? "");
  const password = String(form.get("password") ?? "");
  try {
    if (page.view === "join") {
      const { landing } = await acceptInvitation(getDb(), token, { userId: page.user.id }, clientOf(request));
      throw redirect(landing);
    }
    const { email, landing } = await acceptInvitation(getDb(), token, { newAccount: { name, password, confirm: String(form.get("confirm") ?? "") } }, clientOf(request));
    const signedIn = await getAuth().api.signInEmail({ body: { email, password }, headers: request.headers, asResponse: true });
    throw redirect(signedIn.ok ? landing : `/sign-in?redirectTo=${encodeURIComponent(landing)}`, { headers: cookiesOf(signedIn) });
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    if (error.code === "NOT_FOUND") throw new Response("Not found", { status: 404 });
    const state = error.details.state as string | undefined;
    if (error.code === "GONE") return data({ view: "gone" as const, orgName: page.orgName, state: state ?? "revoked" }, { status: 410 });
    return data({ ...page, error: error.message, fieldErrors: error.details.fieldErrors ?? {}, name }, { status: error.status });
  }
}

export default function Invitation() {
  const loaded = useLoaderData<typeof loader>();
  const acted = useActionData<typeof action>();
  const page = acted ?? loaded;
  const busy = useNavigation().state !== "idle";
  const { token } = useParams();
  const error = acted && "error" in acted ? acted.error : undefined;
  const errors: Record<string, string> = (acted && "fieldErrors" in acted && acted.fieldErrors) || {};
  const general = error && Object.keys(errors).length === 0 ? error : undefined;

  if (page.view === "gone") {
    const said = GONE[page.state] ?? GONE.revoked;
    return (
      <main className="auth-page">
        <section className="card auth-card" aria-labelledby="invitation-title">
          <h1 id="invitation-title">{said.title}</h1>
          <p>{said.text}</p>
          <p><Link to="/sign-in">Sign in</Link></p>
        </section>
      </main>
    );
  }
  return (
    <main className="auth-page">
      <section className="card auth-card" aria-labelledby="invitation-title">
        <h1 id="invitation-title">Join {page.orgName}</h1>
        {general && <p className="form-error" role="alert">{general}</p>}
        {page.view === "wrong_user" && (
          <>
            <p className="form-error" role="alert">
              This invitation is for {page.email}, but you are signed in as {page.signedInAs}.
            </p>
            <p>Sign out, then open the invitation link again to join as {page.email}.</p>
            <Form method="post" action="/sign-out">
              <button type="submit" className="button secondary">Sign out</button>
            </Form>
          </>
        )}
        {page.view === "sign_in" && (
          <>
            <p>{page.email} already has an Exportal account. Sign in with it to accept the invitation.</p>
            <Link className="button primary" to={`/sign-in?redirectTo=${encodeURIComponent(`/invitations/${token}`)}`}>Sign in to accept</Link>
          </>
        )}
        {page.view === "join" && (
          <Form method="post">
            <p>You are signed in as {page.email}.</p>
            <button type="submit" className="button primary" disabled={busy}>{busy ? "Joining…" : `Join ${page.orgName}`}</button>
          </Form>
        )}
        {page.view === "new_account" && (
          <Form method="post" className="auth-form">
            <p>You were invited as {page.email}. Choose your name and a password to create your account.</p>
            <label htmlFor="name">Your name</label>
            <input id="name" name="name" autoComplete="name" required maxLength={100} defaultValue={acted && "name" in acted ? acted.name : ""}
              aria-invalid={!!errors.name} aria-describedby={errors.name ? "name-error" : undefined} />
            <FieldError id="name-error" message={errors.name} />
            <label htmlFor="password">Password</label>
            <input id="password" name="password" type="password" autoComplete="new-password" required minLength={page.minPasswordLength}
              aria-invalid={!!errors.password} aria-describedby={errors.password ? "password-error" : "password-help"} />
            <p className="muted small" id="password-help">At least {page.minPasswordLength} characters.</p>
            <FieldError id="password-error" message={errors.password} />
            <label htmlFor="confirm">Confirm password</label>
            <input id="confirm" name="confirm" type="password" autoComplete="new-password" required
              aria-invalid={!!errors.confirm} aria-describedby={errors.confirm ? "confirm-error" : undefined} />
            <FieldError id="confirm-error" message={errors.confirm} />
            <button type="submit" className="button primary" disabled={busy}>{busy ? "Joining…" : `Join ${page.orgName}`}</button>
          </Form>
        )}
      </section>
    </main>
  );
}

