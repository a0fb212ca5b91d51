import { createHash } from "node:crypto";
import { sql } from "kysely";
import type { NextFunction, Request as ExpressRequest, Response as ExpressResponse } from "express";
import { requesterOf, requireTenant } from "../auth/access.server";
import { getDb } from "../lib/db.server";
import { visibleExports } from "./export-queries.server";

// The exports page polls its own data every 1.5 s while an export waits or
// runs (`GET …/exports.data?_routes=…exports._index`). Its answer carries an
// ETag made from what it depends on; the browser sends it back as
// If-None-Match, and while nothing changed the answer is a bodiless 304, which
// the browser fills from its cache (Remix expects this of .data requests),
// without Remix, its loaders or their encoding. A change to any export the
// reader may see, to their rights, to the tenant or to the deployed build, or
// half a minute passing (links expire, time-left estimates age; a renamed
// project or user shows within that), makes a new tag and a full answer.
const POLL = /^\/o\/([^/]+)\/t\/([^/]+)\/exports\.data$/;
const ROUTES = "routes/o.$org.t.$tenant.exports._index";
const BUCKET_MS = 30_000;

/** The tag of the poll's answer now, or null when this request is not the poll or will not be answered with data (the loader then says why). */
async function pollTag(req: ExpressRequest, buildVersion: string): Promise<string | null> {
  const match = POLL.exec(req.path);
  if (!match || req.query._routes !== ROUTES) return null;
  const request = new Request(`http://portal${req.originalUrl}`, { headers: { cookie: req.headers.cookie ?? "" } });
  const ctx = await requireTenant(request, { org: decodeURIComponent(match[1]), tenant: decodeURIComponent(match[2]) }, "data.exports.read").catch(() => null);
  if (!ctx) return null;
  // Every field the page shows of an export, hashed row by row and summed: any change, addition or removal moves it.
  const seen = await visibleExports(getDb(), requesterOf(ctx))
    .select(sql<string>`count(*)`.as("n"))
    .select(sql<string | null>`sum(hashtext(row(e.id, e.status, e.rows_done, e.rows_expected, e.archive_bytes, e.error, e.formats,
      e.created_at, e.started_at, e.finished_at, e.expires_at, e.heartbeat_at, e.schedule_run_id)::text)::bigint)`.as("h"))
    .executeTakeFirstOrThrow();
  const parts = [buildVersion, req.originalUrl, ctx.user.id, ctx.permissions.join(","), ctx.tenant.name, ctx.tenant.archived, seen.n, seen.h, Math.floor(Date.now() / BUCKET_MS)];
  return `W/"${createHash("sha256").update(JSON.stringify(parts)).digest("base64url")}"`;
}

/**
 * Express middleware before Remix: answers the exports page's poll with 304
 * when the browser's copy is current, and tags a full answer otherwise. Any
 * other request, or a poll it cannot vouch for, goes on to Remix untouched.
 */
export function exportsPollCheck(buildVersion: string) {
  return (req: ExpressRequest, res: ExpressResponse, next: NextFunction) => {
    if (req.method !== "GET") return next();
    pollTag(req, buildVersion).then(
      (tag) => {
        if (!tag) return next();
        // private: a shared cache never keeps one person's page; no-cache: the browser asks every time.
        res.setHeader("Cache-Control", "private, no-cache");
        res.setHeader("ETag", tag);
        if (req.headers["if-none-match"] === tag) return void res.status(304).end();
        next();
      },
      () => next(),
    );
  };
}
