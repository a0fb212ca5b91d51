import { useId, useState } from "react";
import { useFetcher } from "@remix-run/react";
import { useModal } from "./ModalDialog";

/**
 * A button that asks before it acts: it opens a modal <dialog> (focus stays
 * inside, Escape closes it) that states the consequence, and only its confirm
 * button posts `fields` to `action` (the current route when omitted). Focus
 * starts on the dismiss button, so Enter alone never destroys anything. A refusal from the
 * server is shown inside the dialog; success closes it and the page's loaders
 * run again.
 */
export function ConfirmAction(props: {
  /** The button in the page, e.g. "Revoke". */
  label: string;
  /** Says which row the button acts on, for screen readers: "Revoke nightly key". */
  accessibleLabel?: string;
  title: string;
  consequence: string;
  /** The dialog's confirm button, e.g. "Revoke key". */
  confirmLabel: string;
  pendingLabel: string;
  /** The button that closes the dialog and does nothing; "Cancel" unless that would read as the action. */
  dismissLabel?: string;
  fields: Record<string, string>;
  action?: string;
  buttonClassName?: string;
}) {
  const { label, accessibleLabel, title, consequence, confirmLabel, pendingLabel, dismissLabel = "Cancel", fields, action, buttonClassName = "link-button" } = props;
  const fetcher = useFetcher<{ ok?: boolean; error?: string }>();
  const titleId = useId();
  const textId = useId();
  const [open, setOpen] = useState(false);
  const busy = fetcher.state !== "idle";
  const error = fetcher.state === "idle" && fetcher.data && fetcher.data.ok === false ? fetcher.data.error : undefined;

  const ref = useModal(open);
  // Close once the server has answered with anything but a refusal.
  const [sent, setSent] = useState(false);
  if (sent && fetcher.state === "idle" && fetcher.data !== undefined) {
    setSent(false);
    if (fetcher.data.ok !== false) setOpen(false);
  }

  return (
    <>
      <button type="button" className={buttonClassName} aria-label={accessibleLabel} onClick={() => setOpen(true)} disabled={busy}>
        {busy ? pendingLabel : label}
      </button>
      <dialog ref={ref} className="dialog" role="alertdialog" aria-labelledby={titleId} aria-describedby={textId} onClose={() => setOpen(false)}>
        <fetcher.Form method="post" action={action} className="dialog-form" onSubmit={() => setSent(true)}>
          <h2 id={titleId}>{title}</h2>
          <p id={textId}>{consequence}</p>
          {error && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
          {Object.entries(fields).map(([name, value]) => (
            <input key={name} type="hidden" name={name} value={value} />
          ))}
          <footer className="dialog-footer">
            {/* eslint-disable-next-line jsx-a11y/no-autofocus -- the safe choice takes focus when the dialog opens */}
            <button type="button" className="button secondary" autoFocus onClick={() => setOpen(false)}>
              {dismissLabel}
            </button>
            <button type="submit" className="button danger" disabled={busy}>
              {busy ? pendingLabel : confirmLabel}
            </button>
          </footer>
        </fetcher.Form>
      </dialog>
    </>
  );
}
