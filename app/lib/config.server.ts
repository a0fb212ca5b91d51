function positiveNumber(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/** How long links and history live; both configurable. */
export function retentionConfig() {
  return {
    /** Download links work this long after an export finishes; then the archive is deleted. */
    linkTtlMs: positiveNumber("EXPORTAL_LINK_TTL_HOURS", 24) * 3_600_000,
    /** Exports older than this leave the history (their audit events stay). */
    historyMs: positiveNumber("EXPORTAL_HISTORY_DAYS", 30) * 86_400_000,
  };
}
