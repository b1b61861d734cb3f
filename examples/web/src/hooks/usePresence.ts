import { useEffect, useState } from "react";
import type { PresenceData } from "../api/types";
import { useChat } from "./useChat";
import { useLiveEvents } from "./useLiveEvents";

/** Hidden this long, the room is no longer being looked at (Campfire's 5s). */
const HIDDEN_GRACE_MS = 5000;

/**
 * usePresence says we are in the room while the page is visible, and absent
 * when it is hidden or left. It returns who is present, from presence events.
 */
export function usePresence(roomId: number): number[] {
  const { live } = useChat();
  const [present, setPresent] = useState<number[]>([]);

  useEffect(() => {
    let hiddenTimer: ReturnType<typeof setTimeout> | null = null;
    const update = () => {
      if (document.visibilityState === "visible") {
        if (hiddenTimer) clearTimeout(hiddenTimer);
        hiddenTimer = null;
        live.presence(roomId, "present");
      } else if (!hiddenTimer) {
        hiddenTimer = setTimeout(() => live.presence(roomId, "absent"), HIDDEN_GRACE_MS);
      }
    };
    update();
    const onFocus = () => live.presence(roomId, "present");
    document.addEventListener("visibilitychange", update);
    window.addEventListener("focus", onFocus);
    return () => {
      document.removeEventListener("visibilitychange", update);
      window.removeEventListener("focus", onFocus);
      if (hiddenTimer) clearTimeout(hiddenTimer);
      live.presence(roomId, "absent");
    };
  }, [live, roomId]);

  useLiveEvents((ev) => {
    if (ev.type === "presence" && ev.room_id === roomId) setPresent((ev.data as PresenceData)?.user_ids ?? []);
  });

  useEffect(() => setPresent([]), [roomId]);

  return present;
}
