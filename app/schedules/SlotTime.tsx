import { useHydrated } from "~/components/Time";

/** A moment as a schedule's people read it, in a named time zone: "Mon, 7 Dec 2026, 09:00". Fixed wording, so server and browser agree. */
export function formatSlot(value: Date | string, timeZone: string): string {
  return new Intl.DateTimeFormat("en-GB", { timeZone, weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(value));
}

/** The reader's time zone: the browser's, once the page runs there; UTC while the server renders. */
export function useReaderTimeZone(): string {
  const hydrated = useHydrated();
  return hydrated ? Intl.DateTimeFormat().resolvedOptions().timeZone : "UTC";
}

/**
 * A slot in the schedule's time zone, and beneath it in the reader's: a
 * Monday 09:00 in Berlin is someone else's Monday 03:00.
 */
export function SlotTime({ value, timeZone }: { value: Date | string; timeZone: string }) {
  const reader = useReaderTimeZone();
  const iso = new Date(value).toISOString();
  return (
    <span className="slot-time">
      <time dateTime={iso}>{formatSlot(iso, timeZone)}</time> <span className="muted small">({timeZone})</span>
      {reader !== timeZone && (
        <span className="muted small block">
          {formatSlot(iso, reader)} your time ({reader})
        </span>
      )}
    </span>
  );
}
