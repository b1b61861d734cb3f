// The app's routes: the paths it links to and how a path is read back.

export const paths = {
  home: () => "/",
  signIn: () => "/session/new",
  room: (id: number) => `/rooms/${id}`,
  message: (roomId: number, messageId: number) => `/rooms/${roomId}/@${messageId}`,
  roomSettings: (id: number) => `/rooms/${id}/settings`,
  newRoom: () => "/rooms/new",
  newPing: () => "/pings/new",
  search: (q?: string) => (q ? `/search?q=${encodeURIComponent(q)}` : "/search"),
  user: (id: number) => `/users/${id}`,
  profile: () => "/profile",
  admin: () => "/account",
};

export type Route =
  | { name: "home" }
  | { name: "room"; roomId: number; messageId?: number }
  | { name: "roomSettings"; roomId: number }
  | { name: "newRoom" }
  | { name: "newPing" }
  | { name: "search" }
  | { name: "user"; userId: number }
  | { name: "profile" }
  | { name: "admin" }
  | { name: "join"; code: string }
  | { name: "signIn" }
  | { name: "notFound" };

/** matchRoute reads a path (deep links such as /rooms/7/@42 included). */
export function matchRoute(pathname: string): Route {
  const p = pathname.replace(/\/+$/, "") || "/";
  let m: RegExpMatchArray | null;
  if (p === "/") return { name: "home" };
  if (p === "/rooms/new") return { name: "newRoom" };
  if (p === "/pings/new") return { name: "newPing" };
  if ((m = p.match(/^\/rooms\/(\d+)$/))) return { name: "room", roomId: Number(m[1]) };
  if ((m = p.match(/^\/rooms\/(\d+)\/@(\d+)$/))) return { name: "room", roomId: Number(m[1]), messageId: Number(m[2]) };
  if ((m = p.match(/^\/rooms\/(\d+)\/settings$/))) return { name: "roomSettings", roomId: Number(m[1]) };
  if (p === "/search") return { name: "search" };
  if ((m = p.match(/^\/users\/(\d+)$/))) return { name: "user", userId: Number(m[1]) };
  if (p === "/profile") return { name: "profile" };
  if (p === "/account") return { name: "admin" };
  if ((m = p.match(/^\/join\/([^/]+)$/))) return { name: "join", code: decodeURIComponent(m[1]) };
  if (p === "/session/new") return { name: "signIn" };
  return { name: "notFound" };
}
