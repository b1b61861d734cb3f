import { describe, expect, it } from "vitest";
import { message, ada } from "../test/fakes";
import { isEmojiOnly, layoutMessages, type ListItem } from "./layout";

const at = (iso: string, creatorId = 2) => message({ created_at: iso, creator: { id: creatorId, name: creatorId === 1 ? ada.name : "Bob" } });
const shape = (items: ListItem[]) => items.map((i) => (i.kind === "day" ? "day" : i.continued ? "cont" : "head"));

describe("layoutMessages", () => {
  it("groups one author's messages within five minutes of the previous one", () => {
    const items = layoutMessages([
      at("2026-03-02T10:00:00"),
      at("2026-03-02T10:04:59"),
      at("2026-03-02T10:09:30"),
      at("2026-03-02T10:15:00"),
    ]);
    expect(shape(items)).toEqual(["day", "head", "cont", "cont", "head"]);
  });

  it("starts a new group when the author changes", () => {
    const items = layoutMessages([at("2026-03-02T10:00:00", 2), at("2026-03-02T10:01:00", 1), at("2026-03-02T10:02:00", 2)]);
    expect(shape(items)).toEqual(["day", "head", "head", "head"]);
  });

  it("separates days, and a new day always starts a new group", () => {
    const items = layoutMessages([at("2026-03-02T23:58:00"), at("2026-03-03T00:01:00"), at("2026-03-05T09:00:00")]);
    expect(shape(items)).toEqual(["day", "head", "day", "head", "day", "head"]);
  });
});

describe("isEmojiOnly", () => {
  it("is true for a few emoji and false for text", () => {
    expect(isEmojiOnly("🎉")).toBe(true);
    expect(isEmojiOnly("👍🏽 🔥")).toBe(true);
    expect(isEmojiOnly("❤️")).toBe(true);
    expect(isEmojiOnly("ship it 🎉")).toBe(false);
    expect(isEmojiOnly("123")).toBe(false);
  });
});
