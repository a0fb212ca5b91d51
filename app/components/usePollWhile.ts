import { useRevalidator } from "@remix-run/react";
import { useEffect } from "react";

const POLL_MS = 1500;

/** Re-reads the page's data every 1.5 s while `active` (something is in flight); stops once it is not. */
export function usePollWhile(active: boolean) {
  const { revalidate, state } = useRevalidator();
  useEffect(() => {
    if (!active || state !== "idle") return;
    const timer = setTimeout(revalidate, POLL_MS);
    return () => clearTimeout(timer);
  }, [active, state, revalidate]);
}
