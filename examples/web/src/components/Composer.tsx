import { useCallback, useEffect, useId, useLayoutEffect, useRef, useState, type ClipboardEvent, type DragEvent, type KeyboardEvent } from "react";
import type { User } from "../api/types";
import { SOUND_NAMES } from "../sounds/names";
import { remapPicks, toWire, validPicks, type Pick } from "../state/mentions";
import { Icon } from "./Icon";
import { Suggestions, type Suggestion } from "./Suggestions";

export const MAX_MESSAGE_CHARS = 10000;
const DRAFT_KEY = (roomId: number) => `campfire:draft:${roomId}`;
const PICKS_KEY = (roomId: number) => `campfire:draft-mentions:${roomId}`;

function loadPicks(roomId: number, text: string): Pick[] {
  try {
    const picks = JSON.parse(sessionStorage.getItem(PICKS_KEY(roomId)) ?? "[]");
    return Array.isArray(picks) ? validPicks(text, picks) : [];
  } catch {
    return [];
  }
}

/**
 * mentionOptions lists people for the @ autocomplete. People who share a
 * name (names are not unique, and anyone may rename themself to a bot's
 * name) are told apart: a bot says so, and namesakes show their email when
 * the viewer may see it (admins), else their user number.
 */
export function mentionOptions(users: User[]): Suggestion[] {
  const count = new Map<string, number>();
  for (const u of users) count.set(u.name.toLowerCase(), (count.get(u.name.toLowerCase()) ?? 0) + 1);
  return users.map((u) => {
    const details: string[] = [];
    if (u.role === "bot") details.push("bot");
    if ((count.get(u.name.toLowerCase()) ?? 0) > 1) details.push(u.email || `#${u.id}`);
    return { id: String(u.id), label: u.name, value: u.name, user: u, detail: details.join(" · ") || undefined };
  });
}

type Trigger = { kind: "mention" | "sound"; start: number; end: number; query: string };

/** findTrigger sees whether the caret is in an @mention or a /play command being typed. */
export function findTrigger(text: string, caret: number): Trigger | null {
  const before = text.slice(0, caret);
  const play = /^\/play(?: (\w*))?$/.exec(before);
  if (play && text.slice(caret).trim() === "") return { kind: "sound", start: 0, end: caret, query: play[1] ?? "" };
  const at = /(^|\s)@([^\s@]{0,40})$/.exec(before);
  if (at) return { kind: "mention", start: caret - at[2].length - 1, end: caret, query: at[2] };
  return null;
}

export interface ComposerProps {
  roomId: number;
  roomName: string;
  /** body is what to post (mentions picked from the list in the id form); shown is the text as the person wrote it. */
  onSend(body: string, shown: string): void;
  /** ↑ in an empty composer: edit your last message. Returns whether there was one. */
  onEditLast(): boolean;
  onTyping(text: string): void;
  onBlur(): void;
  searchUsers(q: string): Promise<User[]>;
  attachments: boolean;
}

/**
 * Composer writes messages in Markdown. Enter sends, Shift+Enter starts a new
 * line, ↑ in an empty box edits your last message; @ suggests people in the
 * room and /play suggests sounds. What is typed survives reconnects and
 * room changes (a draft per room).
 *
 * A person picked from the @ list shows as "@Name" in the box, which is
 * what the writer can read and check, and is sent as "<@ID>", which names
 * exactly that person whatever anyone is called by the time it arrives.
 * Editing inside the name turns it back into typed text.
 */
export function Composer({ roomId, roomName, onSend, onEditLast, onTyping, onBlur, searchUsers, attachments }: ComposerProps) {
  const [text, setText] = useState(() => sessionStorage.getItem(DRAFT_KEY(roomId)) ?? "");
  const [picks, setPicks] = useState<Pick[]>(() => loadPicks(roomId, sessionStorage.getItem(DRAFT_KEY(roomId)) ?? ""));
  const [trigger, setTrigger] = useState<Trigger | null>(null);
  const [options, setOptions] = useState<Suggestion[]>([]);
  const [active, setActive] = useState(0);
  const [note, setNote] = useState<string | null>(null);
  const ref = useRef<HTMLTextAreaElement>(null);
  const listId = useId();
  const hintId = useId();
  const request = useRef(0);

  useEffect(() => {
    if (text) sessionStorage.setItem(DRAFT_KEY(roomId), text);
    else sessionStorage.removeItem(DRAFT_KEY(roomId));
    if (picks.length > 0) sessionStorage.setItem(PICKS_KEY(roomId), JSON.stringify(picks));
    else sessionStorage.removeItem(PICKS_KEY(roomId));
  }, [text, picks, roomId]);

  // Suggestions follow the trigger under the caret.
  const query = trigger ? trigger.kind + ":" + trigger.query : "";
  useEffect(() => {
    if (!trigger) {
      setOptions([]);
      return;
    }
    setActive(0);
    if (trigger.kind === "sound") {
      // A complete name needs no suggestion: Enter sends it.
      if ((SOUND_NAMES as readonly string[]).includes(trigger.query)) {
        setOptions([]);
        return;
      }
      setOptions(SOUND_NAMES.filter((n) => n.startsWith(trigger.query.toLowerCase())).map((n) => ({ id: n, label: "/play " + n, value: n })));
      return;
    }
    const n = ++request.current;
    const t = setTimeout(() => {
      searchUsers(trigger.query).then(
        (users) => {
          if (n === request.current) setOptions(mentionOptions(users));
        },
        () => {
          if (n === request.current) setOptions([]);
        },
      );
    }, 120);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [query, searchUsers]);

  // After a suggestion is chosen or dismissed, the same text does not bring it back.
  const dismissed = useRef<string | null>(null);
  const updateTrigger = useCallback((value: string, caret: number) => {
    setTrigger(value === dismissed.current ? null : findTrigger(value, caret));
  }, []);

  const choose = (s: Suggestion) => {
    if (!trigger) return;
    let next: string;
    let caret: number;
    if (trigger.kind === "sound") {
      next = "/play " + s.value;
      caret = next.length;
      setPicks(remapPicks(text, next, picks));
    } else {
      const insert = "@" + s.value + " ";
      next = text.slice(0, trigger.start) + insert + text.slice(trigger.end);
      caret = trigger.start + insert.length;
      const picked: Pick = { start: trigger.start, end: trigger.start + 1 + s.value.length, id: Number(s.id), name: s.value };
      setPicks([...remapPicks(text, next, picks), picked]);
    }
    setText(next);
    setTrigger(null);
    dismissed.current = next;
    onTyping(next);
    pendingCaret.current = caret;
  };

  // The caret goes after the inserted text as soon as the box shows it,
  // before the next key can land: a frame later, keys typed meanwhile
  // would go after the caret and the rest before them.
  const pendingCaret = useRef<number | null>(null);
  useLayoutEffect(() => {
    const el = ref.current;
    const caret = pendingCaret.current;
    if (el && caret !== null) {
      pendingCaret.current = null;
      el.focus();
      el.setSelectionRange(caret, caret);
    }
  }, [text]);

  const send = () => {
    const body = text.replace(/\s+$/, "");
    if (!body.trim()) return;
    if ([...body].length > MAX_MESSAGE_CHARS) {
      setNote(`That's longer than ${MAX_MESSAGE_CHARS.toLocaleString()} characters. Split it up.`);
      return;
    }
    onSend(toWire(body, picks), body);
    setText("");
    setPicks([]);
    setTrigger(null);
    setNote(null);
  };

  const open = trigger !== null && options.length > 0;

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.nativeEvent.isComposing) return;
    if (open) {
      if (e.key === "ArrowDown") {
        e.preventDefault();
        setActive((a) => (a + 1) % options.length);
        return;
      }
      if (e.key === "ArrowUp") {
        e.preventDefault();
        setActive((a) => (a - 1 + options.length) % options.length);
        return;
      }
      if (e.key === "Enter" || e.key === "Tab") {
        e.preventDefault();
        choose(options[active]);
        return;
      }
      if (e.key === "Escape") {
        e.preventDefault();
        dismissed.current = text;
        setTrigger(null);
        return;
      }
    }
    if (e.key === "Enter" && (!e.shiftKey || e.metaKey || e.ctrlKey)) {
      e.preventDefault();
      send();
      return;
    }
    if (e.key === "ArrowUp" && text === "" && !e.shiftKey && !e.altKey && !e.metaKey && !e.ctrlKey) {
      if (onEditLast()) e.preventDefault();
    }
  };

  const noFiles = (e: ClipboardEvent | DragEvent) => {
    const files = "clipboardData" in e ? e.clipboardData?.files : (e as DragEvent).dataTransfer?.files;
    if (files && files.length > 0 && !attachments) {
      e.preventDefault();
      setNote("Attachments are turned off on this server, so files can't be shared here.");
    }
  };

  const tooLong = [...text].length > MAX_MESSAGE_CHARS;

  return (
    <div className="composer">
      {open && (
        <Suggestions
          id={listId}
          label={trigger!.kind === "sound" ? "Sounds" : "People in this room"}
          options={options}
          active={active}
          onChoose={choose}
          onHover={setActive}
        />
      )}
      <form
        className="composer-form"
        onSubmit={(e) => {
          e.preventDefault();
          send();
        }}
      >
        <button
          type="button"
          className="icon-button"
          aria-label="Attach a file"
          onClick={() => setNote(attachments ? "Uploads aren't supported by this client yet." : "Attachments are turned off on this server, so files can't be shared here.")}
        >
          <Icon name="paperclip" />
        </button>
        <textarea
          ref={ref}
          className="composer-input"
          aria-label={`Message ${roomName || "this room"}`}
          aria-describedby={hintId}
          aria-controls={open ? listId : undefined}
          aria-activedescendant={open ? `${listId}-${active}` : undefined}
          aria-invalid={tooLong || undefined}
          placeholder={roomName ? `Message ${roomName}` : "Write a message"}
          rows={1}
          value={text}
          onChange={(e) => {
            setPicks(remapPicks(text, e.target.value, picks));
            setText(e.target.value);
            updateTrigger(e.target.value, e.target.selectionStart ?? e.target.value.length);
            onTyping(e.target.value);
          }}
          onSelect={(e) => updateTrigger(e.currentTarget.value, e.currentTarget.selectionStart ?? 0)}
          onKeyDown={onKeyDown}
          onBlur={() => {
            onBlur();
            setTimeout(() => setTrigger(null), 150);
          }}
          onPaste={noFiles}
          onDrop={noFiles}
        />
        <button type="submit" className="icon-button send" aria-label="Send" disabled={!text.trim() || tooLong}>
          <Icon name="send" />
        </button>
      </form>
      <p className="composer-hint" id={hintId}>
        {note ? (
          <span role="status" className="composer-note">
            {note}
          </span>
        ) : tooLong ? (
          <span role="status" className="composer-note">
            {[...text].length.toLocaleString()} / {MAX_MESSAGE_CHARS.toLocaleString()} characters
          </span>
        ) : (
          <>
            <kbd>Enter</kbd> sends · <kbd>Shift</kbd>+<kbd>Enter</kbd> new line · <kbd>↑</kbd> edits your last message · Markdown, @mentions and /play work
          </>
        )}
      </p>
    </div>
  );
}
