import { redirect, type LoaderFunctionArgs } from "@remix-run/node";
import { requireTenant } from "~/auth/access.server";

export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params);
  throw redirect(`/o/${ctx.org.slug}/t/${ctx.tenant.slug}/exports`);
}
