// The HTTP half of campfire's protocol: every URL the client uses is here.
import type {
  Account,
  AccountSettings,
  Boost,
  Bot,
  BotWithKey,
  ErrorDetail,
  Features,
  Involvement,
  Message,
  MessagePage,
  Room,
  RoomKind,
  User,
  ChatEvent,
} from "./types";

export const API_BASE = "/api/v1";

/** ApiError is a failed request: the protocol's error body, or a network failure (status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field?: string;
  readonly retryAfter?: number;

  constructor(status: number, detail: ErrorDetail, retryAfter?: number) {
    super(detail.message);
    this.name = "ApiError";
    this.status = status;
    this.code = detail.code;
    this.field = detail.field;
    this.retryAfter = retryAfter;
  }

  /** True when the request never got an answer (offline, server down). */
  get network(): boolean {
    return this.status === 0;
  }
}

export interface NewAccount {
  name: string;
  email: string;
  password: string;
  account_name?: string;
}

export type Cursor = { before: number } | { after: number } | { around: number } | Record<string, never>;

export interface EventsPage {
  events: ChatEvent[];
  seq: number;
  resync?: false;
}

export type EventsAnswer = EventsPage | { resync: true };

/** The typed client. Components reach it through hooks, never with fetch. */
export interface Api {
  features(): Promise<Features>;
  setupNeeded(): Promise<boolean>;
  setup(req: NewAccount): Promise<User>;
  signIn(email: string, password: string): Promise<User>;
  signOut(): Promise<void>;
  session(): Promise<User>;
  join(code: string, req: NewAccount): Promise<User>;

  account(): Promise<Account>;
  updateAccount(req: { name?: string; settings?: AccountSettings }): Promise<Account>;
  regenerateJoinCode(): Promise<string>;

  users(query?: { q?: string; roomId?: number; limit?: number }): Promise<User[]>;
  user(id: number | "me"): Promise<User>;
  /** A new password needs current_password, the one it replaces (422 with field "current_password" when missing or wrong). */
  updateMe(req: { name?: string; bio?: string; password?: string; current_password?: string }): Promise<User>;
  updateUser(id: number, req: { role?: "admin" | "member"; status?: "active" | "deactivated" }): Promise<User>;

  /** Bots: admins only; 501 feature_disabled when the host turned bots off. */
  bots(): Promise<Bot[]>;
  createBot(req: { name: string; webhook_url?: string }): Promise<BotWithKey>;
  updateBot(id: number, req: { name?: string; webhook_url?: string }): Promise<Bot>;
  /** A new key; the old one stops working. */
  resetBotKey(id: number): Promise<BotWithKey>;
  /** Deactivates the bot and forgets its key. */
  deleteBot(id: number): Promise<void>;

  rooms(): Promise<Room[]>;
  room(id: number): Promise<Room>;
  createRoom(req: { kind: RoomKind; name?: string; user_ids?: number[] }): Promise<Room>;
  updateRoom(id: number, req: { name?: string; kind?: RoomKind; user_ids?: number[] }): Promise<Room>;
  deleteRoom(id: number): Promise<void>;
  setInvolvement(id: number, involvement: Involvement): Promise<Room>;
  markRead(id: number): Promise<void>;
  typing(roomId: number, state: "start" | "stop"): Promise<void>;
  presence(roomId: number, state: "present" | "absent"): Promise<void>;
  events(roomId: number, since: number): Promise<EventsAnswer>;

  messages(roomId: number, cursor?: Cursor, limit?: number): Promise<MessagePage>;
  postMessage(roomId: number, body: string, clientMessageId: string): Promise<Message>;
  editMessage(roomId: number, messageId: number, body: string): Promise<Message>;
  deleteMessage(roomId: number, messageId: number): Promise<void>;
  boost(roomId: number, messageId: number, content: string): Promise<Boost>;
  unboost(roomId: number, messageId: number, boostId: number): Promise<void>;

  search(q: string): Promise<Message[]>;
}

type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** createApi builds the client over fetch; base is where the API is mounted. */
export function createApi(opts: { base?: string; fetch?: FetchLike } = {}): Api {
  const base = opts.base ?? API_BASE;
  const doFetch: FetchLike = opts.fetch ?? ((input, init) => fetch(input, init));

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      init.headers = { ...init.headers, "Content-Type": "application/json" };
      init.body = JSON.stringify(body);
    }
    let res: Response;
    try {
      res = await doFetch(base + path, init);
    } catch {
      throw new ApiError(0, { code: "network", message: "Can't reach the server. Check your connection." });
    }
    if (res.status === 204) return undefined as T;
    let data: unknown = null;
    const text = await res.text().catch(() => "");
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!res.ok) {
      const detail = (data as { error?: ErrorDetail } | null)?.error ?? {
        code: "http_" + res.status,
        message: res.statusText || "The server answered " + res.status,
      };
      const ra = Number(res.headers.get("Retry-After"));
      throw new ApiError(res.status, detail, Number.isFinite(ra) && ra > 0 ? ra : undefined);
    }
    return data as T;
  }

  const q = (params: Record<string, string | number | undefined>) => {
    const s = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") s.set(k, String(v));
    const str = s.toString();
    return str ? "?" + str : "";
  };

  return {
    features: async () => (await call<{ features: Features }>("GET", "/features")).features,
    setupNeeded: async () => (await call<{ needed: boolean }>("GET", "/setup")).needed,
    setup: async (req) => (await call<{ user: User }>("POST", "/setup", req)).user,
    signIn: async (email, password) => (await call<{ user: User }>("POST", "/session", { email, password })).user,
    signOut: () => call<void>("DELETE", "/session"),
    session: async () => (await call<{ user: User }>("GET", "/session")).user,
    join: async (code, req) =>
      (await call<{ user: User }>("POST", "/join/" + encodeURIComponent(code), req)).user,

    account: () => call<Account>("GET", "/account"),
    updateAccount: (req) => call<Account>("PATCH", "/account", req),
    regenerateJoinCode: async () => (await call<{ join_code: string }>("POST", "/account/join_code")).join_code,

    users: async (query = {}) =>
      (await call<{ users: User[] }>("GET", "/users" + q({ q: query.q, room_id: query.roomId, limit: query.limit }))).users,
    user: async (id) => (await call<{ user: User }>("GET", "/users/" + id)).user,
    updateMe: async (req) => (await call<{ user: User }>("PATCH", "/users/me", req)).user,
    updateUser: async (id, req) => (await call<{ user: User }>("PATCH", "/users/" + id, req)).user,

    bots: async () => (await call<{ bots: Bot[] }>("GET", "/account/bots")).bots,
    createBot: (req) => call<BotWithKey>("POST", "/account/bots", req),
    updateBot: async (id, req) => (await call<{ bot: Bot }>("PATCH", "/account/bots/" + id, req)).bot,
    resetBotKey: (id) => call<BotWithKey>("POST", `/account/bots/${id}/key`),
    deleteBot: (id) => call<void>("DELETE", "/account/bots/" + id),

    rooms: async () => (await call<{ rooms: Room[] }>("GET", "/rooms")).rooms,
    room: async (id) => (await call<{ room: Room }>("GET", "/rooms/" + id)).room,
    createRoom: async (req) => (await call<{ room: Room }>("POST", "/rooms", req)).room,
    updateRoom: async (id, req) => (await call<{ room: Room }>("PATCH", "/rooms/" + id, req)).room,
    deleteRoom: (id) => call<void>("DELETE", "/rooms/" + id),
    setInvolvement: async (id, involvement) =>
      (await call<{ room: Room }>("PUT", `/rooms/${id}/involvement`, { involvement })).room,
    markRead: (id) => call<void>("POST", `/rooms/${id}/read`),
    typing: (roomId, state) => call<void>("POST", `/rooms/${roomId}/typing`, { state }),
    presence: (roomId, state) => call<void>("POST", `/rooms/${roomId}/presence`, { state }),
    events: (roomId, since) => call<EventsAnswer>("GET", `/rooms/${roomId}/events` + q({ since })),

    messages: (roomId, cursor = {}, limit) =>
      call<MessagePage>("GET", `/rooms/${roomId}/messages` + q({ ...(cursor as Record<string, number>), limit })),
    postMessage: async (roomId, body, client_message_id) =>
      (await call<{ message: Message }>("POST", `/rooms/${roomId}/messages`, { body, client_message_id })).message,
    editMessage: async (roomId, messageId, body) =>
      (await call<{ message: Message }>("PATCH", `/rooms/${roomId}/messages/${messageId}`, { body })).message,
    deleteMessage: (roomId, messageId) => call<void>("DELETE", `/rooms/${roomId}/messages/${messageId}`),
    boost: async (roomId, messageId, content) =>
      (await call<{ boost: Boost }>("POST", `/rooms/${roomId}/messages/${messageId}/boosts`, { content })).boost,
    unboost: (roomId, messageId, boostId) =>
      call<void>("DELETE", `/rooms/${roomId}/messages/${messageId}/boosts/${boostId}`),

    search: async (query) => (await call<{ messages: Message[] }>("GET", "/search" + q({ q: query }))).messages,
  };
}

/** avatarURL is where a user's avatar is, when the shape carries none. */
export function avatarURL(userId: number, base = API_BASE): string {
  return `${base}/users/${userId}/avatar`;
}

/** joinLink is the address a person opens to join with the account's code. */
export function joinLink(code: string, origin = window.location.origin): string {
  return `${origin}/join/${encodeURIComponent(code)}`;
}

/** botPostURL is where a bot posts to a room with its key (Campfire's form: the raw message is the body). */
export function botPostURL(roomId: number | string, botKey: string, origin = window.location.origin, base = API_BASE): string {
  return `${origin}${base}/rooms/${roomId}/${encodeURIComponent(botKey)}/messages`;
}
