// The messages of one room as the client holds them: pages loaded from the
// server, live events applied on top, and messages being sent optimistically.
// Every change is a pure function, so that the rules can be tested alone.
import type { Boost, ChatEvent, IDData, Message, MessagePage } from "../api/types";

export type SendState = "sending" | "failed";

/** A message as shown: a stored one, or one of ours still being sent (id 0). */
export interface ChatMessage extends Message {
  sending?: SendState;
  /** Why the send failed, for the failed state. */
  error?: string;
}

export interface RoomMessages {
  messages: ChatMessage[];
  moreBefore: boolean;
  /** Newer messages exist than those held (a permalink opened in the past). */
  moreAfter: boolean;
  loaded: boolean;
}

export const emptyRoom: RoomMessages = { messages: [], moreBefore: false, moreAfter: false, loaded: false };

/** messageKey is stable from the optimistic copy to the stored message. */
export function messageKey(m: Message): string {
  return m.client_message_id ? "c:" + m.client_message_id : "m:" + m.id;
}

/** merge puts stored messages in id order, then our unsent ones in the order they were written. */
function merge(current: ChatMessage[], incoming: Message[]): ChatMessage[] {
  const byId = new Map<number, ChatMessage>();
  const pending: ChatMessage[] = [];
  const incomingCids = new Set(incoming.map((m) => m.client_message_id).filter(Boolean));
  for (const m of current) {
    if (m.sending) {
      if (!incomingCids.has(m.client_message_id)) pending.push(m);
    } else {
      byId.set(m.id, m);
    }
  }
  for (const m of incoming) byId.set(m.id, m);
  const stored = [...byId.values()].sort((a, b) => a.id - b.id);
  return [...stored, ...pending];
}

export type MessagesAction =
  | { type: "reset" }
  | { type: "loaded"; page: MessagePage }
  | { type: "older"; page: MessagePage }
  | { type: "newer"; page: MessagePage }
  | { type: "event"; event: ChatEvent }
  | { type: "sending"; message: ChatMessage }
  | { type: "sent"; message: Message }
  | { type: "failed"; clientMessageId: string; error: string }
  | { type: "retrying"; clientMessageId: string }
  | { type: "discarded"; clientMessageId: string }
  | { type: "updated"; message: Message }
  | { type: "deleted"; id: number }
  | { type: "boosted"; boost: Boost }
  | { type: "unboosted"; messageId: number; boostId: number };

export function messagesReducer(state: RoomMessages, action: MessagesAction): RoomMessages {
  switch (action.type) {
    case "reset":
      // Loading anew (another permalink): nothing to show but what is being sent.
      return { ...emptyRoom, messages: state.messages.filter((m) => m.sending) };
    case "loaded": {
      // A fresh load replaces what was held, but keeps messages still being sent.
      const pending = state.messages.filter((m) => m.sending);
      return {
        messages: merge(pending, action.page.messages),
        moreBefore: action.page.more_before,
        moreAfter: action.page.more_after,
        loaded: true,
      };
    }
    case "older":
      return { ...state, messages: merge(state.messages, action.page.messages), moreBefore: action.page.more_before };
    case "newer":
      return { ...state, messages: merge(state.messages, action.page.messages), moreAfter: action.page.more_after };
    case "sending":
      return { ...state, messages: [...state.messages.filter((m) => m.client_message_id !== action.message.client_message_id), action.message] };
    case "sent":
      return upsert(state, action.message);
    case "failed":
      return mapPending(state, action.clientMessageId, (m) => ({ ...m, sending: "failed", error: action.error }));
    case "retrying":
      return mapPending(state, action.clientMessageId, (m) => ({ ...m, sending: "sending", error: undefined }));
    case "discarded":
      return { ...state, messages: state.messages.filter((m) => !(m.sending && m.client_message_id === action.clientMessageId)) };
    case "updated":
      return replace(state, action.message);
    case "deleted":
      return { ...state, messages: state.messages.filter((m) => m.sending || m.id !== action.id) };
    case "boosted":
      return addBoost(state, action.boost);
    case "unboosted":
      return removeBoost(state, action.messageId, action.boostId);
    case "event":
      return applyEvent(state, action.event);
  }
}

function applyEvent(state: RoomMessages, ev: ChatEvent): RoomMessages {
  switch (ev.type) {
    case "message.created": {
      const m = ev.data as Message;
      const ours = state.messages.some((x) => x.sending && x.client_message_id && x.client_message_id === m.client_message_id);
      // Viewing the past (a permalink): newer messages are fetched by scrolling, not appended across a gap.
      if (state.moreAfter && !ours) return state;
      return upsert(state, m);
    }
    case "message.updated":
      return replace(state, ev.data as Message);
    case "message.deleted":
      return { ...state, messages: state.messages.filter((m) => m.sending || m.id !== (ev.data as IDData).id) };
    case "boost.created":
      return addBoost(state, ev.data as Boost);
    case "boost.deleted": {
      const d = ev.data as IDData;
      return removeBoost(state, d.message_id ?? 0, d.id);
    }
    default:
      return state;
  }
}

function upsert(state: RoomMessages, m: Message): RoomMessages {
  return { ...state, messages: merge(state.messages, [m]) };
}

function replace(state: RoomMessages, m: Message): RoomMessages {
  if (!state.messages.some((x) => !x.sending && x.id === m.id)) return state;
  return { ...state, messages: state.messages.map((x) => (!x.sending && x.id === m.id ? m : x)) };
}

function mapPending(state: RoomMessages, cid: string, f: (m: ChatMessage) => ChatMessage): RoomMessages {
  return { ...state, messages: state.messages.map((m) => (m.sending && m.client_message_id === cid ? f(m) : m)) };
}

function addBoost(state: RoomMessages, b: Boost): RoomMessages {
  return {
    ...state,
    messages: state.messages.map((m) =>
      m.id === b.message_id && !m.sending && !m.boosts.some((x) => x.id === b.id) ? { ...m, boosts: [...m.boosts, b] } : m,
    ),
  };
}

function removeBoost(state: RoomMessages, messageId: number, boostId: number): RoomMessages {
  return {
    ...state,
    messages: state.messages.map((m) =>
      !m.sending && (m.id === messageId || messageId === 0) && m.boosts.some((x) => x.id === boostId)
        ? { ...m, boosts: m.boosts.filter((x) => x.id !== boostId) }
        : m,
    ),
  };
}

/** lastOwnMessage is the message that ↑ in an empty composer edits. */
export function lastOwnMessage(messages: ChatMessage[], userId: number): ChatMessage | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (!m.sending && m.creator.id === userId) return m;
  }
  return undefined;
}
