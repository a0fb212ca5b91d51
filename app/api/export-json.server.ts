import type { z } from "zod";
import type { apiExport } from "./schemas";
import type { ExportListItem } from "../exports/export-queries.server";
import { percent } from "../lib/format";
import { estimatedSecondsLeft } from "../exports/time-left";
import { legacyFormat } from "../exports/formats";

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** An export as the API shows it; links are absolute and the manifest appears once done. */
type ApiExport = z.infer<typeof apiExport>;

export function toApiExport(exp: ExportListItem, origin: string): ApiExport {
  const done = Number(exp.rows_done);
  const expected = exp.rows_expected === null ? null : Number(exp.rows_expected);
  const self = `${origin}/api/v1/exports/${exp.id}`;
  const { preset, from, to } = exp.filters;
  return {
    id: exp.id,
    status: exp.status,
    scope: exp.scope,
    dateRange: { ...(preset && { preset }), ...(from && { from }), ...(to && { to }) },
    dataTypes: exp.data_types,
    format: legacyFormat(exp.formats),
    formats: exp.formats,
    deidentification: exp.deidentification,
    progress: {
      rowsDone: done,
      rowsExpected: expected,
      percent: exp.status === "done" ? 100 : percent(done, expected),
      estimatedSecondsLeft: estimatedSecondsLeft(exp),
    },
    queuePosition: exp.status === "pending" ? exp.queuePosition : null,
    // Records, each once whatever the number of formats; the manifest counts each file's rows.
    rows: exp.status === "done" ? done : null,
    bytes: exp.archive_bytes === null ? null : Number(exp.archive_bytes),
    error: exp.error,
    requestedBy: exp.requestedBy,
    createdAt: exp.created_at.toISOString(),
    startedAt: iso(exp.started_at),
    finishedAt: iso(exp.finished_at),
    expiresAt: iso(exp.expires_at),
    since: exp.since_snapshot ? { exportId: exp.since_export_id } : null,
    manifest: exp.status === "done" ? (exp.manifest as ApiExport["manifest"]) : null,
    links: { self, download: exp.status === "done" ? `${self}/download` : null },
  };
}

/** The public origin links are built on: PUBLIC_URL when set, else the request's own. */
export function publicOrigin(request: Request): string {
  return (process.env.PUBLIC_URL ?? new URL(request.url).origin).replace(/\/+$/, "");
}
