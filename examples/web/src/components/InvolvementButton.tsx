import { useState } from "react";
import type { Involvement, Room } from "../api/types";
import { useApi } from "../hooks/useApi";
import { useChat } from "../hooks/useChat";
import { Icon, type IconName } from "./Icon";

const LABEL: Record<Involvement, string> = {
  mentions: "Notify me about @mentions only",
  everything: "Notify me about every message",
  nothing: "Never notify me (unread marks only)",
  invisible: "Hidden from my sidebar",
};

const ICON: Record<Involvement, IconName> = { mentions: "bellAt", everything: "bell", nothing: "bellOff", invisible: "eyeOff" };

/** nextInvolvement is Campfire's bell: mentions → everything → nothing → invisible; pings toggle everything ↔ nothing. */
export function nextInvolvement(kind: Room["kind"], current: Involvement): Involvement {
  if (kind === "direct") return current === "everything" ? "nothing" : "everything";
  const order: Involvement[] = ["mentions", "everything", "nothing", "invisible"];
  return order[(order.indexOf(current) + 1) % order.length];
}

export function InvolvementButton({ room }: { room: Room }) {
  const api = useApi();
  const { dispatchRooms } = useChat();
  const [busy, setBusy] = useState(false);
  const current = room.membership?.involvement ?? "mentions";
  const next = nextInvolvement(room.kind, current);

  const cycle = async () => {
    setBusy(true);
    try {
      dispatchRooms({ type: "upserted", room: await api.setInvolvement(room.id, next) });
    } catch {
      // The bell stays as it was.
    } finally {
      setBusy(false);
    }
  };

  return (
    <button
      type="button"
      className={"icon-button bell " + current}
      onClick={cycle}
      disabled={busy}
      aria-label={`${LABEL[current]}. Change to: ${LABEL[next].toLowerCase()}`}
      title={LABEL[current]}
    >
      <Icon name={ICON[current]} />
    </button>
  );
}
