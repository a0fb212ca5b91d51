import { Readable } from "node:stream";
import type { DB } from "../../db/client";
import type { Export } from "../../db/schema";
import { recordExportEvent } from "../audit/audit.server";
import { can, type Permission } from "../auth/permissions";
import { authorize, type Requester } from "../auth/requester";
import { clientOf } from "../lib/client.server";
import { AppError } from "../lib/errors";
import { DATA_TYPE_SPECS, type DataTypeSpec } from "./engine/columns.server";
import { getStorage } from "./engine/storage.server";
import { getExport, getExportForLink } from "./export-queries.server";
import { signedDownloadPath, verifySignedLink } from "./signed-links.server";

/** One `bytes=` range of a file of `size` bytes; null when the header asks for none we serve. */
export function parseRange(header: string | null, size: number): { start: number; end: number } | "unsatisfiable" | null {
  const match = header?.match(/^bytes=(\d*)-(\d*)$/);
  if (!match || (match[1] === "" && match[2] === "")) return null;
  let start: number;
  let end: number;
  if (match[1] === "") {
    start = Math.max(0, size - Number(match[2]));
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  return start > end || start >= size ? "unsatisfiable" : { start, end };
}

/** A plain-text answer for people who opened a download link in a browser. */
export function textResponse(status: number, message: string): Response {
  return new Response(message, { status, headers: { "Content-Type": "text/plain; charset=utf-8" } });
}

/** Whether an export's archive may be downloaded now: it is done and its link has not expired, whatever the cleanup task did yet. */
export function linkIsLive(exp: Pick<Export, "status" | "expires_at">, now = new Date()): boolean {
  return exp.status === "done" && !!exp.expires_at && exp.expires_at.getTime() > now.getTime();
}

/** Done once, and past its expiry (marked so or not yet). */
export function linkExpired(exp: Pick<Export, "status" | "expires_at">, now = new Date()): boolean {
  return exp.status === "expired" || (exp.status === "done" && !linkIsLive(exp, now));
}

/**
 * The archive of a finished export as a download, honouring HTTP Range so an
 * interrupted download can resume; or, from storage that serves archives
 * itself (S3), a redirect to a presigned URL that does. Answers 410 once its link expired, checked
 * at request time rather than left to the cleanup task.
 */
export async function archiveResponse(request: Request, exp: Export): Promise<Response> {
  if (linkExpired(exp)) return textResponse(410, "This export has expired and its archive was deleted. Start a new export from the Exports page.");
  const storage = getStorage();
  const size = exp.status === "done" && exp.archive_key ? await storage.size(exp.archive_key) : null;
  if (size === null) return textResponse(409, "This export has no archive to download yet.");
  if (storage.downloadUrl) {
    // The storage serves the bytes (and Range) itself, through a URL minted for this click that works minutes only.
    const location = await storage.downloadUrl(exp.archive_key!, `export-${exp.id}.zip`);
    return new Response(null, { status: 302, headers: { Location: location, "Cache-Control": "private, no-store" } });
  }
  const headers = new Headers({
    "Content-Type": "application/zip",
    "Content-Disposition": `attachment; filename="export-${exp.id}.zip"`,
    "Accept-Ranges": "bytes",
    "Cache-Control": "private, no-store",
    ETag: `"${exp.id}"`,
  });
  const ifRange = request.headers.get("If-Range");
  const range = ifRange && ifRange !== headers.get("ETag") ? null : parseRange(request.headers.get("Range"), size);
  if (range === "unsatisfiable") {
    headers.set("Content-Range", `bytes */${size}`);
    return new Response(null, { status: 416, headers });
  }
  const stream = await storage.read(exp.archive_key!, range ?? undefined);
  const body = Readable.toWeb(stream) as ReadableStream;
  if (!range) {
    headers.set("Content-Length", String(size));
    return new Response(body, { status: 200, headers });
  }
  headers.set("Content-Range", `bytes ${range.start}-${range.end}/${size}`);
  headers.set("Content-Length", String(range.end - range.start + 1));
  return new Response(body, { status: 206, headers });
}

/**
 * A whole download, or the first part of a resumable one (not every resumed
 * piece), or the redirect to storage that serves it: what the audit trail records.
 */
export function startsDownload(response: Response): boolean {
  return response.status === 200 || response.status === 302 || (response.status === 206 && /^bytes 0-/.test(response.headers.get("Content-Range") ?? ""));
}

/**
 * Taking an archive out needs what putting its data types in needed: an
 * editor may see an admin's export of the audit trail listed, but not
 * download it without audit.read.
 */
function authorizeContents(requester: Pick<Requester, "ability" | "actor">, exp: Pick<Export, "data_types">): void {
  for (const permission of contentPermissions(exp)) authorize(requester, permission);
}

function contentPermissions(exp: Pick<Export, "data_types">): Permission[] {
  return exp.data_types.flatMap((type) => (DATA_TYPE_SPECS[type as keyof typeof DATA_TYPE_SPECS] as DataTypeSpec | undefined)?.permission ?? []);
}

/** Whether the requester may download this export (for pages that offer the button and the signed link). */
export function mayDownload(requester: Pick<Requester, "ability">, exp: Pick<Export, "data_types" | "scope">): boolean {
  return can(requester.ability, "data.exports.download", exp) && contentPermissions(exp).every((p) => can(requester.ability, p));
}

/**
 * A portal download: the requester's right to download that export first,
 * then the archive; a started download is audited with who and from where.
 * An export the requester may not see is as unknown as one that never was.
 */
export async function downloadExport(db: DB, requester: Requester, id: string, request: Request): Promise<Response> {
  authorize(requester, "data.exports.download");
  const exp = await getExport(db, requester, id);
  if (!exp) throw new AppError("NOT_FOUND", "No such export.");
  authorizeContents(requester, exp);
  const response = await archiveResponse(request, exp);
  if (startsDownload(response)) await recordExportEvent(db, exp, "downloaded", requester.actor);
  return response;
}

/** A download by signed link, without a session: the valid, unexpired signature is the permission. */
export async function downloadBySignedLink(db: DB, exportId: string, request: Request): Promise<Response> {
  const check = verifySignedLink(exportId, new URL(request.url).searchParams);
  if (!check.ok && check.reason === "invalid") {
    return textResponse(403, "This download link is not valid. Copy the link again from the export's page in Exportal.");
  }
  if (!check.ok) {
    return textResponse(410, `This download link expired on ${check.expiresAt!.toISOString()}. Export the data again from the Exports page in Exportal.`);
  }
  const exp = await getExportForLink(db, check.link.tenantId, check.link.exportId);
  if (!exp) return textResponse(404, "Not found");
  // A link signed before organization-wide exports were kept to the organization does not open one.
  if ((exp.scope.type === "organization") !== check.link.organizationWide) {
    return textResponse(403, "This download link is not valid. Copy the link again from the export's page in Exportal.");
  }
  const response = await archiveResponse(request, exp);
  if (startsDownload(response)) await recordExportEvent(db, exp, "downloaded", { userId: null, label: "signed link", ...clientOf(request) });
  return response;
}

/** The signed link of a finished export for someone who may download it, or why there is none. */
export async function issueSignedLink(db: DB, requester: Requester, id: string): Promise<{ path: string; expiresAt: Date }> {
  authorize(requester, "data.exports.download");
  const exp = await getExport(db, requester, id);
  if (!exp) throw new AppError("NOT_FOUND", "No export with this id in this tenant.", { id });
  authorizeContents(requester, exp);
  if (linkExpired(exp)) throw new AppError("GONE", "This export's download link has expired and its archive was deleted. Create a new export.", { status: "expired" });
  if (exp.status !== "done") throw new AppError("CONFLICT", `This export is ${exp.status}; it can be downloaded once it is done.`, { status: exp.status });
  await recordExportEvent(db, exp, "link_issued", requester.actor);
  return { path: signedLinkPath(exp), expiresAt: exp.expires_at! };
}

/** The signed download path of a done export, signed for its scope. */
export function signedLinkPath(exp: Pick<Export, "id" | "tenant_id" | "expires_at" | "scope">): string {
  return signedDownloadPath(exp.id, exp.tenant_id, exp.expires_at!, exp.scope.type === "organization");
}
