import { useSyncExternalStore } from "react";
import { formatDateTime, formatRelative } from "~/lib/format";

const noSubscription = () => () => {};

/** False while the server renders and the browser hydrates, true afterwards. */
export function useHydrated(): boolean {
  return useSyncExternalStore(noSubscription, () => true, () => false);
}

/**
 * A time shown relative ("5 minutes ago") with the exact time on hover, both
 * in the user's locale. The server renders UTC; the browser swaps in the
 * local wording after hydration, so the two renders never disagree.
 */
export function Time({ value, relative = true }: { value: Date | string; relative?: boolean }) {
  const iso = new Date(value).toISOString();
  const hydrated = useHydrated();
  const text = !hydrated ? iso.slice(0, 16).replace("T", " ") + " UTC" : relative ? formatRelative(iso) : formatDateTime(iso);
  return (
    <time dateTime={iso} title={hydrated ? formatDateTime(iso) : iso}>
      {text}
    </time>
  );
}
