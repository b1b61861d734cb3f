import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/client";
import type { Message } from "../api/types";
import { ada, allTalk, bob, FakeSocket, fakeApi, message } from "../test/fakes";
import { renderInChat } from "../test/render";
import { RoomPage } from "./RoomPage";

beforeEach(() => {
  FakeSocket.reset();
  sessionStorage.clear();
});

function stored(body: string, cid: string, id = 500): Message {
  return message({
    id,
    text: body,
    client_message_id: cid,
    creator: { id: ada.id, name: ada.name },
    created_at: new Date().toISOString(),
  });
}

async function openRoom(api = fakeApi()) {
  const utils = renderInChat(<RoomPage roomId={7} />, api);
  await screen.findByText("This is the start of the conversation.");
  const ws = FakeSocket.last();
  act(() => ws.open());
  return { ...utils, api, ws, box: screen.getByRole("textbox", { name: "Message All Talk" }), user: userEvent.setup() };
}

describe("RoomPage: optimistic send", () => {
  it("shows the message at once, then as sent, keyed by one client_message_id", async () => {
    let answer!: (m: Message) => void;
    const postMessage = vi.fn((_room: number, _body: string, _cid: string) => new Promise<Message>((r) => (answer = r)));
    const { box, user } = await openRoom(fakeApi({ postMessage }));

    await user.type(box, "Morning all{Enter}");
    const article = screen.getByRole("article");
    expect(article).toHaveTextContent("Morning all");
    expect(within(article).getByText("Sending…")).toBeInTheDocument();

    const [roomId, body, cid] = postMessage.mock.calls[0];
    expect([roomId, body]).toEqual([7, "Morning all"]);
    expect(cid).toMatch(/^[0-9a-f-]{36}$/);

    await act(async () => answer(stored("Morning all", cid)));
    expect(screen.getAllByRole("article")).toHaveLength(1);
    expect(screen.queryByText("Sending…")).not.toBeInTheDocument();
  });

  it("shows a failed send plainly and retries it with the same client_message_id", async () => {
    const postMessage = vi
      .fn()
      .mockRejectedValueOnce(new ApiError(0, { code: "network", message: "Can't reach the server." }))
      .mockImplementation(async (_r: number, body: string, cid: string) => stored(body, cid));
    const { box, user } = await openRoom(fakeApi({ postMessage }));

    await user.type(box, "Anyone there?{Enter}");
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Not sent: Can't reach the server.");

    await user.click(within(alert).getByRole("button", { name: "Retry" }));
    await waitFor(() => expect(screen.queryByRole("alert")).not.toBeInTheDocument());
    expect(postMessage).toHaveBeenCalledTimes(2);
    expect(postMessage.mock.calls[1][2]).toBe(postMessage.mock.calls[0][2]);
    expect(screen.getAllByRole("article")).toHaveLength(1);
  });

  it("lets a failed message be discarded", async () => {
    const postMessage = vi.fn().mockRejectedValue(new ApiError(422, { code: "invalid", message: "body is too long", field: "body" }));
    const { box, user } = await openRoom(fakeApi({ postMessage }));
    await user.type(box, "x{Enter}");
    await user.click(await screen.findByRole("button", { name: "Discard" }));
    expect(screen.queryByRole("article")).not.toBeInTheDocument();
  });

  it("matches the live echo of our message to the optimistic copy", async () => {
    const postMessage = vi.fn((_r: number, _b: string, _cid: string) => new Promise<Message>(() => {}));
    const { box, user, ws } = await openRoom(fakeApi({ postMessage }));
    await user.type(box, "echo{Enter}");
    const cid = postMessage.mock.calls[0][2];
    act(() => ws.receive({ type: "message.created", room_id: 7, seq: 11, data: stored("echo", cid) }));
    expect(screen.getAllByRole("article")).toHaveLength(1);
    expect(screen.queryByText("Sending…")).not.toBeInTheDocument();
  });
});

describe("RoomPage: live", () => {
  it("subscribes from the room's seq and shows others' messages, edits, deletions and typing", async () => {
    const { ws } = await openRoom();
    expect(ws.sent).toContainEqual({ type: "subscribe", room_id: 7, since: allTalk.last_seq });

    act(() => ws.receive({ type: "typing", room_id: 7, data: { user: { id: bob.id, name: bob.name }, state: "start" } }));
    expect(screen.getByText("Bob Babbage is typing…")).toBeInTheDocument();

    const m = message({ id: 77, text: "hello from Bob", created_at: new Date().toISOString() });
    act(() => ws.receive({ type: "message.created", room_id: 7, seq: 11, data: m }));
    expect(screen.getByText("hello from Bob")).toBeInTheDocument();
    expect(screen.queryByText(/is typing/)).not.toBeInTheDocument();

    act(() => ws.receive({ type: "message.updated", room_id: 7, seq: 12, data: { ...m, body: { markdown: "edited", html: "<p>edited</p>", plain_text: "edited" } } }));
    expect(screen.getByText("edited")).toBeInTheDocument();

    act(() => ws.receive({ type: "message.deleted", room_id: 7, seq: 13, data: { id: 77 } }));
    expect(screen.queryByText("edited")).not.toBeInTheDocument();
  });

  it("edits your last message with ↑ and Enter", async () => {
    const mine = message({ id: 40, text: "typo", creator: { id: ada.id, name: ada.name }, created_at: new Date().toISOString() });
    const editMessage = vi.fn(async (_r: number, id: number, body: string) => ({ ...mine, id, body: { markdown: body, html: `<p>${body}</p>`, plain_text: body } }));
    const api = fakeApi({ editMessage, messages: vi.fn(async () => ({ messages: [mine], more_before: false, more_after: false })) });
    const { box, user } = await openRoom(api);
    await user.click(box);
    await user.keyboard("{ArrowUp}");
    const editor = screen.getByRole("textbox", { name: "Edit message" });
    await user.clear(editor);
    await user.type(editor, "fixed{Enter}");
    expect(editMessage).toHaveBeenCalledWith(7, 40, "fixed");
    expect(await screen.findByText("fixed")).toBeInTheDocument();
  });
});
