import { Fragment, useEffect, useId, useRef, useState, type ReactNode } from "react";

/**
 * Shows the <dialog> the returned ref is put on as a modal while `open` is
 * true: the browser keeps focus inside, makes the page behind inert, and
 * closes it on Escape (the dialog's onClose should then clear `open`).
 */
export function useModal(open: boolean) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (open && dialog && !dialog.open) dialog.showModal();
    if (!open && dialog?.open) dialog.close();
  }, [open]);
  return ref;
}

/**
 * A modal dialog with a title and a close button, opened while `open`; the
 * members page's invite and change-roles forms live in one.
 */
export function ModalDialog({ open, onClose, title, children }: { open: boolean; onClose: () => void; title: string; children: ReactNode }) {
  const ref = useModal(open);
  const titleId = useId();
  return (
    <dialog ref={ref} className="dialog" aria-labelledby={titleId} onClose={onClose}>
      <div className="dialog-form">
        <header className="dialog-header">
          <h2 id={titleId}>{title}</h2>
          <button type="button" className="icon-button" aria-label="Close" onClick={onClose}>
            ×
          </button>
        </header>
        {open && children}
      </div>
    </dialog>
  );
}

/**
 * A button that opens a dialog holding `form`; the form starts afresh each
 * time the dialog opens (what was typed or answered last time is gone).
 * `form` gets the function that closes the dialog.
 */
export function DialogButton({ label, title, form }: { label: string; title: string; form: (close: () => void) => ReactNode }) {
  const [open, setOpen] = useState(false);
  const [round, setRound] = useState(0);
  const close = () => {
    setOpen(false);
    setRound((r) => r + 1);
  };
  return (
    <>
      <button type="button" className="button primary" onClick={() => setOpen(true)}>
        {label}
      </button>
      <ModalDialog open={open} onClose={close} title={title}>
        <Fragment key={round}>{form(close)}</Fragment>
      </ModalDialog>
    </>
  );
}
