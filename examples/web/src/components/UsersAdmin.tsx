import { useEffect, useState } from "react";
import type { User } from "../api/types";
import { useApi } from "../hooks/useApi";
import { useChat } from "../hooks/useChat";
import { errorText } from "../hooks/useRoomMessages";
import { useSession } from "../hooks/useSession";
import { paths } from "../router/routes";
import { Avatar } from "./Avatar";
import { ErrorNote } from "./ErrorNote";
import { Link } from "./Link";

/** UsersAdmin lists everyone, with their role and whether they are active. */
export function UsersAdmin() {
  const api = useApi();
  const { me } = useSession();
  const { refreshUsers } = useChat();
  const [users, setUsers] = useState<User[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api.users({ limit: 500 }).then(setUsers, (e) => setError(errorText(e)));
  }, [api]);

  const change = async (u: User, req: { role?: "admin" | "member"; status?: "active" | "deactivated" }) => {
    setError(null);
    try {
      const next = await api.updateUser(u.id, req);
      setUsers((us) => us?.map((x) => (x.id === next.id ? next : x)) ?? null);
      refreshUsers();
    } catch (e) {
      setError(errorText(e));
    }
  };

  return (
    <section className="panel" aria-labelledby="people-heading">
      <h2 id="people-heading">People</h2>
      <ErrorNote>{error}</ErrorNote>
      {users && (
        <table className="people-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => {
              const self = u.id === me.id;
              return (
                <tr key={u.id} className={u.status === "deactivated" ? "deactivated" : undefined}>
                  <td>
                    <div className="person">
                      <Avatar user={u} size={28} />
                      <div>
                        <Link to={paths.user(u.id)}>{u.name}</Link>
                        {u.email && <div className="muted small">{u.email}</div>}
                      </div>
                    </div>
                  </td>
                  <td>
                    {u.role === "bot" ? (
                      "Bot"
                    ) : (
                      <select
                        aria-label={`Role of ${u.name}`}
                        value={u.role}
                        disabled={self}
                        title={self ? "You can't change your own role" : undefined}
                        onChange={(e) => change(u, { role: e.target.value as "admin" | "member" })}
                      >
                        <option value="member">Member</option>
                        <option value="admin">Administrator</option>
                      </select>
                    )}
                  </td>
                  <td>
                    {self ? (
                      <span className="muted">Active (you)</span>
                    ) : (
                      <button
                        type="button"
                        className={"button small" + (u.status === "active" ? "" : " primary")}
                        aria-label={u.status === "active" ? `Deactivate ${u.name}` : `Reactivate ${u.name}`}
                        onClick={() => change(u, { status: u.status === "active" ? "deactivated" : "active" })}
                      >
                        {u.status === "active" ? "Deactivate" : "Reactivate"}
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
