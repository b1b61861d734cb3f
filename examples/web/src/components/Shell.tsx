import { useEffect, useMemo, useState } from "react";
import { DrawerContext } from "../hooks/contexts";
import type { Route } from "../router/routes";
import { AdminPage } from "./AdminPage";
import { HomeRedirect } from "./HomeRedirect";
import { NewPingPage } from "./NewPingPage";
import { NewRoomPage } from "./NewRoomPage";
import { NotFoundPage } from "./NotFoundPage";
import { ProfilePage } from "./ProfilePage";
import { RoomPage } from "./RoomPage";
import { RoomSettingsPage } from "./RoomSettingsPage";
import { SearchPage } from "./SearchPage";
import { Sidebar } from "./Sidebar";
import { UserPage } from "./UserPage";

/** Shell is the signed-in screen: the sidebar and the page the route names. */
export function Shell({ route }: { route: Route }) {
  const [drawerOpen, setDrawerOpen] = useState(false);
  const drawer = useMemo(() => ({ open: drawerOpen, setOpen: setDrawerOpen }), [drawerOpen]);

  // Going somewhere closes the drawer on a phone.
  const where = JSON.stringify(route);
  useEffect(() => setDrawerOpen(false), [where]);

  let page: React.ReactNode;
  switch (route.name) {
    case "home":
    case "join":
    case "signIn":
      page = <HomeRedirect />;
      break;
    case "room":
      page = <RoomPage key={route.roomId} roomId={route.roomId} messageId={route.messageId} />;
      break;
    case "roomSettings":
      page = <RoomSettingsPage key={route.roomId} roomId={route.roomId} />;
      break;
    case "newRoom":
      page = <NewRoomPage />;
      break;
    case "newPing":
      page = <NewPingPage />;
      break;
    case "search":
      page = <SearchPage />;
      break;
    case "user":
      page = <UserPage key={route.userId} userId={route.userId} />;
      break;
    case "profile":
      page = <ProfilePage />;
      break;
    case "admin":
      page = <AdminPage />;
      break;
    default:
      page = <NotFoundPage />;
  }

  return (
    <DrawerContext.Provider value={drawer}>
      <div className={"app" + (drawerOpen ? " drawer-open" : "")}>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <Sidebar currentRoomId={route.name === "room" || route.name === "roomSettings" ? route.roomId : undefined} />
        {drawerOpen && <div className="scrim" aria-hidden="true" onClick={() => setDrawerOpen(false)} />}
        <main className="main" id="main">
          {page}
        </main>
      </div>
    </DrawerContext.Provider>
  );
}
