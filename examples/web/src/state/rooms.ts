// The sidebar's rooms: the list from GET /rooms kept current by live events.
import type { ChatEvent, IDData, Room, User } from "../api/types";

export type RoomsAction =
  | { type: "loaded"; rooms: Room[] }
  | { type: "upserted"; room: Room }
  | { type: "removed"; id: number }
  | { type: "event"; event: ChatEvent; openRoomId?: number };

export function roomsReducer(rooms: Room[], action: RoomsAction): Room[] {
  switch (action.type) {
    case "loaded":
      return action.rooms;
    case "upserted":
      return upsertRoom(rooms, action.room);
    case "removed":
      return rooms.filter((r) => r.id !== action.id);
    case "event":
      return applyRoomEvent(rooms, action.event, action.openRoomId);
  }
}

function upsertRoom(rooms: Room[], room: Room): Room[] {
  const i = rooms.findIndex((r) => r.id === room.id);
  if (i < 0) return [...rooms, room];
  const next = rooms.slice();
  // room.updated carries no membership: keep the one held.
  next[i] = { ...room, membership: room.membership ?? rooms[i].membership };
  return next;
}

function setUnread(rooms: Room[], id: number, unread: boolean, touch?: string): Room[] {
  return rooms.map((r) =>
    r.id === id && r.membership
      ? { ...r, updated_at: touch ?? r.updated_at, membership: { ...r.membership, unread } }
      : r,
  );
}

function applyRoomEvent(rooms: Room[], ev: ChatEvent, openRoomId?: number): Room[] {
  const data = ev.data as Record<string, unknown> | undefined;
  switch (ev.type) {
    case "room.added":
    case "room.updated":
      return data ? upsertRoom(rooms, data as unknown as Room) : rooms;
    case "room.removed":
    case "room.deleted": {
      const id = (data as unknown as IDData | undefined)?.id ?? ev.room_id;
      return rooms.filter((r) => r.id !== id);
    }
    case "unread": {
      const id = (data?.room_id as number | undefined) ?? ev.room_id;
      if (id === undefined) return rooms;
      // A new message: direct rooms move up; the room being read stays read.
      return setUnread(rooms, id, id !== openRoomId, new Date().toISOString());
    }
    case "read": {
      const id = (data?.room_id as number | undefined) ?? ev.room_id;
      return id === undefined ? rooms : setUnread(rooms, id, false);
    }
    case "message.created": {
      const id = ev.room_id;
      return id === undefined ? rooms : rooms.map((r) => (r.id === id ? { ...r, updated_at: new Date().toISOString() } : r));
    }
    default:
      return rooms;
  }
}

/** sharedRooms: open and closed rooms, by name, as Campfire lists them. */
export function sharedRooms(rooms: Room[]): Room[] {
  return rooms
    .filter((r) => r.kind !== "direct" && r.membership?.involvement !== "invisible")
    .sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()) || a.id - b.id);
}

/** directRooms: pings, most recent activity first. */
export function directRooms(rooms: Room[]): Room[] {
  return rooms
    .filter((r) => r.kind === "direct" && r.membership?.involvement !== "invisible")
    .sort((a, b) => b.updated_at.localeCompare(a.updated_at) || b.id - a.id);
}

export function hiddenRooms(rooms: Room[]): Room[] {
  return rooms
    .filter((r) => r.membership?.involvement === "invisible")
    .sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
}

/** roomTitle: a shared room's name, or the other people in a direct one. */
export function roomTitle(room: Room, users: Map<number, User>, meId: number): string {
  if (room.kind !== "direct") return room.name;
  const others = (room.user_ids ?? []).filter((id) => id !== meId);
  if (others.length === 0) return room.name || "Just you";
  return others.map((id) => users.get(id)?.name ?? room.name ?? "Someone").join(", ");
}
