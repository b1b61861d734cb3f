import { useCallback, useEffect, useMemo, useReducer, useRef, useState, type ReactNode } from "react";
import { LiveConnection, type ConnectionStatus } from "../api/live";
import type { Account, ChatEvent, Room, User } from "../api/types";
import { ChatContext, type ChatValue } from "../hooks/contexts";
import { useApi } from "../hooks/useApi";
import { useSession } from "../hooks/useSession";
import { roomsReducer } from "../state/rooms";

/**
 * ChatProvider owns the live connection and what the whole screen shares:
 * the rooms (kept current by per-user events), the people, the account.
 */
export function ChatProvider({
  children,
  createLive,
  onSessionEnded,
}: {
  children: ReactNode;
  createLive?: () => LiveConnection;
  onSessionEnded(): void;
}) {
  const api = useApi();
  const { me } = useSession();
  const [live] = useState(() => (createLive ? createLive() : new LiveConnection()));
  const [status, setStatus] = useState<ConnectionStatus>(live.getStatus());
  const [rooms, dispatchRooms] = useReducer(roomsReducer, [] as Room[]);
  const [roomsLoaded, setRoomsLoaded] = useState(false);
  const [users, setUsers] = useState<Map<number, User>>(new Map());
  const [account, setAccount] = useState<Account | null>(null);
  const openRoom = useRef<number | undefined>(undefined);

  const loadRooms = useCallback(() => {
    api.rooms().then(
      (rs) => {
        dispatchRooms({ type: "loaded", rooms: rs });
        setRoomsLoaded(true);
      },
      () => setRoomsLoaded(true),
    );
  }, [api]);

  const refreshUsers = useCallback(() => {
    api.users({ limit: 500 }).then((us) => setUsers(new Map(us.map((u) => [u.id, u]))), () => {});
  }, [api]);

  useEffect(() => {
    loadRooms();
    refreshUsers();
    api.account().then(setAccount, () => {});
  }, [api, loadRooms, refreshUsers]);

  useEffect(() => {
    const offStatus = live.onStatus((s) => {
      setStatus(s);
      // Per-user events sent while we were away are not replayed: ask again.
      if (s.state === "connected" && s.resumed) {
        loadRooms();
        refreshUsers();
      }
      if (s.state === "signed_out") onSessionEnded();
    });
    live.start();
    return () => {
      offStatus();
      live.stop();
    };
  }, [live, loadRooms, refreshUsers, onSessionEnded]);

  const setOpenRoom = useCallback((id: number | undefined) => {
    openRoom.current = id;
  }, []);

  const usersRef = useRef(users);
  usersRef.current = users;
  useEffect(
    () =>
      live.addListener((ev: ChatEvent) => {
        dispatchRooms({ type: "event", event: ev, openRoomId: openRoom.current });
        if (ev.type === "unread" && ev.room_id === openRoom.current && document.visibilityState === "visible") {
          api.markRead(ev.room_id!).catch(() => {});
        }
        if (ev.type === "room.added") {
          const r = ev.data as Room;
          if (r.user_ids?.some((id) => !usersRef.current.has(id))) refreshUsers();
        }
        if (ev.type === "hello") {
          // The server says who we are; nothing to do unless it changed under us.
          const u = (ev.data as { user?: User } | undefined)?.user;
          if (u && u.id !== me.id) onSessionEnded();
        }
      }),
    [api, live, me.id, onSessionEnded, refreshUsers],
  );

  const value = useMemo<ChatValue>(
    () => ({
      live,
      status,
      rooms,
      roomsLoaded,
      dispatchRooms,
      users,
      refreshUsers,
      account,
      setAccount,
      setOpenRoom,
    }),
    [live, status, rooms, roomsLoaded, users, refreshUsers, account, setOpenRoom],
  );

  return <ChatContext.Provider value={value}>{children}</ChatContext.Provider>;
}
