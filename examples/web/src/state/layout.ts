// How a list of messages is laid out: day separators, and messages from the
// same author within five minutes grouped under one name, as Campfire does.
import { messageKey, type ChatMessage } from "./messages";

export const GROUP_WINDOW_MS = 5 * 60 * 1000;

export type ListItem =
  | { kind: "day"; key: string; date: Date }
  | { kind: "message"; key: string; message: ChatMessage; continued: boolean };

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** layoutMessages turns messages (oldest first) into what the list renders. */
export function layoutMessages(messages: ChatMessage[]): ListItem[] {
  const items: ListItem[] = [];
  let prev: ChatMessage | undefined;
  let prevDate: Date | undefined;
  for (const m of messages) {
    const date = new Date(m.created_at);
    if (!prevDate || !sameDay(prevDate, date)) {
      items.push({ kind: "day", key: "day:" + date.toDateString(), date });
      prev = undefined;
    }
    const continued =
      prev !== undefined &&
      prevDate !== undefined &&
      prev.creator.id === m.creator.id &&
      date.getTime() - prevDate.getTime() >= 0 &&
      date.getTime() - prevDate.getTime() < GROUP_WINDOW_MS;
    items.push({ kind: "message", key: messageKey(m), message: m, continued });
    prev = m;
    prevDate = date;
  }
  return items;
}

/** dayLabel names a day the way a reader says it: Today, Yesterday, or the date. */
export function dayLabel(date: Date, now = new Date()): string {
  if (sameDay(date, now)) return "Today";
  const y = new Date(now);
  y.setDate(y.getDate() - 1);
  if (sameDay(date, y)) return "Yesterday";
  const opts: Intl.DateTimeFormatOptions = { weekday: "long", month: "long", day: "numeric" };
  if (date.getFullYear() !== now.getFullYear()) opts.year = "numeric";
  return date.toLocaleDateString(undefined, opts);
}

export function timeLabel(date: Date): string {
  return date.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" });
}

/** isEmojiOnly: such messages are shown large, as Campfire does. */
export function isEmojiOnly(text: string): boolean {
  const t = text.replace(/\s+/g, "");
  return t.length > 0 && t.length <= 24 && /^(\p{Emoji_Presentation}|\p{Extended_Pictographic}|\u200d|\ufe0f|\p{Emoji_Modifier})+$/u.test(t);
}
