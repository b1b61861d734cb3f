import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import { fromWire, mentionNames, remapPicks, toWire } from "../state/mentions";

/**
 * MessageEditor edits a message in place: Enter saves, Shift+Enter is a new line, Escape cancels.
 * Mentions by id ("<@42>") show as the names the message shows (html), and are saved as ids again.
 */
export function MessageEditor({ initial, html = "", onSave, onCancel }: { initial: string; html?: string; onSave(body: string): Promise<void>; onCancel(): void }) {
  const [start] = useState(() => fromWire(initial, mentionNames(html)));
  const [text, setText] = useState(start.text);
  const [picks, setPicks] = useState(start.picks);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ref = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);

  const save = async () => {
    if (!text.trim()) {
      setError("A message can't be empty. Delete it instead.");
      return;
    }
    const body = toWire(text, picks);
    if (body === initial) {
      onCancel();
      return;
    }
    setBusy(true);
    try {
      await onSave(body);
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
    }
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Escape") {
      e.preventDefault();
      onCancel();
    } else if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      save();
    }
  };

  return (
    <div className="message-editor">
      <textarea
        ref={ref}
        aria-label="Edit message"
        value={text}
        rows={Math.min(10, Math.max(2, text.split("\n").length))}
        onChange={(e) => {
          setPicks(remapPicks(text, e.target.value, picks));
          setText(e.target.value);
        }}
        onKeyDown={onKeyDown}
        disabled={busy}
      />
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      <div className="editor-actions">
        <button type="button" className="button small primary" onClick={save} disabled={busy}>
          Save
        </button>
        <button type="button" className="button small" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
        <span className="editor-hint">Enter to save · Esc to cancel</span>
      </div>
    </div>
  );
}
