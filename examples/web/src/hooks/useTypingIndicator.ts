import { useEffect, useState } from "react";
import type { Message, TypingData } from "../api/types";
import { useLiveEvents } from "./useLiveEvents";
import { useSession } from "./useSession";

/** A name is dropped this long after its last "start", as Campfire does. */
export const TYPING_TTL_MS = 5000;

interface Typist {
  id: number;
  name: string;
  until: number;
}

/** useTypingIndicator lists who else is typing in a room. */
export function useTypingIndicator(roomId: number): string[] {
  const { me } = useSession();
  const [typists, setTypists] = useState<Typist[]>([]);

  useLiveEvents((ev) => {
    if (ev.room_id !== roomId) return;
    if (ev.type === "typing") {
      const d = ev.data as TypingData;
      if (!d?.user || d.user.id === me.id) return;
      setTypists((ts) => {
        const rest = ts.filter((t) => t.id !== d.user.id);
        return d.state === "start" ? [...rest, { id: d.user.id, name: d.user.name, until: Date.now() + TYPING_TTL_MS }] : rest;
      });
    } else if (ev.type === "message.created") {
      const m = ev.data as Message;
      setTypists((ts) => (ts.some((t) => t.id === m.creator.id) ? ts.filter((t) => t.id !== m.creator.id) : ts));
    }
  });

  useEffect(() => {
    if (typists.length === 0) return;
    const next = Math.min(...typists.map((t) => t.until));
    const timer = setTimeout(() => setTypists((ts) => ts.filter((t) => t.until > Date.now())), Math.max(50, next - Date.now()));
    return () => clearTimeout(timer);
  }, [typists]);

  useEffect(() => setTypists([]), [roomId]);

  return typists.map((t) => t.name);
}
