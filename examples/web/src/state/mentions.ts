// Mentions by id. The person writing sees "@Name"; the body sent carries
// the protocol's id form "<@ID>" for every mention picked from the
// autocomplete, so that a namesake, or a later rename, cannot redirect or
// silence it. A name typed by hand stays a name mention.

/** A mention picked from the autocomplete: "@name" at [start, end) of the text. */
export interface Pick {
  start: number;
  end: number;
  id: number;
  name: string;
}

const wordChar = /[\p{L}\p{N}]/u;

/**
 * remapPicks keeps the picks of `before` that an edit turning it into
 * `after` left whole, moved to where they are now. An edit inside a pick
 * drops it: what is left is text the person changed.
 */
export function remapPicks(before: string, after: string, picks: Pick[]): Pick[] {
  if (picks.length === 0 || before === after) return picks;
  let prefix = 0;
  const max = Math.min(before.length, after.length);
  while (prefix < max && before[prefix] === after[prefix]) prefix++;
  let suffix = 0;
  while (suffix < max - prefix && before[before.length - 1 - suffix] === after[after.length - 1 - suffix]) suffix++;
  const changedEnd = before.length - suffix;
  const delta = after.length - before.length;
  const out: Pick[] = [];
  for (const p of picks) {
    if (p.end <= prefix) out.push(p);
    else if (p.start >= changedEnd) out.push({ ...p, start: p.start + delta, end: p.end + delta });
  }
  return out;
}

/** validPicks keeps the picks that still stand for "@name" in text (a draft read back, say). */
export function validPicks(text: string, picks: Pick[]): Pick[] {
  return picks.filter((p) => text.slice(p.start, p.end) === "@" + p.name);
}

/**
 * toWire is the body to send for text: each pick becomes "<@ID>", unless
 * the person has typed straight on after it ("@Bobby" from "@Bob"), which
 * makes it a different word.
 */
export function toWire(text: string, picks: Pick[]): string {
  let out = "";
  let at = 0;
  for (const p of [...validPicks(text, picks)].sort((a, b) => a.start - b.start)) {
    if (p.start < at || wordChar.test(text.charAt(p.end))) continue;
    out += text.slice(at, p.start) + `<@${p.id}>`;
    at = p.end;
  }
  return out + text.slice(at);
}

/**
 * fromWire turns a stored body back into what the person sees: each
 * "<@ID>" of a member in names becomes "@Name", a pick. Ids that names does
 * not know stay as they are.
 */
export function fromWire(markdown: string, names: Map<number, string>): { text: string; picks: Pick[] } {
  let text = "";
  const picks: Pick[] = [];
  let at = 0;
  for (const m of markdown.matchAll(/<@([0-9]{1,19})>/g)) {
    const id = Number(m[1]);
    const name = names.get(id);
    if (name === undefined) continue;
    text += markdown.slice(at, m.index);
    picks.push({ start: text.length, end: text.length + 1 + name.length, id, name });
    text += "@" + name;
    at = m.index + m[0].length;
  }
  return { text: text + markdown.slice(at), picks };
}

/** mentionNames reads who a rendered body mentions, id to name, from its mention spans. */
export function mentionNames(html: string): Map<number, string> {
  const names = new Map<number, string>();
  const doc = new DOMParser().parseFromString(html, "text/html");
  for (const span of doc.querySelectorAll("span.mention[data-user-id]")) {
    const text = span.textContent ?? "";
    if (text.startsWith("@")) names.set(Number(span.getAttribute("data-user-id")), text.slice(1));
  }
  return names;
}
