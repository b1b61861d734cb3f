import type { Room } from "../api/types";
import { useChat } from "../hooks/useChat";
import { useSession } from "../hooks/useSession";
import { paths } from "../router/routes";
import { Avatar } from "./Avatar";
import { Icon } from "./Icon";
import { InvolvementButton } from "./InvolvementButton";
import { Link } from "./Link";
import { PageHeader } from "./PageHeader";

/** RoomHeader: the room's name and kind, who is here, the bell, and settings. */
export function RoomHeader({ room, roomId, title, present }: { room?: Room; roomId: number; title: string; present: number[] }) {
  const { users } = useChat();
  const { me } = useSession();
  const kind = room?.kind === "open" ? "Open room · everyone's here" : room?.kind === "closed" ? "Closed room · invited people only" : room?.kind === "direct" ? "Ping · just the people in it" : undefined;
  const here = present.map((id) => users.get(id)).filter((u): u is NonNullable<typeof u> => !!u);
  const canSettle = room && (room.kind === "direct" || me.role === "admin" || room.creator_id === me.id);
  return (
    <PageHeader title={title || "…"} subtitle={kind}>
      {here.length > 0 && (
        <div className="present" aria-label={`Here now: ${here.map((u) => u.name).join(", ")}`} title={`Here now: ${here.map((u) => u.name).join(", ")}`}>
          {here.slice(0, 5).map((u) => (
            <Avatar key={u.id} user={u} size={24} />
          ))}
          {here.length > 5 && <span className="present-more">+{here.length - 5}</span>}
        </div>
      )}
      {room?.membership && <InvolvementButton room={room} />}
      {canSettle && (
        <Link to={paths.roomSettings(roomId)} className="icon-button" aria-label="Room settings" title="Room settings">
          <Icon name="settings" />
        </Link>
      )}
    </PageHeader>
  );
}
