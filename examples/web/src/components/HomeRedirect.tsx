import { useEffect } from "react";
import { useChat } from "../hooks/useChat";
import { navigate } from "../router/location";
import { paths } from "../router/routes";
import { sharedRooms, directRooms } from "../state/rooms";
import { PageHeader } from "./PageHeader";
import { Link } from "./Link";

export const LAST_ROOM_KEY = "campfire:last-room";

/** HomeRedirect opens the room last visited, else the first one (All Talk). */
export function HomeRedirect() {
  const { rooms, roomsLoaded } = useChat();
  useEffect(() => {
    if (!roomsLoaded || rooms.length === 0) return;
    const last = Number(localStorage.getItem(LAST_ROOM_KEY));
    const target = rooms.find((r) => r.id === last) ?? sharedRooms(rooms)[0] ?? directRooms(rooms)[0] ?? rooms[0];
    navigate(paths.room(target.id), { replace: true });
  }, [rooms, roomsLoaded]);

  if (!roomsLoaded) return <div className="splash" role="status">Loading rooms…</div>;
  if (rooms.length > 0) return null;
  return (
    <section className="page">
      <PageHeader title="No rooms yet" />
      <div className="page-body prose">
        <p>You're not in any rooms. <Link to={paths.newRoom()}>Start one</Link>, or ping someone.</p>
      </div>
    </section>
  );
}
