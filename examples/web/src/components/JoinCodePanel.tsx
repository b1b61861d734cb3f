import { useState } from "react";
import { joinLink } from "../api/client";
import { useApi } from "../hooks/useApi";
import { useChat } from "../hooks/useChat";
import { errorText } from "../hooks/useRoomMessages";
import { ErrorNote } from "./ErrorNote";
import { Icon } from "./Icon";

/** JoinCodePanel shows the join link to share, copies it, and makes a new one (the old stops working). */
export function JoinCodePanel() {
  const api = useApi();
  const { account, setAccount } = useChat();
  const [copied, setCopied] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const code = account?.join_code;
  const link = code ? joinLink(code) : "";

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(link);
      setCopied(true);
      setTimeout(() => setCopied(false), 2500);
    } catch {
      // Without clipboard access (plain http), select the text for the person to copy.
      const input = document.getElementById("join-link") as HTMLInputElement | null;
      input?.select();
      setError("Couldn't copy here: the link is selected, copy it with your keyboard.");
    }
  };

  const regenerate = async () => {
    setConfirming(false);
    setError(null);
    try {
      const next = await api.regenerateJoinCode();
      if (account) setAccount({ ...account, join_code: next });
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <section className="panel" aria-labelledby="join-heading">
      <h2 id="join-heading">Invite people</h2>
      <p>Anyone with this link can create an account and join the open rooms.</p>
      <div className="join-link-row">
        <label htmlFor="join-link" className="visually-hidden">
          Join link
        </label>
        <input id="join-link" readOnly value={link} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" className="button" onClick={copy} disabled={!link}>
          <Icon name="copy" size={16} /> {copied ? "Copied" : "Copy link"}
        </button>
      </div>
      {copied && (
        <p className="success-note" role="status">
          Copied the join link.
        </p>
      )}
      <div className="regenerate">
        {confirming ? (
          <>
            <span>The current link will stop working.</span>
            <button type="button" className="button small danger" onClick={regenerate}>
              Make a new link
            </button>
            <button type="button" className="button small" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </>
        ) : (
          <button type="button" className="link-button" onClick={() => setConfirming(true)}>
            <Icon name="refresh" size={14} /> Make a new link
          </button>
        )}
      </div>
      <ErrorNote>{error}</ErrorNote>
    </section>
  );
}
