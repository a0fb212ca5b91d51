import { redirect, type LoaderFunctionArgs } from "@remix-run/node";
import { listTenantChoices, notFound, requireUser } from "~/auth/access.server";

/** An organization's address opens its first tenant the user may see. */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  const choice = (await listTenantChoices(user.id)).find((c) => c.orgSlug === params.org);
  if (!choice) throw notFound();
  throw redirect(`/o/${choice.orgSlug}/t/${choice.tenantSlug}/exports`);
}
