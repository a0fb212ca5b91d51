import type { Export, ExportManifest, ManifestDelta, ManifestFile } from "../../../db/schema";
import { legacyFormat } from "../formats";
import { DELTA_DATA_TYPES, removedFields, type DataType } from "./columns.server";

export const GENERATOR = "exportal/0.1.0";

/** What the manifest says about the profile of an export of participants' rows; never the key. */
function deidentificationNote(exp: Export): NonNullable<ExportManifest["deidentification"]> {
  const profile = exp.deidentification!;
  // Pseudonyms and offsets are keyed per study in a study scope, per project in any other.
  const keyedBy = exp.scope.type === "study" ? "study" : "project";
  const notes = {
    full: "Full data: identifying fields are included.",
    identifiers_removed: "Identifying fields are removed; record ids, participant ids and dates are as recorded.",
    deidentified:
      "Identifying fields and record ids are removed. participant_id values are keyed pseudonyms: the same participant has the same " +
      `pseudonym in every de-identified export of their ${keyedBy} and a different one in other ${keyedBy === "study" ? "studies" : "projects"}. ` +
      "All dates and times of a participant are shifted back by one secret offset of 1–365 days, fixed for that participant in " +
      `that ${keyedBy}, so intervals between them are kept; rows are ordered by the shifted times; date ranges were applied to the true dates.`,
  };
  return { profile, removedFields: removedFields(exp.data_types as DataType[], profile), note: notes[profile] };
}

export const DELTA_NOTE =
  "A delta holds, for each data type listed in dataTypes, the rows written or corrected by transactions that the base export's snapshot " +
  "(from) did not see and this export's snapshot (to) does: base export plus its chain of deltas hold every row exactly once, whatever " +
  "the order in which concurrent writers committed. A row corrected after the base appears again with its current values: replace " +
  "the earlier row with the same id (de-identified exports have no record ids, so there a correction cannot be matched to its " +
  "earlier version). Deleted rows are not carried. The types in fullDataTypes are exported in full. Each export's date range applies to it alone.";

/** A delta's range, for the manifest; undefined for a full export. */
function deltaOf(exp: Export, snapshot: { at: Date; snapshot: string }): ManifestDelta | undefined {
  if (!exp.since_snapshot) return undefined;
  return {
    baseExportId: exp.since_export_id,
    from: exp.since_snapshot,
    fromSnapshotAt: exp.since_snapshot_at ? new Date(exp.since_snapshot_at).toISOString() : null,
    to: snapshot.snapshot,
    toSnapshotAt: snapshot.at.toISOString(),
  };
}

/** The archive's manifest.json: what was asked, the snapshot's moment, and each file's rows, size and hash; for a delta, its range. */
export function manifestOf(exp: Export, snapshot: { at: Date; snapshot: string }, entries: ManifestFile[]): ExportManifest {
  const delta = deltaOf(exp, snapshot);
  const isDelta = (type: string) => (DELTA_DATA_TYPES as readonly string[]).includes(type);
  const files = delta ? entries.map((file) => (isDelta(file.dataType) ? { ...file, delta } : file)) : entries;
  return {
    exportId: exp.id,
    tenantId: exp.tenant_id,
    scope: exp.scope,
    filters: exp.filters,
    dataTypes: exp.data_types,
    format: legacyFormat(exp.formats),
    formats: exp.formats,
    snapshotAt: snapshot.at.toISOString(),
    snapshot: snapshot.snapshot,
    generator: GENERATOR,
    files,
    ...(delta && {
      delta: { ...delta, dataTypes: exp.data_types.filter(isDelta), fullDataTypes: exp.data_types.filter((type) => !isDelta(type)), note: DELTA_NOTE },
    }),
    ...(exp.deidentification && { deidentification: deidentificationNote(exp) }),
  };
}
