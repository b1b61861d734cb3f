import { describe, expect, it } from "vitest";
import { message } from "../test/fakes";
import { emptyRoom, lastOwnMessage, messagesReducer, type ChatMessage, type MessagesAction, type RoomMessages } from "./messages";

const run = (actions: MessagesAction[], start: RoomMessages = emptyRoom) => actions.reduce(messagesReducer, start);
const page = (messages: ReturnType<typeof message>[], more_before = false, more_after = false) => ({ messages, more_before, more_after });

function optimistic(cid: string, text: string): ChatMessage {
  return { ...message({ id: 0, text, client_message_id: cid }), body: { markdown: text, html: "", plain_text: text }, sending: "sending" };
}

describe("messagesReducer", () => {
  it("shows our message at once and swaps in the stored one when the server answers", () => {
    const s = run([{ type: "loaded", page: page([message({ id: 1 })]) }, { type: "sending", message: optimistic("c1", "hi") }]);
    expect(s.messages.map((m) => [m.id, m.sending])).toEqual([
      [1, undefined],
      [0, "sending"],
    ]);
    const done = messagesReducer(s, { type: "sent", message: message({ id: 2, text: "hi", client_message_id: "c1" }) });
    expect(done.messages.map((m) => [m.id, m.sending])).toEqual([
      [1, undefined],
      [2, undefined],
    ]);
  });

  it("matches the live echo of our message by client_message_id, whichever arrives first", () => {
    const stored = message({ id: 2, text: "hi", client_message_id: "c1" });
    const echoFirst = run([
      { type: "sending", message: optimistic("c1", "hi") },
      { type: "event", event: { type: "message.created", room_id: 7, seq: 2, data: stored } },
      { type: "sent", message: stored },
    ]);
    expect(echoFirst.messages).toHaveLength(1);
    expect(echoFirst.messages[0].sending).toBeUndefined();
    const answerFirst = run([
      { type: "sending", message: optimistic("c1", "hi") },
      { type: "sent", message: stored },
      { type: "event", event: { type: "message.created", room_id: 7, seq: 2, data: stored } },
    ]);
    expect(answerFirst.messages).toEqual(echoFirst.messages);
  });

  it("marks a failed send, retries it, and can discard it", () => {
    let s = run([{ type: "sending", message: optimistic("c1", "hi") }, { type: "failed", clientMessageId: "c1", error: "Can't reach the server." }]);
    expect(s.messages[0]).toMatchObject({ sending: "failed", error: "Can't reach the server." });
    s = messagesReducer(s, { type: "retrying", clientMessageId: "c1" });
    expect(s.messages[0]).toMatchObject({ sending: "sending", error: undefined });
    s = messagesReducer(s, { type: "failed", clientMessageId: "c1", error: "x" });
    s = messagesReducer(s, { type: "discarded", clientMessageId: "c1" });
    expect(s.messages).toEqual([]);
  });

  it("keeps messages being sent when the room is loaded again", () => {
    const s = run([{ type: "sending", message: optimistic("c1", "hi") }, { type: "loaded", page: page([message({ id: 5 })]) }]);
    expect(s.messages.map((m) => m.id)).toEqual([5, 0]);
  });

  it("puts older pages before, in id order, without duplicates", () => {
    const s = run([
      { type: "loaded", page: page([message({ id: 10 }), message({ id: 11 })], true) },
      { type: "older", page: page([message({ id: 8 }), message({ id: 9 }), message({ id: 10 })], false) },
    ]);
    expect(s.messages.map((m) => m.id)).toEqual([8, 9, 10, 11]);
    expect(s.moreBefore).toBe(false);
  });

  it("applies edits, deletions and boosts from live events, each only once", () => {
    const m = message({ id: 3, text: "old" });
    const boost = { id: 50, message_id: 3, content: "🔥", booster: { id: 1, name: "Ada" }, created_at: m.created_at };
    const s = run([
      { type: "loaded", page: page([m, message({ id: 4 })]) },
      { type: "event", event: { type: "message.updated", room_id: 7, seq: 5, data: { ...m, body: { ...m.body, markdown: "new", html: "<p>new</p>" } } } },
      { type: "event", event: { type: "boost.created", room_id: 7, seq: 6, data: boost } },
      { type: "boosted", boost },
      { type: "event", event: { type: "message.deleted", room_id: 7, seq: 7, data: { id: 4 } } },
    ]);
    expect(s.messages.map((x) => x.id)).toEqual([3]);
    expect(s.messages[0].body.html).toBe("<p>new</p>");
    expect(s.messages[0].boosts).toHaveLength(1);
    const unboosted = messagesReducer(s, { type: "event", event: { type: "boost.deleted", room_id: 7, seq: 8, data: { id: 50, message_id: 3 } } });
    expect(unboosted.messages[0].boosts).toEqual([]);
  });

  it("does not append live messages across a gap while reading the past (permalink)", () => {
    const s = run([
      { type: "loaded", page: page([message({ id: 3 })], true, true) },
      { type: "event", event: { type: "message.created", room_id: 7, seq: 99, data: message({ id: 99 }) } },
    ]);
    expect(s.messages.map((m) => m.id)).toEqual([3]);
  });

  it("finds the last message of ours for ↑", () => {
    const mine = message({ id: 2, creator: { id: 1, name: "Ada" } });
    const msgs: ChatMessage[] = [message({ id: 1, creator: { id: 1, name: "Ada" } }), mine, message({ id: 3 }), optimistic("c9", "unsent")];
    expect(lastOwnMessage(msgs, 1)).toBe(mine);
    expect(lastOwnMessage(msgs, 42)).toBeUndefined();
  });
});
