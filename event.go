package campfire

import (
	"encoding/json"
	"strconv"
)

// EventType names what happened.
type EventType string

// Durable room events: they carry the room's sequence number, are stored
// in the same transaction as the change, and can be replayed.
const (
	EventMessageCreated EventType = "message.created" // Data: Message
	EventMessageUpdated EventType = "message.updated" // Data: Message
	EventMessageDeleted EventType = "message.deleted" // Data: {"id"}
	EventBoostCreated   EventType = "boost.created"   // Data: Boost
	EventBoostDeleted   EventType = "boost.deleted"   // Data: {"id", "message_id"}
	EventRoomUpdated    EventType = "room.updated"    // Data: Room
	EventRoomDeleted    EventType = "room.deleted"    // Data: {"id"}
	// EventMembersRemoved records that people lost access to the room:
	// removed from a closed room, or deactivated. Their streams of the room
	// end at this event, live, in replay and in gap fill alike.
	EventMembersRemoved EventType = "members.removed" // Data: {"user_ids"}
)

// Ephemeral events: no sequence number, never stored or replayed.
const (
	EventTyping      EventType = "typing"       // Data: {"user": {id, name}, "state"}
	EventPresence    EventType = "presence"     // Data: {"user_ids"}
	EventUnread      EventType = "unread"       // per user; Data: {"room_id"}
	EventRead        EventType = "read"         // per user; Data: {"room_id"}
	EventRoomAdded   EventType = "room.added"   // per user; Data: Room with membership
	EventRoomRemoved EventType = "room.removed" // per user; Data: {"id"}
)

// Connection events, sent to one connection only.
const (
	EventHello  EventType = "hello"  // first event on a connection; Data: {"user"}
	EventResync EventType = "resync" // the room's missed events are gone: reload it
	EventError  EventType = "error"  // Data: {"code", "message"}
)

// Durable reports whether events of type t carry a sequence number and are
// replayed to clients that resume.
func (t EventType) Durable() bool {
	switch t {
	case EventMessageCreated, EventMessageUpdated, EventMessageDeleted,
		EventBoostCreated, EventBoostDeleted, EventRoomUpdated, EventRoomDeleted,
		EventMembersRemoved:
		return true
	}
	return false
}

// Event is one thing that happened in a room or to a user, as every
// transport sends it: {"type", "room_id", "seq", "data"}.
type Event struct {
	Type   EventType       `json:"type"`
	RoomID int64           `json:"room_id,omitempty"`
	Seq    int64           `json:"seq,omitempty"`
	Data   json.RawMessage `json:"data,omitempty"`
}

// NewEvent builds an event whose Data is v encoded as JSON. Stores use it to
// build the durable events they append.
func NewEvent(t EventType, roomID, seq int64, v any) (Event, error) {
	// The common payloads skip encoding/json, which would check and copy
	// what their MarshalJSON returns.
	switch v := v.(type) {
	case Message:
		return Event{Type: t, RoomID: roomID, Seq: seq, Data: v.appendJSON(make([]byte, 0, 512))}, nil
	case Boost:
		return Event{Type: t, RoomID: roomID, Seq: seq, Data: v.appendJSON(nil)}, nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return Event{}, err
	}
	return Event{Type: t, RoomID: roomID, Seq: seq, Data: data}, nil
}

// IDData is the Data of deletion events: {"id"} or {"id", "message_id"}.
type IDData struct {
	ID        int64 `json:"id"`
	MessageID int64 `json:"message_id,omitempty"`
}

// UserIDsData is the Data of members.removed: {"user_ids"}.
type UserIDsData struct {
	UserIDs []int64 `json:"user_ids"`
}

// AppendJSON appends the event's wire encoding to b. It is what Hubs send to
// every subscriber, encoded once.
func (e Event) AppendJSON(b []byte) []byte {
	b = append(b, `{"type":`...)
	b = strconv.AppendQuote(b, string(e.Type))
	if e.RoomID != 0 {
		b = append(b, `,"room_id":`...)
		b = strconv.AppendInt(b, e.RoomID, 10)
	}
	if e.Seq != 0 {
		b = append(b, `,"seq":`...)
		b = strconv.AppendInt(b, e.Seq, 10)
	}
	if len(e.Data) > 0 {
		b = append(b, `,"data":`...)
		b = append(b, e.Data...)
	}
	return append(b, '}')
}
