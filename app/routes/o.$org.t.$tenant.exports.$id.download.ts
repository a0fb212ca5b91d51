import { Readable } from "node:stream";
import type { LoaderFunctionArgs } from "@remix-run/node";
import { notFound, requireTenant } from "~/lib/access.server";
import { getDb } from "~/lib/db.server";
import { getExport } from "~/lib/exports.server";
import { getStorage } from "~/lib/storage.server";

/** Streams a finished export's archive; session and permission are checked on every download. */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "data.exports.download");
  const exp = await getExport(getDb(), ctx.tenant.id, params.id ?? "");
  if (!exp) throw notFound();
  const size = exp.status === "done" && exp.archive_key ? await getStorage().size(exp.archive_key) : null;
  if (size === null) {
    return new Response("This export has no archive to download.", { status: 409, headers: { "Content-Type": "text/plain" } });
  }
  const body = Readable.toWeb(getStorage().read(exp.archive_key!)) as ReadableStream;
  return new Response(body, {
    headers: {
      "Content-Type": "application/zip",
      "Content-Length": String(size),
      "Content-Disposition": `attachment; filename="export-${exp.id}.zip"`,
      "Cache-Control": "private, no-store",
    },
  });
}
