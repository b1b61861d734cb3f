import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { User } from "../api/types";
import { ada, bob, tally } from "../test/fakes";
import { Composer, findTrigger, type ComposerProps } from "./Composer";

// A bot and a person who renamed themself to the bot's name.
const helperBot: User = { ...tally, id: 4, name: "Helper", avatar_url: "/api/v1/users/4/avatar" };
const helperPerson: User = { ...bob, id: 9, name: "Helper", avatar_url: "/api/v1/users/9/avatar" };

function setup(over: Partial<ComposerProps> = {}) {
  const props: ComposerProps = {
    roomId: 7,
    roomName: "All Talk",
    onSend: vi.fn(),
    onEditLast: vi.fn(() => true),
    onTyping: vi.fn(),
    onBlur: vi.fn(),
    searchUsers: vi.fn(async (q: string) => [ada, bob].filter((u) => u.name.toLowerCase().includes(q.toLowerCase()))),
    attachments: false,
    ...over,
  };
  const utils = render(<Composer {...props} />);
  const box = screen.getByRole("textbox", { name: "Message All Talk" });
  return { props, box, user: userEvent.setup(), ...utils };
}

beforeEach(() => sessionStorage.clear());

describe("Composer", () => {
  it("sends on Enter and clears the box", async () => {
    const { props, box, user } = setup();
    await user.type(box, "Hello **there**{Enter}");
    expect(props.onSend).toHaveBeenCalledWith("Hello **there**", "Hello **there**");
    expect(box).toHaveValue("");
  });

  it("makes a new line on Shift+Enter instead of sending", async () => {
    const { props, box, user } = setup();
    await user.type(box, "line one{Shift>}{Enter}{/Shift}line two");
    expect(props.onSend).not.toHaveBeenCalled();
    expect(box).toHaveValue("line one\nline two");
    await user.keyboard("{Enter}");
    expect(props.onSend).toHaveBeenCalledWith("line one\nline two", "line one\nline two");
  });

  it("does not send an empty or blank message", async () => {
    const { props, box, user } = setup();
    await user.type(box, "   {Enter}");
    expect(props.onSend).not.toHaveBeenCalled();
  });

  it("edits your last message on ↑ in an empty box, but moves the caret otherwise", async () => {
    const { props, box, user } = setup();
    await user.click(box);
    await user.keyboard("{ArrowUp}");
    expect(props.onEditLast).toHaveBeenCalledTimes(1);
    await user.type(box, "draft{ArrowUp}");
    expect(props.onEditLast).toHaveBeenCalledTimes(1);
  });

  it("suggests people in the room after @ and inserts the chosen name", async () => {
    const { props, box, user } = setup();
    await user.type(box, "thanks @bo");
    const list = await screen.findByRole("listbox", { name: "People in this room" });
    expect(props.searchUsers).toHaveBeenLastCalledWith("bo");
    expect(list).toHaveTextContent("Bob Babbage");
    expect(screen.getByRole("option", { name: /Bob Babbage/ })).toHaveAttribute("aria-selected", "true");
    await user.keyboard("{Enter}");
    expect(box).toHaveValue("thanks @Bob Babbage ");
    expect(props.onSend).not.toHaveBeenCalled();
    expect(screen.queryByRole("listbox")).not.toBeInTheDocument();
  });

  it("sends a person picked from the list by id, while showing their name", async () => {
    const { props, box, user } = setup();
    await user.type(box, "thanks @bo");
    await screen.findByRole("option", { name: /Bob Babbage/ });
    await user.keyboard("{Enter}");
    expect(box).toHaveValue("thanks @Bob Babbage ");
    await user.type(box, "and @Ada Lovelace too{Enter}");
    // Typed by hand, Ada stays a name mention; the pick becomes <@2>.
    expect(props.onSend).toHaveBeenCalledWith("thanks <@2> and @Ada Lovelace too", "thanks @Bob Babbage and @Ada Lovelace too");
  });

  it("tells apart people who share a name, and mentions the one picked", async () => {
    const { props, box, user } = setup({ searchUsers: vi.fn(async () => [helperBot, helperPerson]) });
    await user.type(box, "@Help");
    const bot = await screen.findByRole("option", { name: "Helper bot · #4" });
    expect(screen.getByRole("option", { name: "Helper #9" })).toBeInTheDocument();
    expect(bot).toHaveAttribute("aria-selected", "true");
    await user.keyboard("{Enter}");
    expect(box).toHaveValue("@Helper ");
    await user.type(box, "status{Enter}");
    expect(props.onSend).toHaveBeenCalledWith("<@4> status", "@Helper status");
  });

  it("shows namesakes' emails to those who may see them", async () => {
    const { box, user } = setup({
      searchUsers: vi.fn(async () => [
        { ...helperBot, email: undefined },
        { ...helperPerson, email: "carol@example.com" },
      ]),
    });
    await user.type(box, "@Help");
    expect(await screen.findByRole("option", { name: "Helper carol@example.com" })).toBeInTheDocument();
  });

  it("sends a picked name that was then edited as the text typed", async () => {
    const { props, box, user } = setup();
    await user.type(box, "@bo");
    await screen.findByRole("option", { name: /Bob Babbage/ });
    await user.keyboard("{Enter}{Backspace}{Backspace}{Backspace}{Enter}");
    expect(props.onSend).toHaveBeenCalledWith("@Bob Babba", "@Bob Babba");
  });

  it("keeps a picked mention in the draft", async () => {
    const first = setup();
    await first.user.type(first.box, "@bo");
    await screen.findByRole("option", { name: /Bob Babbage/ });
    await first.user.keyboard("{Enter}");
    first.unmount();
    const again = setup();
    expect(again.box).toHaveValue("@Bob Babbage ");
    await again.user.type(again.box, "hi{Enter}");
    expect(again.props.onSend).toHaveBeenCalledWith("<@2> hi", "@Bob Babbage hi");
  });

  it("moves through suggestions with the arrow keys and closes them with Escape", async () => {
    const { box, user } = setup();
    await user.type(box, "@");
    await screen.findByRole("option", { name: /Ada Lovelace/ });
    await user.keyboard("{ArrowDown}");
    expect(screen.getByRole("option", { name: /Bob Babbage/ })).toHaveAttribute("aria-selected", "true");
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("listbox")).not.toBeInTheDocument();
  });

  it("suggests the sounds after /play", async () => {
    const { props, box, user } = setup();
    await user.type(box, "/play tr");
    const list = await screen.findByRole("listbox", { name: "Sounds" });
    expect(list).toHaveTextContent("/play trololo");
    expect(list).toHaveTextContent("/play trombone");
    await user.keyboard("{ArrowDown}{Tab}");
    expect(box).toHaveValue("/play trombone");
    await user.keyboard("{Enter}");
    expect(props.onSend).toHaveBeenCalledWith("/play trombone", "/play trombone");
  });

  it("sends a complete /play command on Enter without offering suggestions", async () => {
    const { props, box, user } = setup();
    await user.type(box, "/play tada{Enter}");
    expect(props.onSend).toHaveBeenCalledWith("/play tada", "/play tada");
  });

  it("keeps what was typed when it is shown again (a draft per room)", async () => {
    const first = setup();
    await first.user.type(first.box, "half a thought");
    first.unmount();
    const again = setup();
    expect(again.box).toHaveValue("half a thought");
  });

  it("tells the room while typing and when it stops", async () => {
    const { props, box, user } = setup();
    await user.type(box, "hi");
    expect(props.onTyping).toHaveBeenLastCalledWith("hi");
    await user.tab();
    expect(props.onBlur).toHaveBeenCalled();
  });

  it("says plainly that attachments are off when a file is offered", async () => {
    const { user } = setup();
    await user.click(screen.getByRole("button", { name: "Attach a file" }));
    expect(screen.getByRole("status")).toHaveTextContent("Attachments are turned off on this server");
  });
});

describe("findTrigger", () => {
  it("finds @mentions and /play under the caret", () => {
    expect(findTrigger("hi @ad", 6)).toEqual({ kind: "mention", start: 3, end: 6, query: "ad" });
    expect(findTrigger("mail a@b", 8)).toBeNull();
    expect(findTrigger("/play ya", 8)).toEqual({ kind: "sound", start: 0, end: 8, query: "ya" });
    expect(findTrigger("say /play ya", 12)).toBeNull();
  });
});

