import { useEffect, useState, type FormEvent } from "react";
import type { Message } from "../api/types";
import { useApi } from "../hooks/useApi";
import { useChat } from "../hooks/useChat";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { errorText } from "../hooks/useRoomMessages";
import { useSession } from "../hooks/useSession";
import { navigate, useLocation } from "../router/location";
import { paths } from "../router/routes";
import { roomTitle } from "../state/rooms";
import { dayLabel, timeLabel } from "../state/layout";
import { Avatar } from "./Avatar";
import { ErrorNote } from "./ErrorNote";
import { FeatureOff } from "./FeatureOff";
import { Link } from "./Link";
import { PageHeader } from "./PageHeader";

const RECENT_KEY = "campfire:recent-searches";

function recentSearches(): string[] {
  try {
    const v = JSON.parse(localStorage.getItem(RECENT_KEY) ?? "[]");
    return Array.isArray(v) ? v.filter((x) => typeof x === "string").slice(0, 10) : [];
  } catch {
    return [];
  }
}

/** SearchPage finds messages in your rooms, newest first; your last ten searches stay at hand. */
export function SearchPage() {
  const api = useApi();
  const { features, me } = useSession();
  const { rooms, users } = useChat();
  const { search } = useLocation();
  const q = search.get("q") ?? "";
  const [input, setInput] = useState(q);
  const [results, setResults] = useState<Message[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [recent, setRecent] = useState(recentSearches);
  useDocumentTitle(q ? `Search: ${q}` : "Search");

  useEffect(() => {
    setInput(q);
    if (!q.trim() || !features.search) {
      setResults(null);
      return;
    }
    let live = true;
    setError(null);
    api.search(q).then(
      (ms) => {
        if (!live) return;
        setResults(ms);
        const next = [q, ...recentSearches().filter((x) => x !== q)].slice(0, 10);
        localStorage.setItem(RECENT_KEY, JSON.stringify(next));
        setRecent(next);
      },
      (err) => live && setError(errorText(err)),
    );
    return () => {
      live = false;
    };
  }, [api, q, features.search]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    navigate(paths.search(input.trim()));
  };

  const roomName = (id: number) => {
    const r = rooms.find((x) => x.id === id);
    return r ? roomTitle(r, users, me.id) : "a room";
  };

  return (
    <section className="page">
      <PageHeader title="Search" />
      <div className="page-body">
        {!features.search ? (
          <FeatureOff>Search is turned off on this server.</FeatureOff>
        ) : (
          <>
            <form role="search" onSubmit={submit} className="search-form">
              <label htmlFor="search-q" className="visually-hidden">
                Search messages
              </label>
              <input id="search-q" type="search" placeholder="Search messages in your rooms" value={input} maxLength={200} onChange={(e) => setInput(e.target.value)} autoFocus />
              <button className="button primary" type="submit">
                Search
              </button>
            </form>
            <ErrorNote>{error}</ErrorNote>
            {!q && recent.length > 0 && (
              <div className="recent-searches">
                <h2>Recent searches</h2>
                <ul>
                  {recent.map((r) => (
                    <li key={r}>
                      <Link to={paths.search(r)}>{r}</Link>
                    </li>
                  ))}
                </ul>
                <button
                  type="button"
                  className="link-button"
                  onClick={() => {
                    localStorage.removeItem(RECENT_KEY);
                    setRecent([]);
                  }}
                >
                  Clear recent searches
                </button>
              </div>
            )}
            {results && (
              <>
                <p className="search-count" role="status">
                  {results.length === 0 ? "No messages match." : results.length === 1 ? "1 message" : `${results.length} messages`}
                  {results.length === 100 && " (the newest 100)"}
                </p>
                <ol className="search-results">
                  {results.map((m) => {
                    const d = new Date(m.created_at);
                    return (
                      <li key={m.id} className="search-result">
                        <Avatar user={m.creator} size={32} />
                        <div>
                          <div className="search-meta">
                            <strong>{m.creator.name}</strong> in <span>{roomName(m.room_id)}</span> ·{" "}
                            <Link to={paths.message(m.room_id, m.id)}>
                              {dayLabel(d)} {timeLabel(d)}
                            </Link>
                          </div>
                          <div className="message-body" dangerouslySetInnerHTML={{ __html: m.body.html }} />
                        </div>
                      </li>
                    );
                  })}
                </ol>
              </>
            )}
          </>
        )}
      </div>
    </section>
  );
}
