import { useEffect, useState } from "react";
import { formatDateTime, formatRelative } from "~/lib/format";

/**
 * A time shown relative ("5 minutes ago") with the exact time on hover, both
 * in the user's locale. The server renders UTC; the browser swaps in the
 * local wording after hydration, so the two renders never disagree.
 */
export function Time({ value, relative = true }: { value: Date | string; relative?: boolean }) {
  const iso = new Date(value).toISOString();
  const [text, setText] = useState(iso.slice(0, 16).replace("T", " ") + " UTC");
  const [title, setTitle] = useState(iso);
  useEffect(() => {
    setText(relative ? formatRelative(iso) : formatDateTime(iso));
    setTitle(formatDateTime(iso));
  }, [iso, relative]);
  return (
    <time dateTime={iso} title={title}>
      {text}
    </time>
  );
}
