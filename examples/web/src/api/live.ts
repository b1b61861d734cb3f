// The live half of campfire's protocol: the event stream over a WebSocket
// (GET /api/v1/ws), or Server-Sent Events (GET /api/v1/sse) when WebSockets
// are refused. It reconnects with exponential backoff and jitter, and resumes
// every followed room from the last seq it saw, so nothing is missed.
import { API_BASE } from "./client";
import type { ChatEvent } from "./types";

export type ConnectionState =
  /** First connection under way. */
  | "connecting"
  /** Events are flowing. */
  | "connected"
  /** Lost the connection; trying again soon. */
  | "reconnecting"
  /** The network is gone or the server has been unreachable for a while; still trying. */
  | "offline"
  /** The session ended: sign in again. */
  | "signed_out";

export type TransportKind = "websocket" | "sse";

export interface ConnectionStatus {
  state: ConnectionState;
  transport: TransportKind;
  /** Failed attempts since the last success. */
  attempt: number;
  /** When the next attempt starts (ms since epoch), while waiting. */
  retryAt?: number;
  /** Whether any connection has succeeded before this one (a resume, not a first start). */
  resumed: boolean;
}

/** The parts of a WebSocket the connection uses; tests give a fake. */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: Event) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onerror: ((ev: Event) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** The parts of an EventSource the connection uses. */
export interface EventSourceLike {
  readonly readyState: number;
  onopen: ((ev: Event) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  onerror: ((ev: Event) => void) | null;
  close(): void;
}

/** What a failed connection attempt found when it asked the server over plain HTTP. */
export type ProbeResult = "ok" | "unauthenticated" | "down";

export interface LiveOptions {
  base?: string;
  /** Full ws:// URL of the socket; by default derived from the page's location. */
  socketURL?: string;
  createSocket?: (url: string) => SocketLike;
  createEventSource?: (url: string) => EventSourceLike;
  /** Asks the server whether it is up and the session valid (GET /session). */
  probe?: () => Promise<ProbeResult>;
  /** Typing and presence over HTTP, for the SSE transport. */
  post?: (path: string, body: unknown) => Promise<void>;
  random?: () => number;
  now?: () => number;
  isOnline?: () => boolean;
  /** First backoff step, in ms. */
  backoffBase?: number;
  /** Longest wait between attempts, in ms. */
  backoffMax?: number;
  /** Failed attempts after which the state says "offline" rather than "reconnecting". */
  offlineAfter?: number;
}

const WS_OPEN = 1;

type Listener = (ev: ChatEvent) => void;
type StatusListener = (s: ConnectionStatus) => void;

/**
 * backoffDelay is the wait before attempt n (0-based): exponential, capped,
 * with "equal jitter" so a crowd of clients does not come back at once.
 */
export function backoffDelay(n: number, base: number, max: number, random: () => number): number {
  const ceiling = Math.min(max, base * 2 ** Math.min(n, 20));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** parseFrame splits one WebSocket frame into events (several may share a frame, one a line). */
export function parseFrame(data: string): ChatEvent[] {
  const out: ChatEvent[] = [];
  for (const line of data.split("\n")) {
    const s = line.trim();
    if (!s) continue;
    try {
      const v = JSON.parse(s);
      if (v && typeof v === "object" && typeof v.type === "string") out.push(v as ChatEvent);
    } catch {
      // A line that is not JSON is not an event; skip it rather than drop the frame.
    }
  }
  return out;
}

export class LiveConnection {
  private readonly opts: Required<Omit<LiveOptions, "socketURL" | "base">> & { socketURL: string; base: string };
  private readonly listeners = new Set<Listener>();
  private readonly statusListeners = new Set<StatusListener>();
  /** Rooms followed, with the seq of the last durable event seen in each. */
  /** me is the signed-in user, from the hello. */
  private me: number | undefined;
  private readonly cursors = new Map<number, number>();
  private readonly present = new Set<number>();

  private socket: SocketLike | null = null;
  private source: EventSourceLike | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private presenceTimer: ReturnType<typeof setInterval> | null = null;
  private started = false;
  private everConnected = false;
  /** WebSocket attempts that failed while plain HTTP worked: the socket is refused. */
  private refusals = 0;
  private sseRefusals = 0;
  private status: ConnectionStatus = { state: "connecting", transport: "websocket", attempt: 0, resumed: false };

  constructor(options: LiveOptions = {}) {
    const base = options.base ?? API_BASE;
    this.opts = {
      base,
      socketURL: options.socketURL ?? defaultSocketURL(base),
      createSocket: options.createSocket ?? ((url) => new WebSocket(url)),
      createEventSource: options.createEventSource ?? ((url) => new EventSource(url, { withCredentials: true })),
      probe: options.probe ?? (() => defaultProbe(base)),
      post: options.post ?? ((path, body) => defaultPost(base, path, body)),
      random: options.random ?? Math.random,
      now: options.now ?? Date.now,
      isOnline: options.isOnline ?? (() => (typeof navigator === "undefined" ? true : navigator.onLine !== false)),
      backoffBase: options.backoffBase ?? 500,
      backoffMax: options.backoffMax ?? 15000,
      offlineAfter: options.offlineAfter ?? 4,
    };
  }

  /** start opens the connection. It is safe to call more than once. */
  start(): void {
    if (this.started) return;
    this.started = true;
    if (typeof window !== "undefined") {
      window.addEventListener("online", this.onOnline);
      document.addEventListener("visibilitychange", this.onVisible);
    }
    this.connect();
  }

  /** stop closes the connection for good (sign out, unmount). */
  stop(): void {
    if (!this.started) return;
    this.started = false;
    if (typeof window !== "undefined") {
      window.removeEventListener("online", this.onOnline);
      document.removeEventListener("visibilitychange", this.onVisible);
    }
    this.clearTimer();
    if (this.presenceTimer) clearInterval(this.presenceTimer);
    this.presenceTimer = null;
    this.closeTransport();
  }

  getStatus(): ConnectionStatus {
    return this.status;
  }

  /** addListener receives every event: the followed rooms', the user's own, and resync. */
  addListener(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  onStatus(fn: StatusListener): () => void {
    this.statusListeners.add(fn);
    return () => this.statusListeners.delete(fn);
  }

  /**
   * subscribe follows a room from since (the room's last_seq when it was
   * loaded). Following an already-followed room keeps the later cursor,
   * unless reset (after a resync, when the room was loaded anew).
   */
  subscribe(roomId: number, since: number, opts: { reset?: boolean } = {}): void {
    const had = this.cursors.get(roomId);
    const cursor = had === undefined || opts.reset ? since : Math.max(had, since);
    this.cursors.set(roomId, cursor);
    if (had !== undefined && !opts.reset) return;
    if (this.socket && this.socket.readyState === WS_OPEN) {
      this.sendFrame({ type: "subscribe", room_id: roomId, since: cursor });
    } else if (this.source) {
      this.reopenSource();
    }
  }

  unsubscribe(roomId: number): void {
    if (!this.cursors.delete(roomId)) return;
    this.present.delete(roomId);
    if (this.socket && this.socket.readyState === WS_OPEN) {
      this.sendFrame({ type: "unsubscribe", room_id: roomId });
    } else if (this.source) {
      this.reopenSource();
    }
  }

  /** lastSeq is the seq of the last durable event seen in a followed room. */
  lastSeq(roomId: number): number | undefined {
    return this.cursors.get(roomId);
  }

  typing(roomId: number, state: "start" | "stop"): void {
    if (this.socket && this.socket.readyState === WS_OPEN) {
      this.sendFrame({ type: "typing", room_id: roomId, state });
    } else if (this.source && this.status.state === "connected") {
      this.opts.post(`/rooms/${roomId}/typing`, { state }).catch(() => {});
    }
  }

  /** presence says whether the user is looking at a room; it is said again after every reconnect. */
  presence(roomId: number, state: "present" | "absent"): void {
    if (state === "present") this.present.add(roomId);
    else this.present.delete(roomId);
    if (this.socket && this.socket.readyState === WS_OPEN) {
      this.sendFrame({ type: "presence", room_id: roomId, state });
    } else if (this.source) {
      this.opts.post(`/rooms/${roomId}/presence`, { state }).catch(() => {});
    }
  }

  /** reconnectNow skips the wait (the network came back, the tab became visible). */
  reconnectNow(): void {
    if (!this.started || this.timer === null) return;
    this.clearTimer();
    this.connect();
  }

  // --- internals ---

  private onOnline = () => this.reconnectNow();
  private onVisible = () => {
    if (document.visibilityState === "visible") this.reconnectNow();
  };

  private setStatus(s: Partial<ConnectionStatus>) {
    this.status = { ...this.status, ...s };
    for (const fn of [...this.statusListeners]) fn(this.status);
  }

  private emit(ev: ChatEvent) {
    for (const fn of [...this.listeners]) {
      try {
        fn(ev);
      } catch (err) {
        console.error("campfire: event listener failed", err);
      }
    }
  }

  private clearTimer() {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private closeTransport() {
    const ws = this.socket;
    this.socket = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close(1000, "closed");
      } catch {
        // already closed
      }
    }
    const es = this.source;
    this.source = null;
    if (es) {
      es.onopen = es.onmessage = es.onerror = null;
      es.close();
    }
  }

  private connect() {
    if (!this.started) return;
    this.closeTransport();
    if (this.status.transport === "sse") this.openSource();
    else this.openSocket();
  }

  private openSocket() {
    let opened = false;
    let ws: SocketLike;
    try {
      ws = this.opts.createSocket(this.opts.socketURL);
    } catch {
      this.failed(false);
      return;
    }
    this.socket = ws;
    ws.onopen = () => {
      opened = true;
      this.refusals = 0;
      this.connected();
      for (const [roomId, since] of this.cursors) this.sendFrame({ type: "subscribe", room_id: roomId, since });
      for (const roomId of this.present) this.sendFrame({ type: "presence", room_id: roomId, state: "present" });
    };
    ws.onmessage = (e) => {
      if (typeof e.data !== "string") return;
      for (const ev of parseFrame(e.data)) this.receive(ev);
    };
    ws.onerror = () => {
      // onclose follows and decides.
    };
    ws.onclose = () => {
      if (this.socket !== ws) return;
      this.socket = null;
      this.failed(opened);
    };
  }

  private sourceURL(): string {
    const rooms = [...this.cursors].map(([id, seq]) => `${id}:${seq}`).join(",");
    return this.opts.base + "/sse" + (rooms ? "?rooms=" + rooms : "");
  }

  private openSource() {
    let opened = false;
    let es: EventSourceLike;
    try {
      es = this.opts.createEventSource(this.sourceURL());
    } catch {
      this.failed(false);
      return;
    }
    this.source = es;
    es.onopen = () => {
      opened = true;
      this.sseRefusals = 0;
      this.connected();
      for (const roomId of this.present) this.opts.post(`/rooms/${roomId}/presence`, { state: "present" }).catch(() => {});
      if (!this.presenceTimer) {
        // HTTP presence is not tied to a connection: refresh it now and then, as Campfire does.
        this.presenceTimer = setInterval(() => {
          if (!this.source) return;
          for (const roomId of this.present) this.opts.post(`/rooms/${roomId}/presence`, { state: "present" }).catch(() => {});
        }, 50000);
      }
    };
    es.onmessage = (e) => {
      if (typeof e.data !== "string") return;
      for (const ev of parseFrame(e.data)) this.receive(ev);
    };
    es.onerror = () => {
      if (this.source !== es) return;
      // EventSource retries by itself (with Last-Event-ID) unless it gave up.
      if (es.readyState === 2 /* CLOSED */) {
        this.source = null;
        es.onopen = es.onmessage = es.onerror = null;
        es.close();
        this.failed(opened);
      } else if (this.status.state === "connected") {
        this.setStatus({ state: "reconnecting" });
      }
    };
  }

  /** reopenSource starts the stream again with the current rooms (their cursors in the URL). */
  private reopenSource() {
    if (!this.started || this.status.transport !== "sse") return;
    this.clearTimer();
    this.closeTransport();
    this.openSource();
  }

  private connected() {
    // A stream restarted to follow another room was never lost: nothing to tell.
    if (this.status.state === "connected" && this.status.attempt === 0) return;
    const resumed = this.everConnected;
    this.everConnected = true;
    this.setStatus({ state: "connected", attempt: 0, retryAt: undefined, resumed });
  }

  private receive(ev: ChatEvent) {
    if (ev.type === "hello") {
      this.me = (ev.data as { user?: { id?: number } } | undefined)?.user?.id;
    }
    if (ev.type === "members.removed" && typeof ev.room_id === "number" && this.me !== undefined) {
      const ids = (ev.data as { user_ids?: number[] } | undefined)?.user_ids ?? [];
      if (ids.includes(this.me)) {
        // Our access ended here: the server follows the room no more. Whoever shows
        // it leaves, as for room.removed (which also comes, unless it was lost).
        this.cursors.delete(ev.room_id);
        this.emit(ev);
        this.emit({ type: "room.removed", room_id: ev.room_id, data: { id: ev.room_id } });
        return;
      }
    }
    if (ev.type === "resync" && typeof ev.room_id === "number") {
      // The server stopped following the room: whoever shows it reloads it and subscribes again.
      this.cursors.delete(ev.room_id);
      this.emit(ev);
      return;
    }
    if (typeof ev.seq === "number" && ev.seq > 0 && typeof ev.room_id === "number") {
      const last = this.cursors.get(ev.room_id);
      if (last !== undefined && ev.seq <= last) return; // seen already (a replay overlapping a load)
      if (last !== undefined) this.cursors.set(ev.room_id, ev.seq);
    }
    this.emit(ev);
  }

  private sendFrame(frame: object) {
    try {
      this.socket?.send(JSON.stringify(frame));
    } catch {
      // the close handler reconnects
    }
  }

  /** failed handles a lost or refused connection: find out why, then wait and try again. */
  private failed(wasOpen: boolean) {
    if (!this.started) return;
    if (wasOpen) {
      this.retry();
      return;
    }
    const transport = this.status.transport;
    this.opts.probe().then(
      (res) => {
        if (!this.started || this.socket || this.source) return;
        if (res === "unauthenticated") {
          this.setStatus({ state: "signed_out", retryAt: undefined });
          return;
        }
        if (res === "ok") {
          // The server answers HTTP but refused the stream.
          if (transport === "websocket" && ++this.refusals >= 2) {
            this.setStatus({ transport: "sse", attempt: 0 });
            this.connect();
            return;
          }
          if (transport === "sse") this.sseRefusals++;
        }
        this.retry();
      },
      () => this.retry(),
    );
  }

  private retry() {
    if (!this.started) return;
    this.clearTimer();
    const attempt = this.status.attempt;
    let delay = backoffDelay(attempt, this.opts.backoffBase, this.opts.backoffMax, this.opts.random);
    if (this.sseRefusals >= 2) {
      // Neither transport is served: try again now and then, WebSocket first.
      delay = Math.max(delay, 30000);
      this.sseRefusals = 0;
      this.refusals = 0;
      this.status = { ...this.status, transport: "websocket" };
    }
    const offline = !this.opts.isOnline() || attempt + 1 >= this.opts.offlineAfter;
    this.setStatus({
      state: offline ? "offline" : "reconnecting",
      attempt: attempt + 1,
      retryAt: this.opts.now() + delay,
    });
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }
}

function defaultSocketURL(base: string): string {
  if (typeof window === "undefined") return base + "/ws";
  const proto = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${window.location.host}${base}/ws`;
}

async function defaultProbe(base: string): Promise<ProbeResult> {
  try {
    const res = await fetch(base + "/session", { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (res.status === 401) return "unauthenticated";
    return res.ok ? "ok" : "down";
  } catch {
    return "down";
  }
}

async function defaultPost(base: string, path: string, body: unknown): Promise<void> {
  await fetch(base + path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}
