import type { LoaderFunctionArgs } from "@remix-run/node";
import { getDb } from "~/lib/db.server";
import { downloadBySignedLink } from "~/exports/download.server";

/** Downloads by signed link, without a session: the signature is the permission, until it expires. */
export function loader({ request, params }: LoaderFunctionArgs) {
  return downloadBySignedLink(getDb(), params.id ?? "", request);
}
