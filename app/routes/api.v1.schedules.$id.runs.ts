import { apiRoute, parseQuery } from "~/api/api-route.server";
import { publicOrigin } from "~/api/export-json.server";
import { exportsOfRuns, toApiRun } from "~/api/schedule-json.server";
import { listRunsQuery } from "~/api/schemas";
import { listRuns } from "~/schedules/schedules.server";

export const loader = apiRoute({
  GET: {
    permission: "data.exports.read",
    async handle(ctx) {
      const { limit } = parseQuery(ctx.url, listRunsQuery);
      const runs = await listRuns(ctx.db, ctx.requester, ctx.params.id ?? "", limit);
      const exports = await exportsOfRuns(ctx.db, ctx.tenant.id, runs.map((r) => r.id));
      const origin = publicOrigin(ctx.request);
      return { status: 200, body: { data: runs.map((r) => toApiRun(r, exports.get(r.id) ?? [], origin)) } };
    },
  },
});
export const action = loader;
