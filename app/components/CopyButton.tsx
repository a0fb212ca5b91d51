import { useState } from "react";

/** Copies a value to the clipboard and says so, for keys, links and commands. */
export function CopyButton({ value, label = "Copy" }: { value: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button type="button" className="button secondary" onClick={() => navigator.clipboard.writeText(value).then(() => setCopied(true))}>
      <span aria-live="polite">{copied ? "Copied" : label}</span>
    </button>
  );
}
