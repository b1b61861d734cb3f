// The wire shapes of campfire's protocol v1 (docs/PROTOCOL.md).

export type Role = "admin" | "member" | "bot";
export type UserStatus = "active" | "deactivated";

export interface User {
  id: number;
  name: string;
  role: Role;
  status: UserStatus;
  bio: string;
  avatar_url: string;
  /** Only to admins and to the user themself. */
  email?: string;
}

/** A bot (admins only): a user with role "bot" and where its webhooks go ("" for none). */
export interface Bot extends User {
  role: "bot";
  webhook_url: string;
}

/** A bot with its key: the only answers that ever carry the key (create, reset). */
export interface BotWithKey {
  bot: Bot;
  bot_key: string;
}

export interface UserRef {
  id: number;
  name: string;
  role?: Role;
  avatar_url?: string;
}

export type RoomKind = "open" | "closed" | "direct";
export type Involvement = "everything" | "mentions" | "nothing" | "invisible";

export interface Membership {
  involvement: Involvement;
  unread: boolean;
}

export interface Room {
  id: number;
  kind: RoomKind;
  name: string;
  creator_id: number;
  created_at: string;
  updated_at: string;
  last_seq: number;
  /** Direct rooms only. */
  user_ids?: number[];
  membership?: Membership;
}

export interface Body {
  markdown: string;
  /** Rendered and sanitized by the server: the only HTML the client inserts. */
  html: string;
  plain_text: string;
}

export interface Boost {
  id: number;
  message_id: number;
  content: string;
  booster: UserRef;
  created_at: string;
}

export interface Message {
  id: number;
  room_id: number;
  seq: number;
  client_message_id: string;
  creator: UserRef;
  body: Body;
  mentions: number[];
  sound: string | null;
  boosts: Boost[];
  created_at: string;
  updated_at: string;
}

export interface MessagePage {
  messages: Message[];
  more_before: boolean;
  more_after: boolean;
}

export interface AccountSettings {
  restrict_room_creation_to_admins: boolean;
}

export interface Account {
  name: string;
  /** Only to admins. */
  join_code?: string;
  settings: AccountSettings;
}

export interface Features {
  search: boolean;
  boosts: boolean;
  builtin_auth: boolean;
  bots: boolean;
  attachments: boolean;
  link_previews: boolean;
  push: boolean;
}

export type DurableEventType =
  | "message.created"
  | "message.updated"
  | "message.deleted"
  | "boost.created"
  | "boost.deleted"
  | "room.updated"
  | "room.deleted"
  | "members.removed";

export type EphemeralEventType =
  | "typing"
  | "presence"
  | "unread"
  | "read"
  | "room.added"
  | "room.removed";

export type ConnectionEventType = "hello" | "resync" | "error";

export type EventType = DurableEventType | EphemeralEventType | ConnectionEventType;

/** One event, as every transport sends it. */
export interface ChatEvent {
  type: EventType | string;
  room_id?: number;
  seq?: number;
  data?: unknown;
}

export interface TypingData {
  user: { id: number; name: string };
  state: "start" | "stop";
}

export interface PresenceData {
  user_ids: number[];
}

export interface IDData {
  id: number;
  message_id?: number;
}

export interface ErrorDetail {
  code: string;
  message: string;
  field?: string;
}
