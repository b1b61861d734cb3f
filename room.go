package campfire

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// RoomKind says who may be in a room.
type RoomKind string

const (
	// RoomOpen rooms include every active user; new users join them.
	RoomOpen RoomKind = "open"
	// RoomClosed rooms include only the users invited to them.
	RoomClosed RoomKind = "closed"
	// RoomDirect rooms are one per set of users ("Ping"); their kind and
	// their members never change.
	RoomDirect RoomKind = "direct"
)

// Valid reports whether k is one of the three kinds.
func (k RoomKind) Valid() bool { return k == RoomOpen || k == RoomClosed || k == RoomDirect }

// Room is a place where messages are posted.
type Room struct {
	ID        int64
	Kind      RoomKind
	Name      string
	CreatorID int64
	CreatedAt time.Time
	// UpdatedAt moves with every message, so direct rooms can be listed by
	// recent activity.
	UpdatedAt time.Time
	// LastSeq is the sequence number of the room's latest durable event.
	LastSeq int64
	// UserIDs are the members of a direct room, ascending; empty for others.
	UserIDs []int64
}

// Involvement is how much a member hears from a room (Campfire's levels).
type Involvement string

const (
	// InvolvementEverything: unread marks, and notified on every message.
	InvolvementEverything Involvement = "everything"
	// InvolvementMentions: unread marks, notified only when @mentioned. The
	// default for open and closed rooms.
	InvolvementMentions Involvement = "mentions"
	// InvolvementNothing: unread marks, never notified.
	InvolvementNothing Involvement = "nothing"
	// InvolvementInvisible: hidden from the sidebar, never marked unread.
	InvolvementInvisible Involvement = "invisible"
)

// Valid reports whether i is one of the four levels.
func (i Involvement) Valid() bool {
	switch i {
	case InvolvementEverything, InvolvementMentions, InvolvementNothing, InvolvementInvisible:
		return true
	}
	return false
}

// Visible reports whether the room shows in the member's sidebar and gets
// unread marks.
func (i Involvement) Visible() bool { return i != InvolvementInvisible }

// DefaultInvolvement is the level a new member of a room of kind k starts with.
func DefaultInvolvement(k RoomKind) Involvement {
	if k == RoomDirect {
		return InvolvementEverything
	}
	return InvolvementMentions
}

// Membership is one user's place in one room.
type Membership struct {
	RoomID      int64
	UserID      int64
	Involvement Involvement
	// UnreadAt is when the room was first marked unread since the member
	// last read it; nil when read.
	UnreadAt  *time.Time
	CreatedAt time.Time
}

// Unread reports whether the room has messages the member has not read.
func (m Membership) Unread() bool { return m.UnreadAt != nil }

// RoomWithMembership is a room as one of its members sees it.
type RoomWithMembership struct {
	Room
	Membership Membership
}

// Member is a user as a member of a room.
type Member struct {
	User
	Involvement Involvement
}

// MaxRoomNameLength bounds room names, in characters.
const MaxRoomNameLength = 120

// normalizeName trims the value of a name-like field and checks it: a name
// that shows nothing is empty, and one with a character that hides or
// reorders text is refused (see checkVisible).
func normalizeName(field, name string, maxLen int) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case blank(name):
		return "", invalid(field, "must not be empty")
	case utf8.RuneCountInString(name) > maxLen:
		return "", invalid(field, "must be at most %d characters", maxLen)
	case strings.ContainsFunc(name, isControl):
		return "", invalid(field, "must not contain control characters")
	}
	return name, checkVisible(field, name)
}

// directRoomUsers returns the sorted, distinct set of a direct room's users.
func directRoomUsers(creator int64, others []int64) []int64 {
	ids := append([]int64{creator}, others...)
	slices.Sort(ids)
	return slices.Compact(ids)
}

// canAdministerRoom: the room's creator and admins may rename, convert or
// delete a shared room; any participant may delete a direct room.
func canAdministerRoom(u User, r Room) bool {
	return u.Role == RoleAdmin || r.CreatorID == u.ID
}

// roomJSON is the wire shape of a Room.
type roomJSON struct {
	ID         int64           `json:"id"`
	Kind       RoomKind        `json:"kind"`
	Name       string          `json:"name"`
	CreatorID  int64           `json:"creator_id"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
	LastSeq    int64           `json:"last_seq"`
	UserIDs    []int64         `json:"user_ids,omitempty"`
	Membership *membershipJSON `json:"membership,omitempty"`
}

type membershipJSON struct {
	Involvement Involvement `json:"involvement"`
	Unread      bool        `json:"unread"`
}

func (r Room) wire() roomJSON {
	j := roomJSON{
		ID: r.ID, Kind: r.Kind, Name: r.Name, CreatorID: r.CreatorID,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), LastSeq: r.LastSeq,
	}
	if r.Kind == RoomDirect {
		j.UserIDs = r.UserIDs
		if j.UserIDs == nil {
			j.UserIDs = []int64{}
		}
	}
	return j
}

// MarshalJSON writes the protocol's Room shape, without a membership.
func (r Room) MarshalJSON() ([]byte, error) { return json.Marshal(r.wire()) }

// MarshalJSON writes the protocol's Room shape with the caller's membership.
func (r RoomWithMembership) MarshalJSON() ([]byte, error) {
	j := r.Room.wire()
	j.Membership = &membershipJSON{Involvement: r.Membership.Involvement, Unread: r.Membership.Unread()}
	return json.Marshal(j)
}
