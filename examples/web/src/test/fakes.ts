// Fakes for tests: a WebSocket and an EventSource driven by hand, and an Api
// whose every method can be replaced.
import { vi } from "vitest";
import type { Api } from "../api/client";
import type { EventSourceLike, SocketLike } from "../api/live";
import type { Bot, Features, Message, Room, User } from "../api/types";

export class FakeSocket implements SocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: unknown[] = [];
  onopen: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  closedByClient = false;

  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }

  static last(): FakeSocket {
    return FakeSocket.all[FakeSocket.all.length - 1];
  }

  static reset() {
    FakeSocket.all = [];
  }

  send(data: string) {
    this.sent.push(JSON.parse(data));
  }

  close() {
    this.closedByClient = true;
    this.readyState = 3;
  }

  /** The server accepts the connection. */
  open() {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
  }

  /** The server sends one frame (events separated by newlines). */
  receive(...events: object[]) {
    this.onmessage?.(new MessageEvent("message", { data: events.map((e) => JSON.stringify(e)).join("\n") }));
  }

  /** The connection drops (or was refused, if never opened). */
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.(new CloseEvent("close", { code }));
  }
}

export class FakeEventSource implements EventSourceLike {
  static all: FakeEventSource[] = [];
  readyState = 0;
  onopen: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  closed = false;

  constructor(readonly url: string) {
    FakeEventSource.all.push(this);
  }

  static last(): FakeEventSource {
    return FakeEventSource.all[FakeEventSource.all.length - 1];
  }

  static reset() {
    FakeEventSource.all = [];
  }

  close() {
    this.closed = true;
    this.readyState = 2;
  }

  open() {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
  }

  receive(event: object) {
    this.onmessage?.(new MessageEvent("message", { data: JSON.stringify(event) }));
  }

  fail() {
    this.readyState = 2;
    this.onerror?.(new Event("error"));
  }
}

export const ada: User = { id: 1, name: "Ada Lovelace", role: "admin", status: "active", bio: "", avatar_url: "/api/v1/users/1/avatar", email: "ada@example.com" };
export const bob: User = { id: 2, name: "Bob Babbage", role: "member", status: "active", bio: "", avatar_url: "/api/v1/users/2/avatar" };

export const tally: Bot = { id: 3, name: "Tally", role: "bot", status: "active", bio: "", avatar_url: "/api/v1/users/3/avatar", webhook_url: "https://hooks.example.com/tally" };

/** What a server with its defaults offers, bots turned off; tests that need bots say so. */
export const features: Features = { search: true, boosts: true, builtin_auth: true, bots: false, attachments: false, link_previews: false, push: false };

export const allTalk: Room = {
  id: 7,
  kind: "open",
  name: "All Talk",
  creator_id: 1,
  created_at: "2026-01-01T08:00:00Z",
  updated_at: "2026-01-01T08:00:00Z",
  last_seq: 10,
  membership: { involvement: "mentions", unread: false },
};

let nextId = 100;

/** message makes a stored message; times default to a fixed morning. */
export function message(over: Partial<Message> & { text?: string } = {}): Message {
  const id = over.id ?? nextId++;
  const text = over.text ?? `message ${id}`;
  const { text: _omit, ...rest } = over;
  void _omit;
  return {
    id,
    room_id: 7,
    seq: id,
    client_message_id: `cid-${id}`,
    creator: { id: bob.id, name: bob.name, role: bob.role, avatar_url: bob.avatar_url },
    body: { markdown: text, html: `<p>${text}</p>`, plain_text: text },
    mentions: [],
    sound: null,
    boosts: [],
    created_at: "2026-01-01T09:00:00Z",
    updated_at: "2026-01-01T09:00:00Z",
    ...rest,
  };
}

/** fakeApi answers like an empty server; tests replace what they need. */
export function fakeApi(over: Partial<Api> = {}): Api {
  const never = () => new Promise<never>(() => {});
  const api: Api = {
    features: vi.fn(async () => features),
    setupNeeded: vi.fn(async () => false),
    setup: vi.fn(never),
    signIn: vi.fn(never),
    signOut: vi.fn(async () => {}),
    session: vi.fn(async () => ada),
    join: vi.fn(never),
    account: vi.fn(async () => ({ name: "Campfire", join_code: "abcd-efgh-jkmn", settings: { restrict_room_creation_to_admins: false } })),
    updateAccount: vi.fn(never),
    regenerateJoinCode: vi.fn(never),
    users: vi.fn(async () => [ada, bob]),
    user: vi.fn(async () => bob),
    updateMe: vi.fn(never),
    updateUser: vi.fn(never),
    bots: vi.fn(async () => []),
    createBot: vi.fn(never),
    updateBot: vi.fn(never),
    resetBotKey: vi.fn(never),
    deleteBot: vi.fn(never),
    rooms: vi.fn(async () => [allTalk]),
    room: vi.fn(async () => allTalk),
    createRoom: vi.fn(never),
    updateRoom: vi.fn(never),
    deleteRoom: vi.fn(never),
    setInvolvement: vi.fn(never),
    markRead: vi.fn(async () => {}),
    typing: vi.fn(async () => {}),
    presence: vi.fn(async () => {}),
    events: vi.fn(async () => ({ events: [], seq: 0 })),
    messages: vi.fn(async () => ({ messages: [], more_before: false, more_after: false })),
    postMessage: vi.fn(never),
    editMessage: vi.fn(never),
    deleteMessage: vi.fn(async () => {}),
    boost: vi.fn(never),
    unboost: vi.fn(async () => {}),
    search: vi.fn(async () => []),
  };
  return { ...api, ...over };
}
