import type { DeidentificationProfile } from "../../db/schema";
import { can, type AppAbility, type Permission } from "../auth/permissions";

export type { DeidentificationProfile };

/** From the most revealing to the most protective. */
export const DEIDENTIFICATION_PROFILES = ["full", "identifiers_removed", "deidentified"] as const satisfies readonly DeidentificationProfile[];

/**
 * An export of participants' rows asking nothing gets the most protective
 * profile, whoever asks: everyone who may export may use it, and a program
 * that forgot to ask leaks nothing.
 */
export const DEFAULT_PROFILE: DeidentificationProfile = "deidentified";

/**
 * The permission each profile needs, in every scope. Only full data asks for
 * more than the export itself (`studies.export.full`: tenant admins, org
 * owners and admins); a study scope also needs `studies.export`.
 */
export const PROFILE_PERMISSION: Record<DeidentificationProfile, Permission> = {
  full: "studies.export.full",
  identifiers_removed: "data.exports.create",
  deidentified: "data.exports.create",
};

export const PROFILE_LABELS: Record<DeidentificationProfile, { label: string; hint: string }> = {
  full: { label: "Full data", hint: "everything, identifiers included" },
  identifiers_removed: { label: "Identifiers removed", hint: "no names, emails, birth dates, notes, device serials or lab accession numbers" },
  deidentified: {
    label: "De-identified",
    hint: "identifiers and record ids removed, participant ids replaced by pseudonyms, dates shifted per participant",
  },
};

/** The profiles this ability may export with. */
export function allowedProfiles(ability: AppAbility): DeidentificationProfile[] {
  return DEIDENTIFICATION_PROFILES.filter((p) => can(ability, PROFILE_PERMISSION[p]));
}
