import { useEffect, useState, type FormEvent } from "react";
import type { Room, RoomKind } from "../api/types";
import { useApi } from "../hooks/useApi";
import { useChat } from "../hooks/useChat";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { errorText } from "../hooks/useRoomMessages";
import { useSession } from "../hooks/useSession";
import { navigate } from "../router/location";
import { paths } from "../router/routes";
import { roomTitle } from "../state/rooms";
import { ErrorNote } from "./ErrorNote";
import { Field } from "./Field";
import { Link } from "./Link";
import { PageHeader } from "./PageHeader";
import { PeoplePicker } from "./PeoplePicker";

/** RoomSettingsPage renames a room, opens or closes it, chooses who is in it, or deletes it. */
export function RoomSettingsPage({ roomId }: { roomId: number }) {
  const api = useApi();
  const { me } = useSession();
  const { rooms, users, dispatchRooms } = useChat();
  const room = rooms.find((r) => r.id === roomId);
  const [name, setName] = useState(room?.name ?? "");
  const [kind, setKind] = useState<RoomKind>(room?.kind ?? "open");
  const [members, setMembers] = useState<number[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const title = room ? roomTitle(room, users, me.id) : "Room";
  useDocumentTitle(`Settings · ${title}`);

  useEffect(() => {
    if (!room) return;
    setName(room.name);
    setKind(room.kind);
    if (room.kind === "closed") api.users({ roomId, limit: 500 }).then((us) => setMembers(us.map((u) => u.id).filter((id) => id !== me.id)), () => {});
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [room?.id]);

  if (!room) {
    return (
      <section className="page">
        <PageHeader title="Room settings" />
        <div className="page-body">
          <p>This room doesn't exist, or you're not in it.</p>
        </div>
      </section>
    );
  }

  const canAdminister = me.role === "admin" || room.creator_id === me.id;

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setSaved(false);
    try {
      const req: { name?: string; kind?: RoomKind; user_ids?: number[] } = {};
      if (name !== room.name) req.name = name;
      if (kind !== room.kind) req.kind = kind;
      if (kind === "closed") req.user_ids = Array.from(new Set([...members, me.id]));
      const next: Room = await api.updateRoom(room.id, req);
      dispatchRooms({ type: "upserted", room: next });
      setSaved(true);
    } catch (err) {
      setError(errorText(err));
    }
  };

  const remove = async () => {
    try {
      await api.deleteRoom(room.id);
      dispatchRooms({ type: "removed", id: room.id });
      navigate(paths.home());
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <section className="page">
      <PageHeader title={`Settings · ${title}`}>
        <Link to={paths.room(room.id)} className="button small">
          Back to the room
        </Link>
      </PageHeader>
      <div className="page-body narrow">
        {room.kind !== "direct" && canAdminister && (
          <form onSubmit={save} className="stack">
            <Field label="Room name" required maxLength={120} value={name} onChange={(e) => setName(e.target.value)} />
            <fieldset className="fieldset">
              <legend>Who's in it</legend>
              <label className="radio">
                <input type="radio" name="kind" checked={kind === "open"} onChange={() => setKind("open")} /> <span>Everyone (open)</span>
              </label>
              <label className="radio">
                <input type="radio" name="kind" checked={kind === "closed"} onChange={() => setKind("closed")} /> <span>Only people chosen (closed)</span>
              </label>
            </fieldset>
            {kind === "closed" && <PeoplePicker legend="People" people={[...users.values()].filter((u) => u.id !== me.id && u.role !== "bot")} selected={members} onChange={setMembers} />}
            <div>
              <button className="button primary" type="submit">
                Save changes
              </button>
              {saved && (
                <span className="success-note" role="status">
                  {" "}
                  Saved.
                </span>
              )}
            </div>
          </form>
        )}
        {room.kind !== "direct" && !canAdminister && <p>Only the room's creator or an administrator can change it.</p>}
        <ErrorNote>{error}</ErrorNote>
        {(room.kind === "direct" || canAdminister) && (
          <section className="panel danger-zone" aria-labelledby="delete-heading">
            <h2 id="delete-heading">Delete this {room.kind === "direct" ? "conversation" : "room"}</h2>
            <p>Its messages are deleted for everyone. This can't be undone.</p>
            {confirming ? (
              <div className="regenerate">
                <button type="button" className="button danger" onClick={remove}>
                  Yes, delete it
                </button>
                <button type="button" className="button" onClick={() => setConfirming(false)}>
                  Cancel
                </button>
              </div>
            ) : (
              <button type="button" className="button danger" onClick={() => setConfirming(true)}>
                Delete…
              </button>
            )}
          </section>
        )}
      </div>
    </section>
  );
}
