import { createHash } from "node:crypto";
import { createRequestHandler, type ServerBuild } from "@remix-run/node";
import type { RequestHandler } from "express";
import { getSessionUser, sessionsGeneration } from "../auth/auth.server";
import { notifiedCache } from "../lib/notified-cache.server";
import { fetchRequest, sendResponse } from "../lib/request-guards.server";

// The exports page is the page people keep open while exports run: it polls
// its data every 1.5 s and is reloaded and returned to. Each session's answers
// for it (the page, its data request, the poll) are kept in this process as
// Remix rendered them, and sent again until something they show may have
// changed: the database notifies every table they read (migration
// 20261206_1000): an export empties its organization's pages, anything else
// (a role, a rename, a tenant archived, a project) all of them. This process's
// own writes, any request that is not a read, empty the cache at once, so the
// page after a form shows what the form did. Half a minute is the most an
// answer is kept: links expire and time-left estimates age.
//
// Each answer carries an ETag, the hash of its bytes. The browser sends it
// back and, while the page is unchanged, gets a bodiless 304 (for .data
// requests Remix's client counts on the browser's cache for that).
const PAGE = /^\/o\/[a-z0-9-]+\/t\/[a-z0-9-]+\/exports(?:\.data)?$/;
const READS = new Set(["GET", "HEAD", "OPTIONS"]);

type Answer = { status: number; headers: [string, string][]; body: Buffer; etag: string };
// At most 500 answers of about 10–70 KB each.
const answers = notifiedCache<Answer>("exports_page", { maxEntries: 500, maxAgeMs: 30_000 });

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("base64url");

/** Whether Remix's answer is the page or its data, the same for every read of this session: no redirect, no error, no cookie set. */
const keepable = (response: Response) =>
  response.status === 200 && !response.headers.has("set-cookie") && /^text\/(html|x-script)\b/.test(response.headers.get("content-type") ?? "");

/**
 * Express middleware before Remix: answers the exports page from the cache,
 * or renders it through Remix and keeps the answer; every other request goes
 * on untouched (a write after emptying the cache).
 */
export function exportsPageCache(build: ServerBuild): RequestHandler {
  const handle = createRequestHandler(build, process.env.NODE_ENV);
  return async (req, res, next) => {
    if (!READS.has(req.method)) {
      // Before, and after it committed: a read that overlapped the write is not kept (see NotifiedCache.remember).
      answers.forget();
      res.once("close", () => answers.forget());
      return next();
    }
    const cookie = req.headers.cookie;
    if (req.method !== "GET" || !cookie || !PAGE.test(req.path)) return next();
    try {
      // The page shows the user as the session cache holds them, and that cache hears of a rename on its own
      // connection, maybe after this one: an answer is found again only while the session cache is unchanged.
      const key = `${req.originalUrl} ${build.assets.version} ${sha256(cookie)} ${sessionsGeneration()}`;
      const generation = answers.generation();
      let answer = answers.get(key);
      // A session that ended since is not answered from the cache: Remix sends it to sign in.
      if (answer && !(await getSessionUser(new Request("http://portal/", { headers: { cookie } })))) answer = undefined;
      if (!answer) {
        const response = await handle(fetchRequest(req, res));
        if (!keepable(response)) return await sendResponse(res, response);
        const body = Buffer.from(await response.arrayBuffer());
        answer = { status: response.status, headers: [...response.headers], body, etag: `W/"${sha256(body)}"` };
        answers.remember(key, answer, generation);
      }
      for (const [name, value] of answer.headers) res.append(name, value);
      // private: a shared cache never keeps one person's page; no-cache: the browser asks every time.
      res.set({ "Cache-Control": "private, no-cache", ETag: answer.etag });
      if (req.headers["if-none-match"] === answer.etag) return void res.status(304).end();
      res.status(answer.status).end(answer.body);
    } catch (error) {
      next(error);
    }
  };
}
