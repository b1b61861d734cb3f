import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FakeEventSource, FakeSocket } from "../test/fakes";
import { backoffDelay, LiveConnection, parseFrame, type ConnectionStatus, type ProbeResult } from "./live";
import type { ChatEvent } from "./types";

function connection(opts: { probe?: () => Promise<ProbeResult>; random?: () => number; post?: (p: string, b: unknown) => Promise<void> } = {}) {
  const events: ChatEvent[] = [];
  const states: ConnectionStatus[] = [];
  const live = new LiveConnection({
    socketURL: "ws://test/api/v1/ws",
    createSocket: (url) => new FakeSocket(url),
    createEventSource: (url) => new FakeEventSource(url),
    probe: opts.probe ?? (async () => "down"),
    post: opts.post ?? (async () => {}),
    random: opts.random ?? (() => 0.5),
    backoffBase: 500,
    backoffMax: 8000,
    offlineAfter: 3,
  });
  live.addListener((e) => events.push(e));
  live.onStatus((s) => states.push(s));
  return { live, events, states };
}

const created = (roomId: number, seq: number, id = seq) => ({ type: "message.created", room_id: roomId, seq, data: { id } });

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.reset();
  FakeEventSource.reset();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("parseFrame", () => {
  it("splits a frame into one event per line and skips what is not an event", () => {
    const evs = parseFrame('{"type":"hello","data":{}}\n\n{"type":"typing","room_id":7}\nnot json\n{"no":"type"}');
    expect(evs.map((e) => e.type)).toEqual(["hello", "typing"]);
  });
});

describe("backoffDelay", () => {
  it("doubles from the base up to the cap, with jitter in the upper half", () => {
    const lo = () => 0;
    const hi = () => 1;
    expect([0, 1, 2, 3].map((n) => backoffDelay(n, 500, 8000, hi))).toEqual([500, 1000, 2000, 4000]);
    expect(backoffDelay(10, 500, 8000, hi)).toBe(8000);
    expect(backoffDelay(10, 500, 8000, lo)).toBe(4000);
    expect(backoffDelay(2, 500, 8000, lo)).toBe(1000);
  });
});

describe("LiveConnection", () => {
  it("subscribes the followed rooms from their seq once the socket opens", () => {
    const { live, states } = connection();
    live.subscribe(7, 118);
    live.start();
    const ws = FakeSocket.last();
    expect(ws.url).toBe("ws://test/api/v1/ws");
    ws.open();
    expect(ws.sent).toEqual([{ type: "subscribe", room_id: 7, since: 118 }]);
    live.subscribe(9, 4);
    expect(ws.sent[1]).toEqual({ type: "subscribe", room_id: 9, since: 4 });
    expect(states.at(-1)?.state).toBe("connected");
  });

  it("delivers events, several to a frame, and drops durable ones it has already seen", () => {
    const { live, events } = connection();
    live.subscribe(7, 10);
    live.start();
    const ws = FakeSocket.last();
    ws.open();
    ws.receive(created(7, 10), created(7, 11), { type: "typing", room_id: 7, data: {} });
    ws.receive(created(7, 11), created(7, 12));
    expect(events.map((e) => `${e.type}:${e.seq ?? "-"}`)).toEqual(["message.created:11", "typing:-", "message.created:12"]);
    expect(live.lastSeq(7)).toBe(12);
  });

  it("reconnects after a drop with growing, jittered waits and resumes every room from the last seq seen", async () => {
    const { live, states } = connection();
    live.subscribe(7, 10);
    live.subscribe(9, 3);
    live.start();
    FakeSocket.last().open();
    FakeSocket.last().receive(created(7, 11), created(7, 12), created(9, 4));

    FakeSocket.last().drop();
    expect(states.at(-1)).toMatchObject({ state: "reconnecting", attempt: 1 });
    // Attempt 0 waits between 250 and 500 ms (random 0.5 → 375).
    await vi.advanceTimersByTimeAsync(374);
    expect(FakeSocket.all).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.all).toHaveLength(2);

    // The server is still down: the next waits grow.
    FakeSocket.last().drop();
    await vi.advanceTimersByTimeAsync(0);
    expect(states.at(-1)).toMatchObject({ state: "reconnecting", attempt: 2 });
    await vi.advanceTimersByTimeAsync(749);
    expect(FakeSocket.all).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.all).toHaveLength(3);

    const ws = FakeSocket.last();
    ws.open();
    expect(ws.sent).toEqual([
      { type: "subscribe", room_id: 7, since: 12 },
      { type: "subscribe", room_id: 9, since: 4 },
    ]);
    expect(states.at(-1)).toMatchObject({ state: "connected", attempt: 0, resumed: true });
  });

  it("says offline after repeated failures, and retries at once when asked", async () => {
    const { live, states } = connection();
    live.start();
    for (let i = 0; i < 3; i++) {
      FakeSocket.last().drop();
      await vi.advanceTimersByTimeAsync(0);
      if (i < 2) await vi.advanceTimersByTimeAsync(10000);
    }
    expect(states.at(-1)).toMatchObject({ state: "offline", attempt: 3 });
    expect(states.at(-1)?.retryAt).toBeGreaterThan(Date.now());
    const before = FakeSocket.all.length;
    live.reconnectNow();
    expect(FakeSocket.all).toHaveLength(before + 1);
  });

  it("hands a resync to the room's owner, who reloads and subscribes again from the new seq", () => {
    const { live, events } = connection();
    live.subscribe(7, 10);
    live.start();
    const ws = FakeSocket.last();
    ws.open();
    ws.receive({ type: "resync", room_id: 7 });
    expect(events.at(-1)).toEqual({ type: "resync", room_id: 7 });
    live.subscribe(7, 500, { reset: true });
    expect(ws.sent.at(-1)).toEqual({ type: "subscribe", room_id: 7, since: 500 });
    ws.receive(created(7, 500), created(7, 501));
    expect(events.at(-1)?.seq).toBe(501);
    expect(events.filter((e) => e.type === "message.created")).toHaveLength(1);
  });

  it("leaves a room whose members.removed names us, and follows it no more", () => {
    const { live, events } = connection();
    live.subscribe(7, 10);
    live.subscribe(9, 3);
    live.start();
    const ws = FakeSocket.last();
    ws.open();
    ws.receive({ type: "hello", data: { user: { id: 5, name: "Bob" } } });
    ws.receive({ type: "members.removed", room_id: 9, seq: 4, data: { user_ids: [6] } });
    expect(events.at(-1)?.type).toBe("members.removed");
    expect(live.lastSeq(9)).toBe(4);
    ws.receive({ type: "members.removed", room_id: 7, seq: 11, data: { user_ids: [4, 5] } });
    expect(events.slice(-2).map((e) => e.type)).toEqual(["members.removed", "room.removed"]);
    expect(events.at(-1)).toEqual({ type: "room.removed", room_id: 7, data: { id: 7 } });
    expect(live.lastSeq(7)).toBeUndefined();
  });

  it("says present again in every room after a reconnect, and stops saying it when absent", async () => {
    const { live } = connection();
    live.subscribe(7, 1);
    live.start();
    FakeSocket.last().open();
    live.presence(7, "present");
    live.typing(7, "start");
    expect(FakeSocket.last().sent.slice(1)).toEqual([
      { type: "presence", room_id: 7, state: "present" },
      { type: "typing", room_id: 7, state: "start" },
    ]);
    FakeSocket.last().drop();
    await vi.advanceTimersByTimeAsync(1000);
    FakeSocket.last().open();
    expect(FakeSocket.last().sent).toEqual([
      { type: "subscribe", room_id: 7, since: 1 },
      { type: "presence", room_id: 7, state: "present" },
    ]);
    live.presence(7, "absent");
    FakeSocket.last().drop();
    await vi.advanceTimersByTimeAsync(1000);
    FakeSocket.last().open();
    expect(FakeSocket.last().sent).toEqual([{ type: "subscribe", room_id: 7, since: 1 }]);
  });

  it("falls back to server-sent events when the server answers HTTP but refuses the WebSocket", async () => {
    const posts: [string, unknown][] = [];
    const { live, events, states } = connection({ probe: async () => "ok", post: async (p, b) => void posts.push([p, b]) });
    live.subscribe(7, 10);
    live.start();
    FakeSocket.last().drop(); // refused before opening
    await vi.advanceTimersByTimeAsync(1000);
    FakeSocket.last().drop(); // refused again
    await vi.advanceTimersByTimeAsync(0);

    expect(FakeSocket.all).toHaveLength(2);
    const es = FakeEventSource.last();
    expect(es.url).toBe("/api/v1/sse?rooms=7:10");
    es.open();
    expect(states.at(-1)).toMatchObject({ state: "connected", transport: "sse" });
    es.receive(created(7, 11));
    expect(events.at(-1)?.seq).toBe(11);

    live.typing(7, "start");
    live.presence(7, "present");
    await vi.advanceTimersByTimeAsync(0);
    expect(posts).toEqual([
      ["/rooms/7/typing", { state: "start" }],
      ["/rooms/7/presence", { state: "present" }],
    ]);

    // Following another room restarts the stream with every cursor.
    live.subscribe(9, 2);
    expect(es.closed).toBe(true);
    expect(FakeEventSource.last().url).toBe("/api/v1/sse?rooms=7:11,9:2");
  });

  it("reports a session that ended instead of retrying forever", async () => {
    const { live, states } = connection({ probe: async () => "unauthenticated" });
    live.start();
    FakeSocket.last().drop();
    await vi.advanceTimersByTimeAsync(0);
    expect(states.at(-1)?.state).toBe("signed_out");
    await vi.advanceTimersByTimeAsync(60000);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it("stops for good: no reconnect after stop", async () => {
    const { live } = connection();
    live.start();
    const ws = FakeSocket.last();
    ws.open();
    live.stop();
    expect(ws.closedByClient).toBe(true);
    await vi.advanceTimersByTimeAsync(60000);
    expect(FakeSocket.all).toHaveLength(1);
  });
});
