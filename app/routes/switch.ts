import { redirect, type LoaderFunctionArgs } from "@remix-run/node";
import { listTenantChoices, requireUser } from "~/auth/access.server";
import { isSection } from "~/components/sections";

/**
 * The header switcher's target: picks the chosen tenant (or the first one of
 * the chosen organization) among those the user may open, keeping the section.
 */
export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  const params = new URL(request.url).searchParams;
  const section = isSection(params.get("section")) ? params.get("section") : "exports";
  const inOrg = (await listTenantChoices(user.id)).filter((c) => c.orgSlug === params.get("org"));
  const choice = inOrg.find((c) => c.tenantSlug === params.get("tenant")) ?? inOrg[0];
  throw redirect(choice ? `/o/${choice.orgSlug}/t/${choice.tenantSlug}/${section}` : "/exports");
}
