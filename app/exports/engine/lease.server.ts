/** A run's hold on its export, renewed until released. */
export interface Lease {
  /** Stops renewing; resolves once no renewal is in flight, so none lands after it. */
  release(): Promise<void>;
}

/**
 * Renews a run's lease every `everyMs` on a timer of its own, independent of
 * progress, so the phases that report none (the snapshot's counts, finishing
 * and syncing the zip) cannot outlast the stale threshold. `renew` resolves
 * false once the run has lost its export (cancelled, or handed to another
 * run); renewal then stops. A failed renewal (a dropped connection) is
 * logged and retried on the next beat.
 */
export function holdLease(renew: () => Promise<boolean>, everyMs: number, label: string): Lease {
  let released = false;
  let inFlight: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout;
  const schedule = () => {
    if (!released) timer = setTimeout(beat, everyMs);
  };
  const beat = () => {
    inFlight = renew().then(
      (held) => {
        if (held) schedule();
      },
      (error) => {
        console.error(`${label}: lease renewal failed:`, (error as Error)?.message ?? error);
        schedule();
      },
    );
  };
  schedule();
  return {
    async release() {
      released = true;
      clearTimeout(timer);
      await inFlight;
    },
  };
}
