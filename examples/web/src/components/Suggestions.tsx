import { useEffect, useRef } from "react";
import type { User } from "../api/types";
import { Avatar } from "./Avatar";

export interface Suggestion {
  id: string;
  label: string;
  value: string;
  user?: User;
  /** What tells this option apart from others with the same label: "bot", an email, "#42". */
  detail?: string;
}

/** Suggestions is the composer's autocomplete list; the textarea keeps focus and points at the active option. */
export function Suggestions({
  id,
  label,
  options,
  active,
  onChoose,
  onHover,
}: {
  id: string;
  label: string;
  options: Suggestion[];
  active: number;
  onChoose(s: Suggestion): void;
  onHover(i: number): void;
}) {
  const ref = useRef<HTMLUListElement>(null);
  useEffect(() => {
    const el = ref.current?.children[active] as HTMLElement | undefined;
    el?.scrollIntoView?.({ block: "nearest" });
  }, [active]);
  return (
    <ul className="suggestions" id={id} role="listbox" aria-label={label} ref={ref}>
      {options.map((o, i) => (
        <li
          key={o.id}
          id={`${id}-${i}`}
          role="option"
          aria-selected={i === active}
          className={i === active ? "active" : undefined}
          onMouseDown={(e) => {
            e.preventDefault();
            onChoose(o);
          }}
          onMouseEnter={() => onHover(i)}
        >
          {o.user && <Avatar user={o.user} size={22} />}
          <span>{o.label}</span>
          {o.detail && (
            <>
              {" "}
              <span className="suggestion-detail">{o.detail}</span>
            </>
          )}
        </li>
      ))}
    </ul>
  );
}
