import { describe, expect, it } from "vitest";
import { fromWire, mentionNames, remapPicks, toWire, type Pick } from "./mentions";

const helper: Pick = { start: 3, end: 10, id: 4, name: "Helper" };

describe("mentions by id", () => {
  it("sends a picked name as the id form and leaves typed names alone", () => {
    expect(toWire("hi @Helper and @Helper", [helper])).toBe("hi <@4> and @Helper");
  });

  it("moves picks with edits around them and drops them when the name itself is edited", () => {
    expect(remapPicks("hi @Helper", "oh hi @Helper", [helper])).toEqual([{ ...helper, start: 6, end: 13 }]);
    expect(remapPicks("hi @Helper", "hi @Helper, thanks", [helper])).toEqual([helper]);
    expect(remapPicks("hi @Helper", "hi @Helpr", [helper])).toEqual([]);
    expect(remapPicks("hi @Helper", "hi ", [helper])).toEqual([]);
  });

  it("does not turn a word typed straight on from a name into a mention", () => {
    const text = "hi @Helperful";
    expect(toWire(text, remapPicks("hi @Helper", text, [helper]))).toBe("hi @Helperful");
  });

  it("shows a stored body's ids as the names its message shows, and back", () => {
    const html = '<p>hi <span class="mention" data-user-id="4">@Helper</span> <span class="mention" data-user-id="7">@Carol</span></p>';
    const names = mentionNames(html);
    expect(names).toEqual(
      new Map([
        [4, "Helper"],
        [7, "Carol"],
      ]),
    );
    const { text, picks } = fromWire("hi <@4> <@7> <@99>", names);
    expect(text).toBe("hi @Helper @Carol <@99>");
    expect(toWire(text, picks)).toBe("hi <@4> <@7> <@99>");
  });
});
