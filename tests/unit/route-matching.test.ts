import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import fc from "fast-check";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { ServerBuild } from "@remix-run/node";

// patches/@remix-run+router+1.23.3.patch and patches/@remix-run+server-runtime+2.17.5.patch make Remix 2
// flatten, rank and compile the routes once per build instead of on every request (React Router 7 does so
// since remix-run/react-router#14967). These tests hold the patched matching to the router's own per-call
// matching on the app's real routes, and check the work is done once. Delete them with the patches when
// moving to React Router 7.

// The CommonJS modules the server loads (Node's require), not whatever a bundler would pick.
const require = createRequire(import.meta.url);
type Route = { id: string; path?: string; index?: boolean; children?: Route[] };
type Match = { params: Record<string, string | undefined>; pathname: string; route: Route };
const router = require("@remix-run/router") as {
  matchRoutes(routes: Route[], pathname: string): Match[] | null;
  UNSAFE_flattenAndRankRoutes?: (routes: Route[]) => unknown[];
  UNSAFE_matchRoutesImpl(routes: Route[], pathname: string, basename: string, allowPartial: boolean, branches: unknown[]): Match[] | null;
};
const { createRoutes, createStaticHandlerDataRoutes } = require("@remix-run/server-runtime/dist/routes.js") as {
  createRoutes(manifest: ServerBuild["routes"]): Route[];
  createStaticHandlerDataRoutes(manifest: ServerBuild["routes"], future: ServerBuild["future"]): Route[];
};
const { matchServerRoutes } = require("@remix-run/server-runtime/dist/routeMatching.js") as {
  matchServerRoutes(routes: Route[], pathname: string, basename?: string): Match[] | null;
};
const { createRequestHandler } = require("@remix-run/server-runtime") as typeof import("@remix-run/node");

const BUILD = path.resolve("build/server/index.js");
let build: ServerBuild;
beforeAll(async () => {
  if (!existsSync(BUILD)) throw new Error("No build: run `npm run build` first (npm test does).");
  build = (await import(/* @vite-ignore */ pathToFileURL(BUILD).href)) as ServerBuild;
});
afterEach(() => vi.restoreAllMocks());

const summary = (matches: Match[] | null) => matches?.map((m) => ({ id: m.route.id, params: m.params, pathname: m.pathname })) ?? null;
const leaf = (matches: Match[] | null) => matches?.at(-1)?.route.id;

// Index routes, dynamic segments, the API's splat, an escaped dot, encoded and upper-case paths, trailing
// slashes, and what single-fetch `.data` URLs match once the handler strips `.data` (`/_root.data` is `/`).
const URLS: Array<[string, string | undefined]> = [
  ["/", "routes/_index"],
  ["/o/acme", "routes/o.$org._index"],
  ["/o/acme/t/production", "routes/o.$org.t.$tenant._index"],
  ["/o/acme/t/production/exports", "routes/o.$org.t.$tenant.exports._index"],
  ["/o/acme/t/production/exports/", "routes/o.$org.t.$tenant.exports._index"],
  ["/o/acme/t/production/exports/e1", "routes/o.$org.t.$tenant.exports.$id"],
  ["/o/acme/t/production/exports/e1/download", "routes/o.$org.t.$tenant.exports.$id.download"],
  ["/o/acme/t/production/schedules/s1/edit", "routes/o.$org.t.$tenant.schedules.$id.edit"],
  ["/o/acme/t/production/schedules/new", "routes/o.$org.t.$tenant.schedules.new"],
  ["/o/acme/t/production/studies/st/cohorts/c1", "routes/o.$org.t.$tenant.studies.$studyId.cohorts.$cohortId"],
  ["/o/ac%20me/t/pro%2Fduction", "routes/o.$org.t.$tenant._index"],
  ["/api/v1/exports", "routes/api.v1.exports"],
  ["/api/v1/exports/e1", "routes/api.v1.exports.$id"],
  ["/API/V1/EXPORTS/e1", "routes/api.v1.exports.$id"],
  ["/api/v1/exports/e1/cancel", "routes/api.v1.exports.$id.cancel"],
  ["/api/v1/schedules/s1/runs/r1/retry", "routes/api.v1.schedules.$id.runs.$runId.retry"],
  ["/api/v1/openapi.json", "routes/api.v1.openapi[.]json"],
  ["/api/v1/openapixjson", "routes/api.v1.$"],
  ["/api/v1/no/such/endpoint", "routes/api.v1.$"],
  ["/api/v1/", "routes/api.v1.$"],
  ["/api/auth/sign-in/email", "routes/api.auth.$"],
  ["/downloads/e1", "routes/downloads.$id"],
  ["/healthz", "routes/healthz"],
  ["/sign-in", "routes/sign-in"],
  ["/no/such/page", undefined],
  // Doubled slashes, which each route's own expression and the branch's whole-path one must judge alike.
  ["//api/v1/exports/e1", undefined],
  ["/api//v1/exports/e1", undefined],
  ["/o/acme//t/production", undefined],
  ["/o/acme/t/production/exports//", "routes/o.$org.t.$tenant.exports._index"],
];

describe("route matching with the branches made once per build", () => {
  it("matches the app's URLs as the router's per-call matching does, server and data routes alike", () => {
    const routes = createRoutes(build.routes);
    const dataRoutes = createStaticHandlerDataRoutes(build.routes, build.future);
    const dataBranches = router.UNSAFE_flattenAndRankRoutes!(dataRoutes);
    for (const [url, id] of URLS) {
      const expected = router.matchRoutes(routes, url);
      expect(leaf(expected), url).toBe(id);
      expect(summary(matchServerRoutes(routes, url)), url).toEqual(summary(expected));
      expect(summary(router.UNSAFE_matchRoutesImpl(dataRoutes, url, "/", false, dataBranches)), url).toEqual(summary(router.matchRoutes(dataRoutes, url)));
    }
    expect(matchServerRoutes(routes, "/api/v1/no/such/endpoint")!.at(-1)!.params["*"]).toBe("no/such/endpoint");
    expect(matchServerRoutes(routes, "/o/ac%20me/t/pro%2Fduction")!.at(-1)!.params).toEqual({ org: "ac me", tenant: "pro/duction" });
  });

  it("agrees with the per-call matching on any path made of the app's segments", () => {
    const routes = createRoutes(build.routes);
    const segment = fc.constantFrom("o", "t", "acme", "api", "v1", "exports", "e1", "cancel", "download", "schedules", "runs", "new", "edit", "openapi.json", "studies", "cohorts", "", "%20", "A", "x.data", "EXPORTS", "Api", "auth", "*", ":id", "%2F", "..", "sign-in", "healthz");
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), (segments) => {
        const url = `/${segments.join("/")}`;
        expect(summary(matchServerRoutes(routes, url))).toEqual(summary(router.matchRoutes(routes, url)));
      }),
      { numRuns: 5000 },
    );
  });

  it("flattens and ranks the routes once per build, not once per request", async () => {
    expect(router.UNSAFE_flattenAndRankRoutes, "the @remix-run/router patch is not applied: run `npx patch-package`").toBeTypeOf("function");
    const flatten = vi.spyOn(router, "UNSAFE_flattenAndRankRoutes");
    const handle = createRequestHandler(build, "test");
    for (let i = 0; i < 5; i++) {
      // The API's catch-all answers without a database: its 404 shows the request went through matching.
      const response = await handle(new Request(`http://localhost/api/v1/no-such-endpoint-${i}`));
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: { code: "NOT_FOUND" } });
    }
    expect(flatten).toHaveBeenCalledTimes(1);
  });
});
