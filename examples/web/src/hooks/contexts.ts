// The contexts the app's hooks read. Providers are in components/.
import { createContext, type Dispatch } from "react";
import type { Api } from "../api/client";
import type { ConnectionStatus, LiveConnection } from "../api/live";
import type { Account, Features, Room, User } from "../api/types";
import type { RoomsAction } from "../state/rooms";

export const ApiContext = createContext<Api | null>(null);

export interface SessionValue {
  me: User;
  features: Features;
  /** Replace the signed-in user (after a profile change). */
  setMe(u: User): void;
  signOut(): Promise<void>;
}

export const SessionContext = createContext<SessionValue | null>(null);

export interface ChatValue {
  live: LiveConnection;
  status: ConnectionStatus;
  rooms: Room[];
  roomsLoaded: boolean;
  dispatchRooms: Dispatch<RoomsAction>;
  users: Map<number, User>;
  refreshUsers(): void;
  account: Account | null;
  setAccount(a: Account): void;
  /** The room on screen, so its new messages do not mark it unread. */
  setOpenRoom(id: number | undefined): void;
}

export const ChatContext = createContext<ChatValue | null>(null);

/** The sidebar drawer on narrow screens. */
export interface DrawerValue {
  open: boolean;
  setOpen(open: boolean): void;
}

export const DrawerContext = createContext<DrawerValue>({ open: false, setOpen: () => {} });
