import { createRequestHandler } from "@remix-run/express";
import { createRequestHandler as createRemixHandler, writeReadableStreamToWritable, type ServerBuild } from "@remix-run/node";
import type { Request as ExpressRequest, RequestHandler, Response } from "express";

// Express middleware that guards the portal's forms before Remix (or any
// action) sees them: same-site posts only, and bodies of at most 1 MB.
// The /api/v1 API is exempt from both: programs send Bearer keys, not cookies,
// so a forged cross-site post carries nothing to ride on, and it has its own
// 1 MB limit with errors in its own shape (app/api/body.server.ts).
// better-auth's /api/auth is guarded like any page: it works by cookie.

/** Portal form bodies, the dashboard import's upload included, are at most this large. */
export const MAX_FORM_BYTES = 1024 * 1024;

// After a 413 the rest of the body is read and dropped (so the client, still
// sending, sees the answer rather than a reset connection), up to this much.
const DRAIN_BYTES = 64 * 1024 * 1024;

const READS = new Set(["GET", "HEAD", "OPTIONS"]);

/** A request that may change something on a session's behalf: not a read, not the Bearer-key API. */
const guarded = (req: ExpressRequest) => !READS.has(req.method) && !/^\/api\/v1(\/|$)/.test(req.path);

function page(res: Response, status: number, title: string, message: string) {
  res
    .status(status)
    .type("html")
    .set("Cache-Control", "no-store")
    .send(
      `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
        `<title>${title} · Exportal</title></head><body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem">` +
        `<main role="alert"><h1>${title}</h1><p>${message}</p><p><a href="/">Go to Exportal</a></p></main></body></html>`,
    );
}

/** Whether a URL (an Origin or a Referer) is this site: PUBLIC_URL's origin, or the host the request was sent to. */
function isThisSite(value: string, publicOrigin: string, host: string | undefined): boolean {
  let url: URL;
  try {
    url = new URL(value); // an opaque "null" Origin does not parse
  } catch {
    return false;
  }
  return url.origin === publicOrigin || (host !== undefined && url.host === host.toLowerCase());
}

/**
 * Refuses, with a 403 page, a form posted from another site: its Origin (or,
 * without one, Sec-Fetch-Site, then Referer) must be this site. A request with
 * none of them comes from no browser, so no cookie of a visitor rides on it.
 */
export function sameSiteFormsOnly(publicUrl: string): RequestHandler {
  const publicOrigin = new URL(publicUrl).origin;
  return (req, res, next) => {
    if (!guarded(req)) return next();
    const origin = req.get("origin");
    const site = req.get("sec-fetch-site");
    const referer = req.get("referer");
    const host = req.get("host");
    const fromHere =
      origin !== undefined ? isThisSite(origin, publicOrigin, host)
      : site !== undefined ? site === "same-origin" || site === "none"
      : referer !== undefined ? isThisSite(referer, publicOrigin, host)
      : true;
    if (fromHere) return next();
    page(res, 403, "This form came from another site", "Exportal only takes forms sent from its own pages, so that another site cannot act in your name. Nothing was changed. Open Exportal and try again from there.");
  };
}

function tooLarge(req: ExpressRequest, res: Response, read: number) {
  page(res, 413, "This form is too large", `Forms sent to Exportal may be at most 1 MB; this one was larger than 1 MB. Nothing was saved.`);
  req.removeAllListeners("data");
  req.on("data", (chunk: Buffer) => {
    read += chunk.length;
    if (read > DRAIN_BYTES) req.destroy();
  });
  req.resume();
}

/**
 * Refuses portal form bodies over MAX_FORM_BYTES with a 413 page before anything
 * parses them: at once when Content-Length says so; a streamed body (no
 * Content-Length) is read here, counted, and handed to Remix from memory.
 */
export function formBodyLimit(limit = MAX_FORM_BYTES): RequestHandler {
  return (req, res, next) => {
    if (!guarded(req)) return next();
    const declared = req.get("content-length");
    if (declared !== undefined) return Number(declared) > limit ? tooLarge(req, res, 0) : next();
    if (req.get("transfer-encoding") === undefined) return next(); // no body at all
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off("end", onEnd);
      tooLarge(req, res, size);
    };
    const onEnd = () => {
      res.locals.formBody = Buffer.concat(chunks);
      next();
    };
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("error", next);
  };
}

/** The Fetch Request for an Express request, as @remix-run/express builds one; `body`, one formBodyLimit read, from memory. */
export function fetchRequest(req: ExpressRequest, res: Response, body?: Buffer): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) for (const one of [value ?? []].flat()) headers.append(name, one);
  headers.delete("transfer-encoding");
  const port = /:(\d+)$/.exec(req.get("x-forwarded-host") ?? req.get("host") ?? "")?.[1];
  const url = new URL(req.originalUrl, `${req.protocol}://${req.hostname}${port ? `:${port}` : ""}`);
  const controller = new AbortController();
  res.on("close", () => res.writableFinished || controller.abort());
  return new Request(url, { method: req.method, headers, body: body && new Uint8Array(body), signal: controller.signal });
}

/** Sends a Fetch Response through Express, streaming its body. */
export async function sendResponse(res: Response, response: globalThis.Response): Promise<void> {
  res.statusMessage = response.statusText;
  res.status(response.status);
  for (const [name, value] of response.headers) res.append(name, value);
  if (response.body) await writeReadableStreamToWritable(response.body, res);
  else res.end();
}

/**
 * Remix as @remix-run/express serves it, except for a streamed body that
 * formBodyLimit already read: that request carries the body from memory.
 */
export function remixHandler(build: ServerBuild): RequestHandler {
  const viaExpress = createRequestHandler({ build });
  const handle = createRemixHandler(build, process.env.NODE_ENV);
  return async (req, res, next) => {
    const read: Buffer | undefined = res.locals.formBody;
    if (!read) return viaExpress(req, res, next);
    try {
      await sendResponse(res, await handle(fetchRequest(req, res, read)));
    } catch (error) {
      next(error);
    }
  };
}
