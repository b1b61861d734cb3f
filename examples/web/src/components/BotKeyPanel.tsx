import { useEffect, useId, useRef, useState } from "react";
import { botPostURL } from "../api/client";
import type { Bot } from "../api/types";
import { useChat } from "../hooks/useChat";
import { ErrorNote } from "./ErrorNote";
import { Icon } from "./Icon";

/**
 * BotKeyPanel shows a bot's key the one time the server sends it (on create
 * and on reset): copy it, see how to post with it, then dismiss it for good.
 */
export function BotKeyPanel({ bot, botKey, reset, onDone }: { bot: Bot; botKey: string; reset: boolean; onDone(): void }) {
  const { rooms } = useChat();
  const openRooms = rooms.filter((r) => r.kind === "open");
  const [roomId, setRoomId] = useState<number | null>(null);
  const room = openRooms.find((r) => r.id === roomId) ?? openRooms[0];
  const command = `curl -d 'Hello!' ${botPostURL(room ? room.id : "ROOM_ID", botKey)}`;
  const [copied, setCopied] = useState<"key" | "command" | null>(null);
  const [error, setError] = useState<string | null>(null);
  const keyRef = useRef<HTMLInputElement>(null);
  const commandRef = useRef<HTMLElement>(null);
  const id = useId();
  const keyId = id + "-key";
  const noteId = id + "-note";
  const roomSelectId = id + "-room";

  // Where the person's attention should be: the key, selected, ready to copy.
  useEffect(() => {
    keyRef.current?.focus();
    setCopied(null);
    setError(null);
  }, [botKey]);

  const copy = async (what: "key" | "command") => {
    setError(null);
    try {
      await navigator.clipboard.writeText(what === "key" ? botKey : command);
      setCopied(what);
    } catch {
      // Without clipboard access (plain http), select the text for the person to copy.
      if (what === "key") keyRef.current?.select();
      else if (commandRef.current) window.getSelection()?.selectAllChildren(commandRef.current);
      setCopied(null);
      setError(`Couldn't copy here: the ${what} is selected, copy it with your keyboard.`);
    }
  };

  return (
    <section className="bot-key" aria-labelledby={id + "-heading"}>
      <h3 id={id + "-heading"}>{reset ? `New key for ${bot.name}` : `${bot.name} is ready`}</h3>
      <p className="bot-key-note" id={noteId}>
        <strong>Copy the key now: it won't be shown again.</strong> If it's lost, reset the key to get a new one
        {reset ? "; the old key has stopped working." : "."}
      </p>
      <div className="join-link-row">
        <label htmlFor={keyId} className="visually-hidden">
          Key for {bot.name}
        </label>
        <input id={keyId} ref={keyRef} readOnly value={botKey} aria-describedby={noteId} spellCheck={false} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" className="button primary" onClick={() => copy("key")}>
          <Icon name="copy" size={16} /> {copied === "key" ? "Copied" : "Copy key"}
        </button>
      </div>

      <p className="bot-key-example">
        {bot.name} can post to a room it's in with the key, for example:
      </p>
      {openRooms.length > 1 && (
        <div className="bot-key-room">
          <label htmlFor={roomSelectId}>Room</label>
          <select id={roomSelectId} value={room?.id} onChange={(e) => setRoomId(Number(e.target.value))}>
            {openRooms.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
              </option>
            ))}
          </select>
        </div>
      )}
      <div className="bot-command">
        <pre>
          <code ref={commandRef}>{command}</code>
        </pre>
        <button type="button" className="button small" onClick={() => copy("command")}>
          <Icon name="copy" size={14} /> {copied === "command" ? "Copied" : "Copy command"}
        </button>
      </div>

      <p className="success-note" role="status">
        {copied === "key" ? "Copied the key." : copied === "command" ? "Copied the command." : ""}
      </p>
      <ErrorNote>{error}</ErrorNote>
      <button type="button" className="button" onClick={onDone}>
        Done
      </button>
    </section>
  );
}
