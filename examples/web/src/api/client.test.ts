import { describe, expect, it, vi } from "vitest";
import { ApiError, botPostURL, createApi } from "./client";
import type { Bot } from "./types";

const bot: Bot = { id: 3, name: "Tally", role: "bot", status: "active", bio: "", avatar_url: "/api/v1/users/3/avatar", webhook_url: "" };

/** A fetch that answers each request with the next of answers and keeps what it was asked. */
function recorder(...answers: Array<[number, unknown?]>) {
  const fetch = vi.fn(async (_url: string, _init?: RequestInit) => {
    const [status, body] = answers.shift() ?? [500];
    return new Response(status === 204 || body === undefined ? null : JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  });
  const asked = () => fetch.mock.calls.map(([url, init]) => [init?.method, url, init?.body === undefined ? undefined : JSON.parse(String(init.body))]);
  return { api: createApi({ fetch }), asked };
}

describe("client: bots", () => {
  it("manages bots at /account/bots and unwraps the answers", async () => {
    const { api, asked } = recorder(
      [200, { bots: [bot] }],
      [201, { bot, bot_key: "3-secret" }],
      [200, { bot: { ...bot, name: "Tally Ho" } }],
      [200, { bot, bot_key: "3-other" }],
      [204],
    );
    expect(await api.bots()).toEqual([bot]);
    expect(await api.createBot({ name: "Tally" })).toEqual({ bot, bot_key: "3-secret" });
    expect((await api.updateBot(3, { webhook_url: "" })).name).toBe("Tally Ho");
    expect((await api.resetBotKey(3)).bot_key).toBe("3-other");
    expect(await api.deleteBot(3)).toBeUndefined();
    expect(asked()).toEqual([
      ["GET", "/api/v1/account/bots", undefined],
      ["POST", "/api/v1/account/bots", { name: "Tally" }],
      ["PATCH", "/api/v1/account/bots/3", { webhook_url: "" }],
      ["POST", "/api/v1/account/bots/3/key", undefined],
      ["DELETE", "/api/v1/account/bots/3", undefined],
    ]);
  });

  it("reports bots turned off as the server's error", async () => {
    const { api } = recorder([501, { error: { code: "feature_disabled", message: "bots are turned off" } }]);
    const err = await api.bots().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 501, code: "feature_disabled", message: "bots are turned off" });
  });

  it("builds Campfire's bot posting URL", () => {
    expect(botPostURL(7, "3-AbC", "https://chat.example.com")).toBe("https://chat.example.com/api/v1/rooms/7/3-AbC/messages");
  });
});
