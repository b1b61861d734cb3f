import { useCallback, useEffect, useReducer, useRef, useState } from "react";
import { ApiError } from "../api/client";
import type { Message } from "../api/types";
import { playSound } from "../sounds/synth";
import { emptyRoom, messagesReducer, type ChatMessage, type RoomMessages } from "../state/messages";
import { newClientMessageId } from "./clientMessageId";
import { useApi } from "./useApi";
import { useChat } from "./useChat";
import { useLiveEvents } from "./useLiveEvents";
import { useSession } from "./useSession";

const PAGE = 50;
/** A sound plays only for a message this fresh: not for the backlog replayed after a reconnect. */
const SOUND_FRESHNESS_MS = 30000;

export interface RoomMessagesApi {
  state: RoomMessages;
  /** Why the room could not be loaded. */
  error: string | null;
  /** The permalinked message was not found; the latest messages are shown instead. */
  anchorMissing: boolean;
  loadingOlder: boolean;
  loadOlder(): Promise<void>;
  loadNewer(): Promise<void>;
  /** Posts body; until the server answers, the message shows as shown (the text as written), or body. */
  send(body: string, shown?: string): void;
  retry(clientMessageId: string): void;
  discard(clientMessageId: string): void;
  edit(id: number, body: string): Promise<void>;
  remove(id: number): Promise<void>;
  boost(messageId: number, content: string): Promise<void>;
  unboost(messageId: number, boostId: number): Promise<void>;
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  return "Something went wrong.";
}

/**
 * useRoomMessages holds one room's messages: loaded from the server (around a
 * permalinked message when there is one), kept current by live events, with
 * our own messages shown at once and confirmed by client_message_id.
 */
export function useRoomMessages(roomId: number, anchorId?: number): RoomMessagesApi {
  const api = useApi();
  const { live, dispatchRooms } = useChat();
  const { me } = useSession();
  const [state, dispatch] = useReducer(messagesReducer, emptyRoom);
  const [error, setError] = useState<string | null>(null);
  const [anchorMissing, setAnchorMissing] = useState(false);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const stateRef = useRef(state);
  stateRef.current = state;
  const busy = useRef({ older: false, newer: false });
  const generation = useRef(0);

  const load = useCallback(async () => {
    const gen = ++generation.current;
    try {
      const room = await api.room(roomId);
      let page;
      try {
        page = await api.messages(roomId, anchorId ? { around: anchorId } : {}, PAGE);
        setAnchorMissing(false);
      } catch (err) {
        if (!(anchorId && err instanceof ApiError && err.status === 404)) throw err;
        setAnchorMissing(true);
        page = await api.messages(roomId, {}, PAGE);
      }
      if (gen !== generation.current) return;
      dispatch({ type: "loaded", page });
      // We are reading it now: it is not unread, whatever the answer says.
      dispatchRooms({ type: "upserted", room: room.membership ? { ...room, membership: { ...room.membership, unread: false } } : room });
      live.subscribe(roomId, room.last_seq, { reset: true });
      setError(null);
    } catch (err) {
      if (gen !== generation.current) return;
      setError(err instanceof ApiError && err.status === 404 ? "This room doesn't exist, or you're not in it." : errorText(err));
    }
  }, [api, live, roomId, anchorId, dispatchRooms]);

  useEffect(() => {
    dispatch({ type: "reset" });
    load();
    return () => {
      generation.current++;
      live.unsubscribe(roomId);
    };
  }, [load, live, roomId]);

  useLiveEvents((ev) => {
    if (ev.room_id !== roomId) return;
    if (ev.type === "resync") {
      load();
      return;
    }
    if (ev.type === "message.created") {
      const m = ev.data as Message;
      if (m.sound && Date.now() - Date.parse(m.created_at) < SOUND_FRESHNESS_MS) playSound(m.sound);
    }
    dispatch({ type: "event", event: ev });
  });

  const post = useCallback(
    async (body: string, cid: string) => {
      try {
        const m = await api.postMessage(roomId, body, cid);
        dispatch({ type: "sent", message: m });
      } catch (err) {
        dispatch({ type: "failed", clientMessageId: cid, error: errorText(err) });
      }
    },
    [api, roomId],
  );

  const send = useCallback(
    (body: string, shown?: string) => {
      const cid = newClientMessageId();
      const now = new Date().toISOString();
      const optimistic: ChatMessage = {
        id: 0,
        room_id: roomId,
        seq: 0,
        client_message_id: cid,
        creator: { id: me.id, name: me.name, role: me.role, avatar_url: me.avatar_url },
        body: { markdown: body, html: "", plain_text: shown ?? body },
        mentions: [],
        sound: null,
        boosts: [],
        created_at: now,
        updated_at: now,
        sending: "sending",
      };
      dispatch({ type: "sending", message: optimistic });
      post(body, cid);
    },
    [me, post, roomId],
  );

  const retry = useCallback(
    (cid: string) => {
      const m = stateRef.current.messages.find((x) => x.sending && x.client_message_id === cid);
      if (!m) return;
      dispatch({ type: "retrying", clientMessageId: cid });
      post(m.body.markdown, cid);
    },
    [post],
  );

  const discard = useCallback((cid: string) => dispatch({ type: "discarded", clientMessageId: cid }), []);

  const loadOlder = useCallback(async () => {
    const s = stateRef.current;
    const first = s.messages.find((m) => !m.sending);
    if (!s.moreBefore || !first || busy.current.older) return;
    busy.current.older = true;
    setLoadingOlder(true);
    try {
      const page = await api.messages(roomId, { before: first.id }, PAGE);
      dispatch({ type: "older", page });
    } catch {
      // Scrolling up again retries.
    } finally {
      busy.current.older = false;
      setLoadingOlder(false);
    }
  }, [api, roomId]);

  const loadNewer = useCallback(async () => {
    const s = stateRef.current;
    const stored = s.messages.filter((m) => !m.sending);
    const last = stored[stored.length - 1];
    if (!s.moreAfter || !last || busy.current.newer) return;
    busy.current.newer = true;
    try {
      const page = await api.messages(roomId, { after: last.id }, PAGE);
      dispatch({ type: "newer", page });
    } catch {
      // Scrolling down again retries.
    } finally {
      busy.current.newer = false;
    }
  }, [api, roomId]);

  const edit = useCallback(
    async (id: number, body: string) => {
      const m = await api.editMessage(roomId, id, body);
      dispatch({ type: "updated", message: m });
    },
    [api, roomId],
  );

  const remove = useCallback(
    async (id: number) => {
      await api.deleteMessage(roomId, id);
      dispatch({ type: "deleted", id });
    },
    [api, roomId],
  );

  const boost = useCallback(
    async (messageId: number, content: string) => {
      const b = await api.boost(roomId, messageId, content);
      dispatch({ type: "boosted", boost: b });
    },
    [api, roomId],
  );

  const unboost = useCallback(
    async (messageId: number, boostId: number) => {
      await api.unboost(roomId, messageId, boostId);
      dispatch({ type: "unboosted", messageId, boostId });
    },
    [api, roomId],
  );

  return { state, error, anchorMissing, loadingOlder, loadOlder, loadNewer, send, retry, discard, edit, remove, boost, unboost };
}
