import { useEffect, useState } from "react";
import type { User } from "../api/types";
import { useApi } from "../hooks/useApi";
import { useChat } from "../hooks/useChat";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { errorText } from "../hooks/useRoomMessages";
import { useSession } from "../hooks/useSession";
import { navigate } from "../router/location";
import { paths } from "../router/routes";
import { Avatar } from "./Avatar";
import { ErrorNote } from "./ErrorNote";
import { PageHeader } from "./PageHeader";

/** UserPage shows a person, with a button to ping them. */
export function UserPage({ userId }: { userId: number }) {
  const api = useApi();
  const { me } = useSession();
  const { dispatchRooms } = useChat();
  const [user, setUser] = useState<User | null>(null);
  const [error, setError] = useState<string | null>(null);
  useDocumentTitle(user?.name ?? "Person");

  useEffect(() => {
    api.user(userId).then(setUser, (e) => setError(errorText(e)));
  }, [api, userId]);

  const ping = async () => {
    try {
      const room = await api.createRoom({ kind: "direct", user_ids: [userId] });
      dispatchRooms({ type: "upserted", room });
      navigate(paths.room(room.id));
    } catch (e) {
      setError(errorText(e));
    }
  };

  return (
    <section className="page">
      <PageHeader title={user?.name ?? "…"} />
      <div className="page-body narrow">
        <ErrorNote>{error}</ErrorNote>
        {user && (
          <div className="profile-card">
            <Avatar user={user} size={72} />
            <div>
              <p className="profile-name">{user.name}</p>
              <p className="muted">
                {user.role === "admin" ? "Administrator" : user.role === "bot" ? "Bot" : "Member"}
                {user.status === "deactivated" && " · deactivated"}
              </p>
              {user.email && <p className="muted">{user.email}</p>}
              {user.bio && <p className="bio">{user.bio}</p>}
              {user.id !== me.id && user.status === "active" && (
                <button className="button primary" type="button" onClick={ping}>
                  Ping {user.name.split(" ")[0]}
                </button>
              )}
            </div>
          </div>
        )}
      </div>
    </section>
  );
}
