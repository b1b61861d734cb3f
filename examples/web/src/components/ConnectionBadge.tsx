import { useEffect, useState } from "react";
import { useChat } from "../hooks/useChat";

/** ConnectionBadge says whether live updates flow: connected, reconnecting, or offline. */
export function ConnectionBadge() {
  const { status, live } = useChat();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!status.retryAt) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [status.retryAt]);

  let label: string;
  switch (status.state) {
    case "connected":
      label = "Connected";
      break;
    case "connecting":
      label = "Connecting…";
      break;
    case "reconnecting":
      label = "Reconnecting…";
      break;
    case "offline": {
      const secs = status.retryAt ? Math.max(0, Math.ceil((status.retryAt - now) / 1000)) : 0;
      label = secs > 0 ? `Offline · retrying in ${secs}s` : "Offline · retrying…";
      break;
    }
    case "signed_out":
      label = "Signed out";
      break;
  }
  return (
    <div className={"connection " + status.state} title={status.state === "connected" ? `Live updates via ${status.transport === "sse" ? "server-sent events" : "WebSocket"}` : undefined}>
      <span className="connection-dot" aria-hidden="true" />
      <span role="status" aria-live="polite" className="connection-label">
        {label}
      </span>
      {status.state === "offline" && (
        <button className="link-button" type="button" onClick={() => live.reconnectNow()}>
          Retry now
        </button>
      )}
    </div>
  );
}
