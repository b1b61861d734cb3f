import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, type Api } from "../api/client";
import type { Bot } from "../api/types";
import { FakeSocket, fakeApi, tally } from "../test/fakes";
import { renderInChat } from "../test/render";
import { AdminPage } from "./AdminPage";

const key = "3-AbCdEfGhIjKlMnOpQrStUvWx";
const newKey = "3-ZyXwVuTsRqPoNmLkJiHgFeDc";
const quiet: Bot = { ...tally, id: 4, name: "Quiet", avatar_url: "/api/v1/users/4/avatar", webhook_url: "" };

beforeEach(() => FakeSocket.reset());

/** The admin page with bots turned on, as Ada, and its Bots section. */
async function openBots(over: Partial<Api> = {}) {
  const api = fakeApi(over);
  const user = userEvent.setup();
  renderInChat(<AdminPage />, api, undefined, { features: { bots: true } });
  const section = screen.getByRole("region", { name: "Bots" });
  await waitFor(() => expect(within(section).queryByText("Loading bots…")).not.toBeInTheDocument());
  return { api, user, section };
}

describe("AdminPage: Bots", () => {
  it("says plainly when the server turned bots off, and asks nothing about them", async () => {
    const api = fakeApi();
    renderInChat(<AdminPage />, api);
    const section = screen.getByRole("region", { name: "Bots" });
    expect(within(section).getByRole("note")).toHaveTextContent("Bots are turned off on this server.");
    expect(within(section).queryByRole("button")).not.toBeInTheDocument();
    expect(within(section).queryByRole("textbox")).not.toBeInTheDocument();
    await screen.findByRole("link", { name: "Bob Babbage" }); // the rest of the page loaded
    expect(api.bots).not.toHaveBeenCalled();
  });

  it("lists the bots with their webhook URLs", async () => {
    const { section } = await openBots({ bots: vi.fn(async () => [quiet, tally]) });
    const table = within(section).getByRole("table", { name: "Bots" });
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveTextContent("Quiet");
    expect(rows[0]).toHaveTextContent("None");
    expect(rows[1]).toHaveTextContent("Tally");
    expect(rows[1]).toHaveTextContent("https://hooks.example.com/tally");
  });

  it("says when there are no bots yet", async () => {
    const { section } = await openBots();
    expect(within(section).getByText("No bots yet.")).toBeInTheDocument();
    expect(within(section).queryByRole("table")).not.toBeInTheDocument();
  });

  it("creates a bot and shows its key once, with a copy button, a warning and a curl example", async () => {
    const createBot = vi.fn(async () => ({ bot: tally, bot_key: key }));
    const { user, section } = await openBots({ createBot });

    await user.type(within(section).getByRole("textbox", { name: "Bot name" }), "Tally");
    await user.type(within(section).getByRole("textbox", { name: "Webhook URL (optional)" }), "https://hooks.example.com/tally");
    await user.click(within(section).getByRole("button", { name: "Create bot" }));
    expect(createBot).toHaveBeenCalledWith({ name: "Tally", webhook_url: "https://hooks.example.com/tally" });

    const panel = await within(section).findByRole("region", { name: "Tally is ready" });
    const keyBox = within(panel).getByRole("textbox", { name: "Key for Tally" });
    expect(keyBox).toHaveValue(key);
    expect(keyBox).toHaveAttribute("readonly");
    expect(keyBox).toHaveFocus();
    expect(keyBox).toHaveAccessibleDescription(/Copy the key now: it won't be shown again\./);
    expect(within(panel).getByText(`curl -d 'Hello!' ${window.location.origin}/api/v1/rooms/7/${key}/messages`)).toBeInTheDocument();

    await user.click(within(panel).getByRole("button", { name: "Copy key" }));
    expect(await navigator.clipboard.readText()).toBe(key);
    expect(within(panel).getByRole("status")).toHaveTextContent("Copied the key.");

    // The new bot is listed, without its key; the form is ready for another.
    const row = within(within(section).getByRole("table", { name: "Bots" })).getByRole("row", { name: /Tally/ });
    expect(row).not.toHaveTextContent(key);
    expect(within(section).getByRole("textbox", { name: "Bot name" })).toHaveValue("");

    await user.click(within(panel).getByRole("button", { name: "Done" }));
    expect(within(section).queryByRole("region", { name: "Tally is ready" })).not.toBeInTheDocument();
    expect(screen.queryByDisplayValue(key)).not.toBeInTheDocument();
    expect(screen.queryByText(new RegExp(key))).not.toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "Bots" })).toHaveFocus();
    expect(createBot).toHaveBeenCalledTimes(1);
  });

  it("creates a bot without a webhook from the keyboard alone", async () => {
    const createBot = vi.fn(async () => ({ bot: quiet, bot_key: key }));
    const { user, section } = await openBots({ createBot });
    within(section).getByRole("textbox", { name: "Bot name" }).focus();
    await user.keyboard("Quiet{Enter}");
    expect(createBot).toHaveBeenCalledWith({ name: "Quiet" });
    expect(await within(section).findByRole("textbox", { name: "Key for Quiet" })).toHaveFocus();
  });

  it("shows what the server refused next to the field, and no key", async () => {
    const createBot = vi.fn().mockRejectedValue(new ApiError(422, { code: "invalid", message: "must be an absolute http or https URL", field: "webhook_url" }));
    const { user, section } = await openBots({ createBot });
    await user.type(within(section).getByRole("textbox", { name: "Bot name" }), "Tally");
    const hook = within(section).getByRole("textbox", { name: "Webhook URL (optional)" });
    await user.type(hook, "ftp://nope{Enter}");
    await waitFor(() => expect(hook).toBeInvalid());
    expect(hook).toHaveAccessibleDescription(/must be an absolute http or https URL/);
    expect(within(section).queryByRole("textbox", { name: /^Key for/ })).not.toBeInTheDocument();
  });

  it("asks before resetting a key, and shows the new key once confirmed", async () => {
    const resetBotKey = vi.fn(async () => ({ bot: tally, bot_key: newKey }));
    const { user, section } = await openBots({ bots: vi.fn(async () => [tally]), resetBotKey });

    const reset = within(section).getByRole("button", { name: "Reset key of Tally" });
    await user.click(reset);
    const question = within(section).getByRole("group", { name: /Reset the key of Tally\? The current key stops working at once\./ });
    expect(question).toHaveFocus();
    expect(resetBotKey).not.toHaveBeenCalled();

    // Backing out, with the button or with Escape, changes nothing and gives focus back.
    await user.click(within(question).getByRole("button", { name: "Cancel" }));
    expect(within(section).queryByRole("group")).not.toBeInTheDocument();
    expect(reset).toHaveFocus();
    await user.keyboard("{Enter}");
    expect(within(section).getByRole("group", { name: /Reset the key of Tally/ })).toHaveFocus();
    await user.keyboard("{Escape}");
    expect(within(section).queryByRole("group")).not.toBeInTheDocument();
    expect(resetBotKey).not.toHaveBeenCalled();

    await user.click(reset);
    await user.click(within(section).getByRole("button", { name: "Reset key" }));
    expect(resetBotKey).toHaveBeenCalledWith(tally.id);
    const panel = await within(section).findByRole("region", { name: "New key for Tally" });
    expect(within(panel).getByRole("textbox", { name: "Key for Tally" })).toHaveValue(newKey);
    expect(panel).toHaveTextContent("the old key has stopped working");
  });

  it("edits a bot's name and webhook URL", async () => {
    const updateBot = vi.fn(async (_id: number, req: { name?: string; webhook_url?: string }) => ({ ...tally, name: req.name ?? tally.name, webhook_url: req.webhook_url ?? tally.webhook_url }));
    const { user, section } = await openBots({ bots: vi.fn(async () => [tally]), updateBot });

    await user.click(within(section).getByRole("button", { name: "Edit Tally" }));
    const form = within(section).getByRole("form", { name: "Edit Tally" });
    const name = within(form).getByRole("textbox", { name: "Bot name" });
    expect(name).toHaveFocus();
    await user.clear(name);
    await user.type(name, "Tally Ho");
    await user.clear(within(form).getByRole("textbox", { name: "Webhook URL" }));
    await user.click(within(form).getByRole("button", { name: "Save" }));

    expect(updateBot).toHaveBeenCalledWith(tally.id, { name: "Tally Ho", webhook_url: "" });
    const row = await within(section).findByRole("row", { name: /Tally Ho/ });
    expect(row).toHaveTextContent("None");
    expect(within(section).getByRole("status")).toHaveTextContent("Saved Tally Ho.");
    expect(within(row).getByRole("button", { name: "Edit Tally Ho" })).toHaveFocus();
  });

  it("asks before removing a bot, then takes it off the list", async () => {
    const deleteBot = vi.fn(async () => {});
    const { user, section } = await openBots({ bots: vi.fn(async () => [quiet, tally]), deleteBot });

    await user.click(within(section).getByRole("button", { name: "Remove Tally" }));
    expect(deleteBot).not.toHaveBeenCalled();
    const question = within(section).getByRole("group", { name: /Remove Tally\?/ });
    await user.click(within(question).getByRole("button", { name: "Remove bot" }));

    expect(deleteBot).toHaveBeenCalledWith(tally.id);
    await waitFor(() => expect(within(section).queryByRole("row", { name: /Tally/ })).not.toBeInTheDocument());
    expect(within(section).getByRole("row", { name: /Quiet/ })).toBeInTheDocument();
    expect(within(section).getByRole("status")).toHaveTextContent("Removed Tally.");
  });
});
