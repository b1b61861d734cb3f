import type { Room } from "../api/types";
import { useChat } from "../hooks/useChat";
import { useSession } from "../hooks/useSession";
import { paths } from "../router/routes";
import { roomTitle } from "../state/rooms";
import { Avatar } from "./Avatar";
import { Icon } from "./Icon";
import { Link } from "./Link";

/** RoomLink is one room in the sidebar, bold with a dot when it has unread messages. */
export function RoomLink({ room, current }: { room: Room; current: boolean }) {
  const { users } = useChat();
  const { me } = useSession();
  const title = roomTitle(room, users, me.id);
  const unread = !!room.membership?.unread && !current;
  const other = room.kind === "direct" ? (room.user_ids ?? []).find((id) => id !== me.id) : undefined;
  const otherUser = other !== undefined ? users.get(other) : undefined;
  return (
    <li>
      <Link
        to={paths.room(room.id)}
        className={"room-link" + (unread ? " unread" : "") + (current ? " current" : "")}
        aria-current={current ? "page" : undefined}
      >
        <span className="room-link-icon" aria-hidden="true">
          {room.kind === "direct" ? (
            otherUser ? <Avatar user={otherUser} size={20} /> : <Icon name="user" size={16} />
          ) : room.kind === "closed" ? (
            <Icon name="lock" size={15} />
          ) : (
            <Icon name="hash" size={15} />
          )}
        </span>
        <span className="room-link-name">{title}</span>
        {unread && (
          <span className="unread-dot">
            <span className="visually-hidden">, unread messages</span>
          </span>
        )}
      </Link>
    </li>
  );
}
