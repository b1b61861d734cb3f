import { useEffect, useRef } from "react";
import type { ChatEvent } from "../api/types";
import { useChat } from "./useChat";

/** useLiveEvents calls handler for every live event, always the latest handler. */
export function useLiveEvents(handler: (ev: ChatEvent) => void): void {
  const { live } = useChat();
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => live.addListener((ev) => ref.current(ev)), [live]);
}
