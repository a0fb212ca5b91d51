import { useEffect, useId, useRef, useState } from "react";
import { useFetcher } from "@remix-run/react";

/**
 * A "Rename" button that opens a small inline form in place: the name
 * field (focused, holding the current name), Save and Cancel. It posts
 * `fields` plus `name` to the current route; a refusal shows beside the
 * field and keeps what was typed; success closes it and the page reloads its data.
 */
export function RenameForm({ currentName, what, fields }: { currentName: string; what: string; fields: Record<string, string> }) {
  const fetcher = useFetcher<{ ok?: boolean; error?: string; fieldErrors?: Record<string, string> }>();
  const [open, setOpen] = useState(false);
  const [sent, setSent] = useState(false);
  // A refusal shows only for a name sent since the form last opened.
  const [submitted, setSubmitted] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const id = useId();
  const busy = fetcher.state !== "idle";
  const refusal = submitted && !busy && fetcher.data?.ok === false ? fetcher.data : undefined;
  const error = refusal ? refusal.fieldErrors?.name ?? refusal.error : undefined;

  if (sent && !busy && fetcher.data !== undefined) {
    setSent(false);
    if (fetcher.data.ok !== false) setOpen(false);
  }
  useEffect(() => {
    if (open) input.current?.select();
  }, [open]);

  if (!open) {
    return (
      <button type="button" className="button secondary small-button" aria-label={`Rename ${currentName}`} onClick={() => { setSubmitted(false); setOpen(true); }}>
        Rename
      </button>
    );
  }
  return (
    <fetcher.Form method="post" className="rename-form" onSubmit={() => { setSent(true); setSubmitted(true); }} onKeyDown={(e) => e.key === "Escape" && setOpen(false)}>
      {Object.entries(fields).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      <label htmlFor={`${id}-name`} className="visually-hidden">
        New name for {what} {currentName}
      </label>
      <input
        ref={input}
        id={`${id}-name`}
        name="name"
        defaultValue={currentName}
        required
        aria-invalid={!!error}
        aria-describedby={error ? `${id}-error` : undefined}
      />
      <button type="submit" className="button primary small-button" disabled={busy}>
        {busy ? "Saving…" : "Save"}
      </button>
      <button type="button" className="button secondary small-button" onClick={() => setOpen(false)}>
        Cancel
      </button>
      {error && (
        <p className="field-error" id={`${id}-error`} role="alert">
          {error}
        </p>
      )}
    </fetcher.Form>
  );
}
