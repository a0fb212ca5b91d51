import { useEffect, useId, useRef, type ReactNode } from "react";

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
