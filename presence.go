package campfire

import (
	"context"
	"slices"
	"time"
)

// Present returns the users present in a room on this node, ascending.
func (h *Hub) Present(roomID int64) []int64 {
	rs := h.lookupRoom(roomID)
	if rs == nil {
		return nil
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.presentUsers()
}

func (rs *hubRoom) presentUsers() []int64 {
	ids := make([]int64, 0, len(rs.presence))
	for id := range rs.presence {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// SetPresence records that a connection (key) of a user is looking at a
// room, or no longer is. Presence counts connections: a user is present
// while any of theirs is. Keys starting with "http:" come from plain HTTP
// clients and expire unless renewed within a minute.
func (h *Hub) SetPresence(roomID, userID int64, key string, present bool) {
	rs, err := h.lockedRoom(context.Background(), roomID)
	if err != nil {
		return
	}
	defer rs.mu.Unlock()
	var expiry time.Time
	if len(key) > 5 && key[:5] == "http:" {
		expiry = h.now().Add(httpPresenceTTL)
	}
	if rs.setPresence(userID, key, present, expiry) {
		rs.broadcastPresence()
	}
}

// setPresence reports whether the set of present users changed.
func (rs *hubRoom) setPresence(userID int64, key string, present bool, expiry time.Time) bool {
	keys := rs.presence[userID]
	was := len(keys) > 0
	if present {
		if keys == nil {
			keys = map[string]time.Time{}
			rs.presence[userID] = keys
		}
		keys[key] = expiry
		return !was
	}
	delete(keys, key)
	if len(keys) == 0 {
		delete(rs.presence, userID)
	}
	return was && len(keys) == 0
}

func (rs *hubRoom) broadcastPresence() {
	ev, _ := NewEvent(EventPresence, rs.id, 0, map[string][]int64{"user_ids": rs.presentUsers()})
	rs.broadcast(frameOf(ev), 0)
}

// Typing tells a room, on every node, that user started or stopped typing.
// Starts are throttled to one a second; a start not renewed within five
// seconds expires with a stop. The typist's own connections are not told.
func (h *Hub) Typing(roomID int64, user UserRef, start bool) {
	key := typingKey{roomID, user.ID}
	now := h.now()
	h.typingMu.Lock()
	st, typing := h.typing[key]
	state := ""
	switch {
	case !start && typing:
		delete(h.typing, key)
		state = "stop"
	case start:
		st.user, st.expires = user, now.Add(h.typingTTL)
		if !typing || now.Sub(st.lastSent) >= typingThrottle {
			st.lastSent = now
			state = "start"
		}
		h.typing[key] = st
	}
	h.typingMu.Unlock()
	if state != "" {
		h.sendTyping(roomID, user, state)
	}
}

// stopTyping ends a user's typing in a room, if this node started it.
func (h *Hub) stopTyping(roomID, userID int64) {
	h.typingMu.Lock()
	st, typing := h.typing[typingKey{roomID, userID}]
	h.typingMu.Unlock()
	if typing {
		h.Typing(roomID, st.user, false)
	}
}

func (h *Hub) sendTyping(roomID int64, user UserRef, state string) {
	ev, _ := NewEvent(EventTyping, roomID, 0, typingData{User: typingUser{ID: user.ID, Name: user.Name}, State: state})
	h.send(BrokerMessage{Op: OpRoomEvent, Event: ev, UserID: user.ID})
}

type typingKey struct{ room, user int64 }

type typingUser struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

type typingData struct {
	User  typingUser `json:"user"`
	State string     `json:"state"`
}

type typingState struct {
	user     UserRef
	lastSent time.Time
	expires  time.Time
}
