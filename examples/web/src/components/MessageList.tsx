import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import type { Message } from "../api/types";
import { useSession } from "../hooks/useSession";
import { messageKey, type ChatMessage } from "../state/messages";
import { layoutMessages } from "../state/layout";
import { DaySeparator } from "./DaySeparator";
import { Icon } from "./Icon";
import { MessageItem } from "./MessageItem";

/** Within this many pixels of the end, the reader is "at the bottom" and follows new messages. */
export const NEAR_BOTTOM_PX = 120;
/** Within this many pixels of the top, older messages are fetched. */
export const NEAR_TOP_PX = 240;

export interface MessageHandlers {
  retry(clientMessageId: string): void;
  discard(clientMessageId: string): void;
  edit(id: number, body: string): Promise<void>;
  remove(id: number): Promise<void>;
  boost(messageId: number, content: string): Promise<void>;
  unboost(messageId: number, boostId: number): Promise<void>;
  startEditing(id: number | null): void;
}

export interface MessageListProps {
  messages: ChatMessage[];
  loaded: boolean;
  moreBefore: boolean;
  moreAfter: boolean;
  loadingOlder?: boolean;
  onLoadOlder(): void;
  onLoadNewer(): void;
  onJumpToLatest(): void;
  highlightId?: number;
  roomId: number;
  editingId: number | null;
  onStopEditing(): void;
  handlers: MessageHandlers;
  boostsEnabled: boolean;
}

/**
 * MessageList shows the messages grouped by author and day. It follows new
 * messages only when the reader is already near the bottom (or just sent
 * one), keeps the reader's place when older messages arrive above, and
 * fetches older ones when scrolled near the top.
 */
export function MessageList(props: MessageListProps) {
  const { messages, loaded, moreBefore, moreAfter, onLoadOlder, onLoadNewer, highlightId } = props;
  const { me } = useSession();
  const ref = useRef<HTMLDivElement>(null);
  const items = useMemo(() => layoutMessages(messages), [messages]);
  const nearBottom = useRef(true);
  const prev = useRef<{ first?: string; last?: string; height: number } | null>(null);
  const placed = useRef(false);
  const [unseen, setUnseen] = useState(0);

  const measure = useCallback(() => {
    const el = ref.current;
    if (!el) return;
    nearBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight <= NEAR_BOTTOM_PX;
  }, []);

  const toBottom = useCallback(() => {
    const el = ref.current;
    if (!el) return;
    el.scrollTop = el.scrollHeight;
    nearBottom.current = true;
    setUnseen(0);
  }, []);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el || !loaded) return;
    const keys = messages.map(messageKey);
    const first = keys[0];
    const last = keys[keys.length - 1];
    const p = prev.current;
    const wasNearBottom = nearBottom.current;

    if (!placed.current) {
      // First paint: open at the bottom, or at the permalinked message.
      placed.current = true;
      const target = highlightId ? el.querySelector<HTMLElement>(`[data-message-id="${highlightId}"]`) : null;
      if (target) {
        el.scrollTop = Math.max(0, target.offsetTop - el.clientHeight / 3);
      } else {
        el.scrollTop = el.scrollHeight;
      }
    } else if (p) {
      const prepended = p.first !== undefined && first !== p.first && keys.indexOf(p.first) > 0;
      const appended = last !== p.last;
      if (prepended) {
        // Older messages came in above: keep what the reader was looking at where it was.
        el.scrollTop += el.scrollHeight - p.height;
      } else if (appended) {
        const newest = messages[messages.length - 1] as Message & { sending?: string };
        const ownJustSent = newest?.creator.id === me.id && newest.sending === "sending";
        if (wasNearBottom || ownJustSent) {
          el.scrollTop = el.scrollHeight;
          setUnseen(0);
        } else {
          const before = p.last ? keys.indexOf(p.last) : -1;
          const added = before >= 0 ? keys.length - 1 - before : 1;
          setUnseen((n) => n + Math.max(1, added));
        }
      } else if (wasNearBottom) {
        // An edit or a boost changed a height: stay pinned to the end.
        el.scrollTop = el.scrollHeight;
      }
    }
    prev.current = { first, last, height: el.scrollHeight };
    measure();
    // Too few messages to scroll: fetch more right away.
    if (moreBefore && el.scrollHeight <= el.clientHeight && messages.length > 0) onLoadOlder();
  }, [messages, loaded, highlightId, me.id, measure, moreBefore, onLoadOlder]);

  // A taller typing line or a phone keyboard shrinks the view: stay at the bottom if there.
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const ro = new ResizeObserver(() => {
      if (nearBottom.current) el.scrollTop = el.scrollHeight;
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const onScroll = () => {
    const el = ref.current;
    if (!el) return;
    measure();
    if (el.scrollTop <= NEAR_TOP_PX && moreBefore) onLoadOlder();
    if (nearBottom.current) {
      if (unseen) setUnseen(0);
      if (moreAfter) onLoadNewer();
    }
  };

  return (
    <div className="message-scroller-wrap">
      <div className="message-scroller" ref={ref} onScroll={onScroll} tabIndex={0} role="log" aria-label="Messages" aria-busy={!loaded}>
        {loaded && moreBefore && (
          <div className="history-edge" role="status">
            {props.loadingOlder ? "Loading earlier messages…" : "Scroll up for earlier messages"}
          </div>
        )}
        {loaded && !moreBefore && <div className="history-edge start">This is the start of the conversation.</div>}
        {!loaded && <div className="history-edge" role="status">Loading messages…</div>}
        {items.map((item) =>
          item.kind === "day" ? (
            <DaySeparator key={item.key} date={item.date} />
          ) : (
            <MessageItem
              key={item.key}
              message={item.message}
              continued={item.continued}
              highlighted={item.message.id === highlightId && !!highlightId}
              editing={props.editingId === item.message.id && item.message.id !== 0}
              onStopEditing={props.onStopEditing}
              roomId={props.roomId}
              handlers={props.handlers}
              boostsEnabled={props.boostsEnabled}
            />
          ),
        )}
      </div>
      {(unseen > 0 || moreAfter) && (
        <button className="jump-latest" type="button" onClick={() => (moreAfter ? props.onJumpToLatest() : toBottom())}>
          <Icon name="down" size={16} />
          {moreAfter ? "Jump to latest" : unseen === 1 ? "1 new message" : `${unseen} new messages`}
        </button>
      )}
    </div>
  );
}
