import type { Export, ExportManifest, ManifestFile } from "../../../db/schema";
import { removedFields, type DataType } from "./columns.server";

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

/** The archive's manifest.json: what was asked, the snapshot's moment, and each file's rows, size and hash. */
export function manifestOf(exp: Export, snapshotAt: Date, files: ManifestFile[]): ExportManifest {
  return {
    exportId: exp.id,
    tenantId: exp.tenant_id,
    scope: exp.scope,
    filters: exp.filters,
    dataTypes: exp.data_types,
    format: exp.format,
    snapshotAt: snapshotAt.toISOString(),
    generator: GENERATOR,
    files,
    ...(exp.deidentification && { deidentification: deidentificationNote(exp) }),
  };
}
