import { randomUUID } from "node:crypto";

/** Any other path under /api/v1 answers in the API's error shape, not with the portal's HTML. */
function notFound({ request }: { request: Request }) {
  const requestId = randomUUID();
  const path = new URL(request.url).pathname;
  return Response.json(
    { error: { code: "NOT_FOUND", message: `No endpoint ${request.method} ${path}. See /api/v1/openapi.json.`, details: { path }, requestId } },
    { status: 404, headers: { "X-Request-Id": requestId, "Cache-Control": "no-store" } },
  );
}

export const loader = notFound;
export const action = notFound;
