import { act, fireEvent, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Message } from "../api/types";
import { SessionContext } from "../hooks/contexts";
import type { ChatMessage } from "../state/messages";
import { ada, features, message } from "../test/fakes";
import { MessageList, type MessageHandlers, type MessageListProps } from "./MessageList";

// jsdom lays nothing out: give the scroller a height of 400px and each message 40px.
const ROW = 40;
const VIEW = 400;
const tops = new WeakMap<Element, number>();
const isScroller = (el: Element) => el.classList.contains("message-scroller");
const contentHeight = (el: Element) => el.querySelectorAll("article").length * ROW + 100;
const saved: Record<string, PropertyDescriptor | undefined> = {};

beforeAll(() => {
  for (const k of ["scrollHeight", "clientHeight", "scrollTop"]) saved[k] = Object.getOwnPropertyDescriptor(Element.prototype, k);
  Object.defineProperty(Element.prototype, "scrollHeight", {
    configurable: true,
    get(this: Element) {
      return isScroller(this) ? contentHeight(this) : 0;
    },
  });
  Object.defineProperty(Element.prototype, "clientHeight", {
    configurable: true,
    get(this: Element) {
      return isScroller(this) ? VIEW : 0;
    },
  });
  Object.defineProperty(Element.prototype, "scrollTop", {
    configurable: true,
    get(this: Element) {
      return tops.get(this) ?? 0;
    },
    set(this: Element, v: number) {
      const max = Math.max(0, contentHeight(this) - VIEW);
      tops.set(this, Math.max(0, Math.min(v, max)));
    },
  });
});

afterAll(() => {
  for (const [k, d] of Object.entries(saved)) if (d) Object.defineProperty(Element.prototype, k, d);
});

const handlers: MessageHandlers = {
  retry: vi.fn(),
  discard: vi.fn(),
  edit: vi.fn(async () => {}),
  remove: vi.fn(async () => {}),
  boost: vi.fn(async () => {}),
  unboost: vi.fn(async () => {}),
  startEditing: vi.fn(),
};

function minute(n: number) {
  return new Date(Date.UTC(2026, 0, 5, 9, n)).toISOString();
}

function msgs(from: number, to: number, over: Partial<Message> = {}): Message[] {
  const out: Message[] = [];
  for (let i = from; i <= to; i++) out.push(message({ id: i, text: `message ${i}`, created_at: minute(i * 10), ...over }));
  return out;
}

function setup(initial: ChatMessage[], over: Partial<MessageListProps> = {}) {
  const props: MessageListProps = {
    messages: initial,
    loaded: true,
    moreBefore: false,
    moreAfter: false,
    onLoadOlder: vi.fn(),
    onLoadNewer: vi.fn(),
    onJumpToLatest: vi.fn(),
    roomId: 7,
    editingId: null,
    onStopEditing: vi.fn(),
    handlers,
    boostsEnabled: true,
    ...over,
  };
  const session = { me: ada, features, setMe: () => {}, signOut: async () => {} };
  const ui = (p: MessageListProps) => (
    <SessionContext.Provider value={session}>
      <MessageList {...p} />
    </SessionContext.Provider>
  );
  const utils = render(ui(props));
  const log = screen.getByRole("log", { name: "Messages" });
  const update = (next: Partial<MessageListProps>) => {
    Object.assign(props, next);
    utils.rerender(ui({ ...props }));
  };
  const scrollTo = (top: number) => {
    log.scrollTop = top;
    fireEvent.scroll(log);
  };
  const bottom = () => log.scrollHeight - log.clientHeight;
  return { props, log, update, scrollTo, bottom };
}

describe("MessageList grouping", () => {
  it("shows the author once for messages sent within five minutes, with a day separator", () => {
    const m1 = message({ id: 1, text: "first", created_at: "2026-01-05T09:00:00Z" });
    const m2 = message({ id: 2, text: "second", created_at: "2026-01-05T09:03:00Z" });
    const m3 = message({ id: 3, text: "much later", created_at: "2026-01-05T09:30:00Z" });
    const m4 = message({ id: 4, text: "next day", created_at: "2026-01-07T09:30:00Z" });
    setup([m1, m2, m3, m4]);
    const articles = screen.getAllByRole("article");
    expect(articles).toHaveLength(4);
    expect(within(articles[0]).getByRole("link", { name: "Bob Babbage" })).toBeInTheDocument();
    expect(within(articles[1]).queryByRole("link", { name: "Bob Babbage" })).not.toBeInTheDocument();
    expect(within(articles[2]).getByRole("link", { name: "Bob Babbage" })).toBeInTheDocument();
    expect(screen.getAllByRole("separator")).toHaveLength(2);
  });

  it("renders the server's sanitized HTML for stored messages and plain text for ours being sent", () => {
    const stored = message({ id: 1, body: { markdown: "**hi**", html: "<p><strong>hi</strong></p>", plain_text: "hi" } });
    const pending: ChatMessage = { ...message({ id: 0, client_message_id: "c1", creator: { id: ada.id, name: ada.name } }), body: { markdown: "<b>raw</b>", html: "", plain_text: "<b>raw</b>" }, sending: "sending" };
    setup([stored, pending]);
    expect(screen.getByText("hi").tagName).toBe("STRONG");
    expect(screen.getByText("<b>raw</b>")).toBeInTheDocument();
    expect(screen.getByText("Sending…")).toBeInTheDocument();
  });
});

describe("MessageList scrolling", () => {
  it("opens at the bottom", () => {
    const { log, bottom } = setup(msgs(1, 20));
    expect(log.scrollTop).toBe(bottom());
  });

  it("follows new messages when the reader is at the bottom", () => {
    const { log, update, bottom } = setup(msgs(1, 20));
    update({ messages: msgs(1, 22) });
    expect(log.scrollTop).toBe(bottom());
    expect(screen.queryByRole("button", { name: /new message/ })).not.toBeInTheDocument();
  });

  it("stays put when the reader has scrolled up, and offers to jump to the new messages", async () => {
    const { log, update, scrollTo, bottom } = setup(msgs(1, 20));
    scrollTo(300);
    update({ messages: msgs(1, 22) });
    expect(log.scrollTop).toBe(300);
    const jump = screen.getByRole("button", { name: "2 new messages" });
    await userEvent.click(jump);
    expect(log.scrollTop).toBe(bottom());
    expect(screen.queryByRole("button", { name: /new messages/ })).not.toBeInTheDocument();
  });

  it("scrolls to our own message just sent, even when scrolled up", () => {
    const { log, update, scrollTo, bottom } = setup(msgs(1, 20));
    scrollTo(100);
    const mine: ChatMessage = { ...message({ id: 0, client_message_id: "c1", creator: { id: ada.id, name: ada.name }, created_at: minute(300) }), sending: "sending" };
    update({ messages: [...msgs(1, 20), mine] });
    expect(log.scrollTop).toBe(bottom());
  });

  it("keeps the reader's place when older messages arrive above", () => {
    const { log, update, scrollTo } = setup(msgs(11, 30), { moreBefore: true });
    scrollTo(260);
    update({ messages: msgs(1, 30), moreBefore: false });
    expect(log.scrollTop).toBe(260 + 10 * ROW);
  });

  it("asks for older messages when scrolled near the top, only while there are more", () => {
    const onLoadOlder = vi.fn();
    const { scrollTo, update } = setup(msgs(11, 30), { moreBefore: true, onLoadOlder });
    scrollTo(600);
    expect(onLoadOlder).not.toHaveBeenCalled();
    scrollTo(100);
    expect(onLoadOlder).toHaveBeenCalledTimes(1);
    act(() => update({ moreBefore: false }));
    scrollTo(0);
    expect(onLoadOlder).toHaveBeenCalledTimes(1);
  });

  it("opens a permalink at its message, highlighted, with a way back to the latest", async () => {
    const onJumpToLatest = vi.fn();
    setup(msgs(1, 20), { highlightId: 5, moreAfter: true, onJumpToLatest });
    const target = document.querySelector('[data-message-id="5"]');
    expect(target).toHaveClass("highlighted");
    await userEvent.click(screen.getByRole("button", { name: "Jump to latest" }));
    expect(onJumpToLatest).toHaveBeenCalled();
  });
});
