import { randomUUID } from "node:crypto";
import type { LoaderFunctionArgs } from "@remix-run/node";
import { publicOrigin } from "~/api/export-json.server";
import { openApiDocument } from "~/api/openapi.server";

/** The OpenAPI document is public: it describes the API, it holds no data. */
export async function loader({ request }: LoaderFunctionArgs) {
  return Response.json(openApiDocument(publicOrigin(request)), { headers: { "X-Request-Id": randomUUID(), "Cache-Control": "public, max-age=300" } });
}
