package campfire

import (
	"context"
	"sync"
)

// Broker carries what a Hub publishes to the Hubs of every node, its own
// included. Implementations deliver each room's messages to a receiver in
// the order they were published on one node; the Hub restores the global
// order of durable events from their sequence numbers.
type Broker interface {
	// Publish hands m to every subscribed receiver.
	Publish(ctx context.Context, m BrokerMessage) error
	// Subscribe registers receive for every message published from now on,
	// until stop is called. receive must not block for long.
	Subscribe(receive func(BrokerMessage)) (stop func(), err error)
}

// BrokerMessage is what crosses between nodes: an event for a room's
// subscribers or a user's connections, or an instruction about connections.
type BrokerMessage struct {
	Op     BrokerOp `json:"op"`
	Event  Event    `json:"event,omitzero"`
	RoomID int64    `json:"room_id,omitempty"`
	// UserID is the recipient of a user event or the user whose
	// connections an ephemeral room event skips (the typist).
	UserID int64 `json:"user_id,omitempty"`
	// UserIDs are the recipients of a user event sent to many at once
	// (the members a message marks unread), besides UserID if set.
	UserIDs []int64 `json:"user_ids,omitempty"`
	// Session is the key of a session whose connections must close.
	Session string `json:"session,omitempty"`
}

// BrokerOp says what a BrokerMessage asks of each node.
type BrokerOp string

const (
	OpRoomEvent  BrokerOp = "room_event"  // deliver Event to Event.RoomID's subscribers
	OpUserEvent  BrokerOp = "user_event"  // deliver Event to the connections of UserID and of UserIDs
	OpLeaveRoom  BrokerOp = "leave_room"  // unsubscribe UserID's connections from RoomID
	OpEndSession BrokerOp = "end_session" // close Session's connections
	OpEndUser    BrokerOp = "end_user"    // close UserID's connections
	// OpCatchUp: RoomID's log has events that were not published one by
	// one (a deactivation appends to every room of the user); each node
	// reads them from the Store and delivers them in order.
	OpCatchUp BrokerOp = "catch_up"
)

// MemoryBroker is a Broker within one process. Several Hubs sharing one
// behave as the nodes of a cluster; tests use it to prove the seam.
type MemoryBroker struct {
	mu        sync.RWMutex
	receivers map[int]func(BrokerMessage)
	next      int
}

// NewMemoryBroker returns an in-process Broker.
func NewMemoryBroker() *MemoryBroker {
	return &MemoryBroker{receivers: map[int]func(BrokerMessage){}}
}

// Publish calls every receiver before returning.
func (b *MemoryBroker) Publish(_ context.Context, m BrokerMessage) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, r := range b.receivers {
		r(m)
	}
	return nil
}

// Subscribe adds receive until stop is called.
func (b *MemoryBroker) Subscribe(receive func(BrokerMessage)) (func(), error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.next
	b.next++
	b.receivers[id] = receive
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.receivers, id)
	}, nil
}
