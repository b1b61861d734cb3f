import { useCallback, useEffect, useRef } from "react";
import { useChat } from "./useChat";

/** "start" is said again at most this often while typing goes on. */
export const TYPING_THROTTLE_MS = 2000;
/** Typing is over after this long without a keystroke. */
export const TYPING_IDLE_MS = 5000;

export interface TypingNotifier {
  /** Call on every keystroke that changes the text. */
  typed(text: string): void;
  /** Call when the message is sent or the composer loses focus. */
  stopped(): void;
}

/** useTypingNotifier tells the room when we type: throttled starts, and a stop on send, blur or idle. */
export function useTypingNotifier(roomId: number): TypingNotifier {
  const { live } = useChat();
  const lastStart = useRef(0);
  const idle = useRef<ReturnType<typeof setTimeout> | null>(null);

  const stopped = useCallback(() => {
    if (idle.current) clearTimeout(idle.current);
    idle.current = null;
    if (lastStart.current) {
      lastStart.current = 0;
      live.typing(roomId, "stop");
    }
  }, [live, roomId]);

  const typed = useCallback(
    (text: string) => {
      if (!text.trim()) {
        stopped();
        return;
      }
      const now = Date.now();
      if (now - lastStart.current >= TYPING_THROTTLE_MS) {
        lastStart.current = now;
        live.typing(roomId, "start");
      }
      if (idle.current) clearTimeout(idle.current);
      idle.current = setTimeout(stopped, TYPING_IDLE_MS);
    },
    [live, roomId, stopped],
  );

  useEffect(() => stopped, [stopped]);

  return { typed, stopped };
}
