import { useEffect, useId, useRef, type KeyboardEvent } from "react";

/**
 * InlineConfirm asks before something that can't be undone, in place rather
 * than in a dialog. It takes focus so the question is read out; the action
 * is the next Tab away, and Escape or Cancel backs out.
 */
export function InlineConfirm({
  message,
  confirmLabel,
  onConfirm,
  onCancel,
  busy = false,
}: {
  message: string;
  confirmLabel: string;
  /** While the action runs: the buttons wait. */
  busy?: boolean;
  onConfirm(): void;
  onCancel(): void;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const messageId = useId();
  useEffect(() => ref.current?.focus(), []);

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === "Escape" && !busy) {
      e.preventDefault();
      onCancel();
    }
  };

  return (
    <div ref={ref} className="regenerate inline-confirm" role="group" aria-labelledby={messageId} tabIndex={-1} onKeyDown={onKeyDown}>
      <span id={messageId}>{message}</span>
      <button type="button" className="button small danger" onClick={onConfirm} disabled={busy}>
        {confirmLabel}
      </button>
      <button type="button" className="button small" onClick={onCancel} disabled={busy}>
        Cancel
      </button>
    </div>
  );
}
