import { redirect, type LoaderFunctionArgs } from "@remix-run/node";
import { lastTenantPath, requireUser } from "~/auth/access.server";

/** Home: the tenant the user last opened (or their only one), else the page that asks them to choose one. */
export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  throw redirect((await lastTenantPath(user.id)) ?? "/exports");
}
