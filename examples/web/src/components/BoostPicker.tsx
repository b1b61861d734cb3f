import { useEffect, useRef, useState, type FormEvent } from "react";

/** Campfire's quick picks. */
export const QUICK_BOOSTS = ["👍", "👏", "👋", "💪", "❤️", "😂", "🎉", "🔥"];
export const MAX_BOOST_CHARS = 16;

/** BoostPicker offers the quick picks and free text up to 16 characters. */
export function BoostPicker({ onPick, onClose }: { onPick(content: string): Promise<void>; onClose(): void }) {
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    ref.current?.querySelector<HTMLButtonElement>("button")?.focus();
    const onDown = (e: PointerEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) onClose();
    };
    document.addEventListener("pointerdown", onDown);
    return () => document.removeEventListener("pointerdown", onDown);
  }, [onClose]);

  const pick = async (content: string) => {
    setError(null);
    try {
      await onPick(content);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const c = text.trim();
    if (!c) return;
    if ([...c].length > MAX_BOOST_CHARS) {
      setError(`A boost is at most ${MAX_BOOST_CHARS} characters.`);
      return;
    }
    pick(c);
  };

  return (
    <div
      className="boost-picker"
      ref={ref}
      role="dialog"
      aria-label="Boost this message"
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <div className="quick-boosts">
        {QUICK_BOOSTS.map((b) => (
          <button key={b} type="button" className="quick-boost" aria-label={`Boost with ${b}`} onClick={() => pick(b)}>
            {b}
          </button>
        ))}
      </div>
      <form onSubmit={submit} className="boost-form">
        <input
          aria-label="Your own boost"
          placeholder="Or type one…"
          value={text}
          maxLength={MAX_BOOST_CHARS * 2}
          onChange={(e) => setText(e.target.value)}
        />
        <button type="submit" className="button small primary" disabled={!text.trim()}>
          Boost
        </button>
      </form>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
