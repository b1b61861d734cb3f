import { useState, type FormEvent } from "react";
import { ApiError } from "../api/client";
import type { RoomKind } from "../api/types";
import { useApi } from "../hooks/useApi";
import { useChat } from "../hooks/useChat";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { useSession } from "../hooks/useSession";
import { navigate } from "../router/location";
import { paths } from "../router/routes";
import { ErrorNote } from "./ErrorNote";
import { FeatureOff } from "./FeatureOff";
import { Field } from "./Field";
import { PageHeader } from "./PageHeader";
import { PeoplePicker } from "./PeoplePicker";

/** NewRoomPage creates an open room (everyone) or a closed one (the people chosen). */
export function NewRoomPage() {
  const api = useApi();
  const { me } = useSession();
  const { users, account, dispatchRooms } = useChat();
  const [kind, setKind] = useState<RoomKind>("open");
  const [name, setName] = useState("");
  const [members, setMembers] = useState<number[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  useDocumentTitle("New room");

  const restricted = account?.settings.restrict_room_creation_to_admins && me.role !== "admin";

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const room = await api.createRoom({ kind, name, user_ids: kind === "closed" ? members : undefined });
      dispatchRooms({ type: "upserted", room });
      navigate(paths.room(room.id));
    } catch (err) {
      setError(err instanceof ApiError ? err : null);
      setBusy(false);
    }
  };

  return (
    <section className="page">
      <PageHeader title="New room" />
      <div className="page-body narrow">
        {restricted ? (
          <FeatureOff>Only administrators can create rooms here. You can still ping people.</FeatureOff>
        ) : (
          <form onSubmit={submit} className="stack">
            <Field label="Room name" required maxLength={120} value={name} onChange={(e) => setName(e.target.value)} error={error?.field === "name" ? error.message : null} autoFocus />
            <fieldset className="fieldset">
              <legend>Who's in it</legend>
              <label className="radio">
                <input type="radio" name="kind" value="open" checked={kind === "open"} onChange={() => setKind("open")} />
                <span>
                  <strong>Everyone</strong> — an open room; people who join later are in it too.
                </span>
              </label>
              <label className="radio">
                <input type="radio" name="kind" value="closed" checked={kind === "closed"} onChange={() => setKind("closed")} />
                <span>
                  <strong>Only people I choose</strong> — a closed room.
                </span>
              </label>
            </fieldset>
            {kind === "closed" && <PeoplePicker legend="People" people={[...users.values()].filter((u) => u.id !== me.id && u.role !== "bot")} selected={members} onChange={setMembers} />}
            <ErrorNote>{error && error.field !== "name" ? error.message : null}</ErrorNote>
            <div>
              <button className="button primary" type="submit" disabled={busy}>
                Create room
              </button>
            </div>
          </form>
        )}
      </div>
    </section>
  );
}
