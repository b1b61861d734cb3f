package campfire

import "context"

// deactivate applies upd, which deactivates the user, and ends their access
// everywhere: the Store records it in the log of each of their rooms, and
// every node closes their connections.
func (s *Server) deactivate(ctx context.Context, userID int64, upd UserUpdate) error {
	before, err := s.store.RoomsForUser(ctx, userID)
	if err != nil {
		return err
	}
	if _, err := s.store.UpdateUser(ctx, userID, upd); err != nil {
		return err
	}
	s.endUser(userID, before)
	return nil
}

// endUser closes a deactivated user's connections on every node, and has
// every node deliver the members.removed events the deactivation appended
// to their rooms: the events, not the closing, are what a node that missed
// the broker's message still acts on when it reads the room's log.
func (s *Server) endUser(userID int64, rooms []RoomWithMembership) {
	s.hub.EndUser(userID)
	for _, rm := range rooms {
		s.hub.catchUp(rm.ID)
	}
}
