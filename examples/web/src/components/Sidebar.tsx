import { useContext } from "react";
import { DrawerContext } from "../hooks/contexts";
import { useChat } from "../hooks/useChat";
import { useSession } from "../hooks/useSession";
import { paths } from "../router/routes";
import { directRooms, hiddenRooms, sharedRooms } from "../state/rooms";
import { Avatar } from "./Avatar";
import { ConnectionBadge } from "./ConnectionBadge";
import { Icon } from "./Icon";
import { Link } from "./Link";
import { RoomLink } from "./RoomLink";

/** Sidebar lists the rooms (shared by name, pings by recent activity) and the way to everything else. */
export function Sidebar({ currentRoomId }: { currentRoomId?: number }) {
  const { rooms, account } = useChat();
  const { me, features, signOut } = useSession();
  const drawer = useContext(DrawerContext);
  const shared = sharedRooms(rooms);
  const direct = directRooms(rooms);
  const hidden = hiddenRooms(rooms);
  const canCreate = !account?.settings.restrict_room_creation_to_admins || me.role === "admin";

  return (
    <nav id="sidebar" className="sidebar" aria-label="Rooms">
      <div className="sidebar-head">
        <Link to={paths.home()} className="account-name">
          <span className="brand-mark" aria-hidden="true" />
          {account?.name ?? "Campfire"}
        </Link>
        <button className="icon-button close-drawer" type="button" aria-label="Hide rooms" onClick={() => drawer.setOpen(false)}>
          <Icon name="close" />
        </button>
      </div>

      <div className="sidebar-scroll">
        <section className="sidebar-section" aria-labelledby="rooms-heading">
          <div className="sidebar-section-head">
            <h2 id="rooms-heading">Rooms</h2>
            {canCreate && (
              <Link to={paths.newRoom()} className="icon-button small" aria-label="New room" title="New room">
                <Icon name="plus" size={16} />
              </Link>
            )}
          </div>
          <ul className="room-list">
            {shared.map((r) => (
              <RoomLink key={r.id} room={r} current={r.id === currentRoomId} />
            ))}
          </ul>
        </section>

        <section className="sidebar-section" aria-labelledby="pings-heading">
          <div className="sidebar-section-head">
            <h2 id="pings-heading">Pings</h2>
            <Link to={paths.newPing()} className="icon-button small" aria-label="New ping" title="New ping (direct message)">
              <Icon name="plus" size={16} />
            </Link>
          </div>
          {direct.length === 0 ? (
            <p className="sidebar-empty">Private conversations show up here.</p>
          ) : (
            <ul className="room-list">
              {direct.map((r) => (
                <RoomLink key={r.id} room={r} current={r.id === currentRoomId} />
              ))}
            </ul>
          )}
        </section>

        {hidden.length > 0 && (
          <details className="sidebar-section hidden-rooms">
            <summary>Hidden rooms ({hidden.length})</summary>
            <ul className="room-list">
              {hidden.map((r) => (
                <RoomLink key={r.id} room={r} current={r.id === currentRoomId} />
              ))}
            </ul>
          </details>
        )}
      </div>

      <div className="sidebar-foot">
        <ConnectionBadge />
        <ul className="nav-list">
          {features.search && (
            <li>
              <Link to={paths.search()}>
                <Icon name="search" size={16} /> Search
              </Link>
            </li>
          )}
          {me.role === "admin" && (
            <li>
              <Link to={paths.admin()}>
                <Icon name="shield" size={16} /> Administration
              </Link>
            </li>
          )}
        </ul>
        <div className="me-row">
          <Link to={paths.profile()} className="me-link" aria-label={`Your profile (${me.name})`}>
            <Avatar user={me} size={28} />
            <span className="me-name">{me.name}</span>
          </Link>
          {features.builtin_auth && (
            <button className="icon-button" type="button" aria-label="Sign out" title="Sign out" onClick={() => signOut()}>
              <Icon name="logout" size={16} />
            </button>
          )}
        </div>
      </div>
    </nav>
  );
}
