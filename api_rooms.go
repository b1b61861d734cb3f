package campfire

import (
	"context"
	"errors"
	"net/http"
	"strconv"
)

// memberRoom returns the room as u sees it. A room u is not in answers
// ErrNotFound, exactly as a room that does not exist.
func (s *Server) memberRoom(ctx context.Context, roomID int64, u User) (RoomWithMembership, error) {
	rm, err := s.store.RoomForUser(ctx, roomID, u.ID)
	if errors.Is(err, ErrNotFound) {
		return RoomWithMembership{}, NotFound("room")
	}
	return rm, err
}

// pathRoom resolves {id} to a room the caller is a member of.
func (s *Server) pathRoom(r *http.Request, u User) (RoomWithMembership, error) {
	id, err := pathID(r, "id", "room")
	if err != nil {
		return RoomWithMembership{}, err
	}
	return s.memberRoom(r.Context(), id, u)
}

func (s *Server) getRooms(w http.ResponseWriter, r *http.Request, u User) error {
	rooms, err := s.store.RoomsForUser(r.Context(), u.ID)
	if err != nil {
		return err
	}
	if rooms == nil {
		rooms = []RoomWithMembership{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"rooms": rooms})
	return nil
}

func (s *Server) getRoom(w http.ResponseWriter, r *http.Request, u User) error {
	room, err := s.pathRoom(r, u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"room": room})
	return nil
}

type roomRequest struct {
	Kind    *RoomKind `json:"kind"`
	Name    *string   `json:"name"`
	UserIDs *[]int64  `json:"user_ids"`
}

func (s *Server) postRoom(w http.ResponseWriter, r *http.Request, u User) error {
	var req roomRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Kind == nil || !req.Kind.Valid() {
		return invalid("kind", "must be open, closed or direct")
	}
	ctx := r.Context()
	var userIDs []int64
	if req.UserIDs != nil {
		ids, err := s.activeUsers(ctx, *req.UserIDs)
		if err != nil {
			return err
		}
		userIDs = ids
	}
	if *req.Kind == RoomDirect {
		if len(userIDs) == 0 {
			return invalid("user_ids", "must name the people to talk with")
		}
		room, created, err := s.store.DirectRoom(ctx, u.ID, directRoomUsers(u.ID, userIDs))
		if err != nil {
			return err
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
			s.announceRoom(ctx, room.ID, room.UserIDs)
		}
		return s.writeRoom(w, r, status, room.ID, u)
	}
	acct, err := s.account(ctx)
	if err != nil {
		return err
	}
	if acct.Settings.RestrictRoomCreationToAdmins && u.Role != RoleAdmin {
		return forbidden("only admins can create rooms on this account")
	}
	if req.Name == nil {
		return invalid("name", "must not be empty")
	}
	name, err := normalizeName("name", *req.Name, MaxRoomNameLength)
	if err != nil {
		return err
	}
	room, err := s.store.CreateRoom(ctx, NewRoom{Kind: *req.Kind, Name: name, CreatorID: u.ID, UserIDs: userIDs})
	if err != nil {
		return err
	}
	members, err := s.store.Members(ctx, room.ID)
	if err != nil {
		return err
	}
	ids := make([]int64, len(members))
	for i, m := range members {
		ids[i] = m.ID
	}
	s.announceRoom(ctx, room.ID, ids)
	return s.writeRoom(w, r, http.StatusCreated, room.ID, u)
}

// activeUsers checks that every id names an active user.
func (s *Server) activeUsers(ctx context.Context, ids []int64) ([]int64, error) {
	if len(ids) > 1000 {
		return nil, invalid("user_ids", "must name at most 1000 users")
	}
	for _, id := range ids {
		x, err := s.store.User(ctx, id)
		if errors.Is(err, ErrNotFound) || err == nil && !x.Active() {
			return nil, invalid("user_ids", "user %d does not exist", id)
		}
		if err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// announceRoom sends room.added, with their own membership, to each user.
func (s *Server) announceRoom(ctx context.Context, roomID int64, userIDs []int64) {
	for _, id := range userIDs {
		rm, err := s.memberRoom(ctx, roomID, User{ID: id})
		if err != nil {
			s.logger.WarnContext(ctx, "campfire: announcing a room", "room_id", roomID, "user_id", id, "err", err)
			continue
		}
		s.hub.publishUserValue(id, EventRoomAdded, roomID, rm)
	}
}

// writeRoom answers {"room": Room} as u sees it now.
func (s *Server) writeRoom(w http.ResponseWriter, r *http.Request, status int, roomID int64, u User) error {
	rm, err := s.memberRoom(r.Context(), roomID, u)
	if err != nil {
		return err
	}
	writeJSON(w, status, map[string]any{"room": rm})
	return nil
}

func (s *Server) patchRoom(w http.ResponseWriter, r *http.Request, u User) error {
	room, err := s.pathRoom(r, u)
	if err != nil {
		return err
	}
	if !canAdministerRoom(u, room.Room) {
		return forbidden("only the room's creator or an admin can change it")
	}
	var req roomRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	if room.Kind == RoomDirect {
		return invalid("kind", "direct rooms cannot be changed")
	}
	var upd RoomUpdate
	if req.Name != nil {
		name, err := normalizeName("name", *req.Name, MaxRoomNameLength)
		if err != nil {
			return err
		}
		upd.Name = &name
	}
	kind := room.Kind
	if req.Kind != nil {
		if *req.Kind != RoomOpen && *req.Kind != RoomClosed {
			return invalid("kind", "must be open or closed")
		}
		kind = *req.Kind
		upd.Kind = req.Kind
	}
	if req.UserIDs != nil {
		if kind != RoomClosed {
			return invalid("user_ids", "only closed rooms have chosen members")
		}
		ids, err := s.activeUsers(r.Context(), *req.UserIDs)
		if err != nil {
			return err
		}
		upd.UserIDs = &ids
	}
	change, err := s.store.UpdateRoom(r.Context(), room.ID, upd)
	if err != nil {
		return err
	}
	// The removal first: the removed people's streams end at it, before
	// the change they may no longer see.
	s.hub.Publish(change.Revoked)
	s.hub.Publish(change.Event)
	s.announceRoom(r.Context(), room.ID, change.Added)
	for _, id := range change.Removed {
		s.hub.LeaveRoom(room.ID, id)
		s.hub.publishUserValue(id, EventRoomRemoved, room.ID, IDData{ID: room.ID})
	}
	return s.writeRoom(w, r, http.StatusOK, room.ID, u)
}

func (s *Server) deleteRoom(w http.ResponseWriter, r *http.Request, u User) error {
	room, err := s.pathRoom(r, u)
	if err != nil {
		return err
	}
	if room.Kind != RoomDirect && !canAdministerRoom(u, room.Room) {
		return forbidden("only the room's creator or an admin can delete it")
	}
	change, err := s.store.DeleteRoom(r.Context(), room.ID)
	if err != nil {
		return err
	}
	s.hub.Publish(change.Event)
	for _, id := range change.Removed {
		s.hub.LeaveRoom(room.ID, id)
		s.hub.publishUserValue(id, EventRoomRemoved, room.ID, IDData{ID: room.ID})
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) putInvolvement(w http.ResponseWriter, r *http.Request, u User) error {
	room, err := s.pathRoom(r, u)
	if err != nil {
		return err
	}
	var req struct {
		Involvement Involvement `json:"involvement"`
	}
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	if !req.Involvement.Valid() {
		return invalid("involvement", "must be everything, mentions, nothing or invisible")
	}
	m, err := s.store.SetInvolvement(r.Context(), room.ID, u.ID, req.Involvement)
	if err != nil {
		return err
	}
	room.Membership = m
	writeJSON(w, http.StatusOK, map[string]any{"room": room})
	return nil
}

func (s *Server) postRead(w http.ResponseWriter, r *http.Request, u User) error {
	room, err := s.pathRoom(r, u)
	if err != nil {
		return err
	}
	if err := s.store.MarkRead(r.Context(), room.ID, u.ID); err != nil {
		return err
	}
	s.hub.publishUserValue(u.ID, EventRead, room.ID, map[string]int64{"room_id": room.ID})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// stateRequest is the body of the typing and presence POSTs.
type stateRequest struct {
	State string `json:"state"`
}

func (s *Server) postTyping(w http.ResponseWriter, r *http.Request, u User) error {
	room, err := s.pathRoom(r, u)
	if err != nil {
		return err
	}
	var req stateRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	switch req.State {
	case "start":
		s.hub.Typing(room.ID, u.Ref(), true)
	case "stop":
		s.hub.Typing(room.ID, u.Ref(), false)
	default:
		return invalid("state", "must be start or stop")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) postPresence(w http.ResponseWriter, r *http.Request, u User) error {
	room, err := s.pathRoom(r, u)
	if err != nil {
		return err
	}
	var req stateRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	// One key per session: a browser's tabs share it, another device
	// counts apart.
	key := sessionKeyFromContext(r.Context())
	switch req.State {
	case "present":
		s.hub.SetPresence(room.ID, u.ID, "http:"+key, true)
		if err := s.store.MarkRead(r.Context(), room.ID, u.ID); err != nil {
			return err
		}
		s.hub.publishUserValue(u.ID, EventRead, room.ID, map[string]int64{"room_id": room.ID})
	case "absent":
		s.hub.SetPresence(room.ID, u.ID, "http:"+key, false)
	default:
		return invalid("state", "must be present or absent")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// maxEventsPage caps one answer of GET /rooms/{id}/events; a client that
// gets a full page asks again from the last seq it received.
const maxEventsPage = 1000

func (s *Server) getEvents(w http.ResponseWriter, r *http.Request, u User) error {
	room, err := s.pathRoom(r, u)
	if err != nil {
		return err
	}
	since, err := queryID(r, "since")
	if err != nil {
		return err
	}
	events, err := s.store.Events(r.Context(), room.ID, since, maxEventsPage)
	if errors.Is(err, ErrResync) {
		writeJSON(w, http.StatusOK, map[string]bool{"resync": true})
		return nil
	}
	if err != nil {
		return err
	}
	// The room's seq is read after the events, so it is never behind them.
	latest, err := s.store.Room(r.Context(), room.ID)
	if err != nil {
		return err
	}
	if events == nil {
		events = []Event{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": events, "seq": latest.LastSeq})
	return nil
}

// idString formats an id for logs and keys.
func idString(id int64) string { return strconv.FormatInt(id, 10) }
