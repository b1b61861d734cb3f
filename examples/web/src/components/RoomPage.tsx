import { useCallback, useEffect, useMemo, useState } from "react";
import { useApi } from "../hooks/useApi";
import { useChat } from "../hooks/useChat";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { useLiveEvents } from "../hooks/useLiveEvents";
import { usePresence } from "../hooks/usePresence";
import { useRoomMessages } from "../hooks/useRoomMessages";
import { useSession } from "../hooks/useSession";
import { useTypingIndicator } from "../hooks/useTypingIndicator";
import { useTypingNotifier } from "../hooks/useTypingNotifier";
import { navigate } from "../router/location";
import { paths } from "../router/routes";
import { lastOwnMessage } from "../state/messages";
import { roomTitle } from "../state/rooms";
import { Composer } from "./Composer";
import { ErrorNote } from "./ErrorNote";
import { LAST_ROOM_KEY } from "./HomeRedirect";
import { MessageList, type MessageHandlers } from "./MessageList";
import { RoomHeader } from "./RoomHeader";
import { TypingIndicator } from "./TypingIndicator";

/** RoomPage is a room: its messages, who is typing, and the composer. */
export function RoomPage({ roomId, messageId }: { roomId: number; messageId?: number }) {
  const api = useApi();
  const { rooms, users, setOpenRoom, dispatchRooms } = useChat();
  const { me, features } = useSession();
  const room = rooms.find((r) => r.id === roomId);
  const msgs = useRoomMessages(roomId, messageId);
  const typists = useTypingIndicator(roomId);
  const present = usePresence(roomId);
  const notifier = useTypingNotifier(roomId);
  const [editingId, setEditingId] = useState<number | null>(null);
  const title = room ? roomTitle(room, users, me.id) : "";
  useDocumentTitle(title);

  useEffect(() => {
    setOpenRoom(roomId);
    localStorage.setItem(LAST_ROOM_KEY, String(roomId));
    dispatchRooms({ type: "event", event: { type: "read", data: { room_id: roomId } } });
    api.markRead(roomId).catch(() => {});
    return () => setOpenRoom(undefined);
  }, [api, roomId, setOpenRoom, dispatchRooms]);

  // The room was deleted, or we were taken out of it: go somewhere we can be.
  useLiveEvents((ev) => {
    if ((ev.type === "room.deleted" || ev.type === "room.removed") && ((ev.data as { id?: number })?.id ?? ev.room_id) === roomId) {
      navigate(paths.home(), { replace: true });
    }
  });

  const { send, retry, discard, edit, remove, boost, unboost, state } = msgs;
  const handlers = useMemo<MessageHandlers>(
    () => ({ retry, discard, edit, remove, boost, unboost, startEditing: setEditingId }),
    [retry, discard, edit, remove, boost, unboost],
  );

  const onSend = useCallback(
    (body: string, shown: string) => {
      notifier.stopped();
      send(body, shown);
      if (messageId) navigate(paths.room(roomId), { replace: true });
    },
    [notifier, send, messageId, roomId],
  );

  const onEditLast = useCallback(() => {
    const m = lastOwnMessage(state.messages, me.id);
    if (!m) return false;
    setEditingId(m.id);
    return true;
  }, [state.messages, me.id]);

  const searchUsers = useCallback((q: string) => api.users({ roomId, q, limit: 20 }), [api, roomId]);

  return (
    <section className="room" aria-label={title || "Room"}>
      <RoomHeader room={room} roomId={roomId} title={title} present={present} />
      {msgs.anchorMissing && <p className="notice">That message is gone. Here are the latest ones.</p>}
      {msgs.error ? (
        <div className="room-error">
          <ErrorNote>{msgs.error}</ErrorNote>
        </div>
      ) : (
        <MessageList
          key={messageId ?? "latest"}
          messages={state.messages}
          loaded={state.loaded}
          moreBefore={state.moreBefore}
          moreAfter={state.moreAfter}
          loadingOlder={msgs.loadingOlder}
          onLoadOlder={msgs.loadOlder}
          onLoadNewer={msgs.loadNewer}
          onJumpToLatest={() => navigate(paths.room(roomId))}
          highlightId={messageId}
          roomId={roomId}
          editingId={editingId}
          onStopEditing={() => setEditingId(null)}
          handlers={handlers}
          boostsEnabled={features.boosts}
        />
      )}
      <TypingIndicator names={typists} />
      <Composer
        key={roomId}
        roomId={roomId}
        roomName={title}
        onSend={onSend}
        onEditLast={onEditLast}
        onTyping={notifier.typed}
        onBlur={notifier.stopped}
        searchUsers={searchUsers}
        attachments={features.attachments}
      />
    </section>
  );
}
