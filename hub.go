package campfire

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Hub fans events out to the live connections of this node: per room to
// the connections subscribed to it, and per user to all of a user's
// connections. Each event is encoded once; every subscriber's queue holds
// the same bytes. Publishing never blocks on a subscriber: one whose queue
// overflows is closed with [ReasonSlowConsumer].
//
// Durable room events are delivered in sequence order per room, whatever
// order they are published in (concurrent requests, several nodes): the Hub
// holds back an event until the ones before it have arrived, and fetches
// from the Store any that do not arrive in time.
type Hub struct {
	store  Store
	broker Broker
	logger *slog.Logger
	now    func() time.Time

	queueBytes int
	maxConns   int
	typingTTL  time.Duration
	gapWait    time.Duration

	mu    sync.Mutex
	rooms map[int64]*hubRoom
	users map[int64]map[*Subscriber]struct{}

	// typing is who started typing through this node, and when to stop.
	typingMu sync.Mutex
	typing   map[typingKey]typingState

	stopBroker func()
	// lastSessionScan is when the janitor last looked for expired
	// sessions, lastPrune when it last pruned the event logs; only the
	// janitor uses them.
	lastSessionScan time.Time
	lastPrune       time.Time
	// lastRecheck is when the janitor last read the sessions of this
	// node's connections from the Store; rechecking while it does.
	lastRecheck time.Time
	rechecking  atomic.Bool
	retention   time.Duration // <= 0: keep events forever
	pruning     atomic.Bool
	conns       sync.WaitGroup
	stop        chan struct{}
	janitor     sync.WaitGroup
	closed      atomic.Bool
	nextID      atomic.Uint64
}

type hubConfig struct {
	retention  time.Duration
	queueBytes int
	maxConns   int
	broker     Broker
	store      Store
	logger     *slog.Logger
	now        func() time.Time
}

// Defaults of the Hub.
const (
	// DefaultQueueBytes bounds what may wait for one slow connection.
	DefaultQueueBytes = 1 << 20
	typingThrottle    = time.Second
	typingExpiry      = 5 * time.Second
	httpPresenceTTL   = 60 * time.Second
	gapWait           = 2 * time.Second
	janitorInterval   = 250 * time.Millisecond
	// sessionScanInterval is how often connections are checked against
	// their session's end.
	sessionScanInterval = 5 * time.Second
	// pruneInterval is how often the event logs are pruned.
	pruneInterval = time.Hour
	// recheckInterval is how often a node reads its connections' sessions
	// from the Store.
	recheckInterval = time.Minute
	// DefaultEventRetention is how long a room's events are kept for
	// clients that resume.
	DefaultEventRetention = 30 * 24 * time.Hour
)

func newHub(cfg hubConfig) (*Hub, error) {
	h := &Hub{
		store: cfg.store, broker: cfg.broker, logger: cfg.logger, now: cfg.now,
		retention:  cfg.retention,
		queueBytes: cmp.Or(cfg.queueBytes, DefaultQueueBytes), maxConns: cmp.Or(cfg.maxConns, 32), typingTTL: typingExpiry, gapWait: gapWait,
		rooms:  map[int64]*hubRoom{},
		users:  map[int64]map[*Subscriber]struct{}{},
		typing: map[typingKey]typingState{},
		stop:   make(chan struct{}),
	}
	h.lastRecheck = h.now()
	if h.broker != nil {
		stop, err := h.broker.Subscribe(h.receive)
		if err != nil {
			return nil, err
		}
		h.stopBroker = stop
	}
	h.janitor.Add(1)
	go h.runJanitor()
	return h, nil
}

// send hands m to the broker, or straight to this Hub with none.
func (h *Hub) send(m BrokerMessage) {
	if h.broker == nil {
		h.receive(m)
		return
	}
	if err := h.broker.Publish(context.Background(), m); err != nil {
		// Durable events are not lost: subscribers that miss them fetch them
		// from the Store when they notice the gap.
		h.logger.Error("campfire: broker publish failed", "op", m.Op, "err", err)
	}
}

// receive applies a message from the broker to this node's connections.
func (h *Hub) receive(m BrokerMessage) {
	switch m.Op {
	case OpRoomEvent:
		h.deliverRoom(m.Event, m.UserID)
	case OpUserEvent:
		f := frameOf(m.Event)
		if m.UserID != 0 {
			h.deliverUsers([]int64{m.UserID}, f)
		}
		h.deliverUsers(m.UserIDs, f)
	case OpLeaveRoom:
		h.leaveRoom(m.RoomID, m.UserID)
	case OpEndSession:
		h.closeWhere(func(s *Subscriber) bool { return s.session == m.Session && m.Session != "" }, ReasonSessionEnded)
	case OpEndUser:
		h.closeWhere(func(s *Subscriber) bool { return s.user.ID == m.UserID }, ReasonSessionEnded)
	case OpCatchUp:
		if rs := h.lookupRoom(m.RoomID); rs != nil {
			rs.mu.Lock()
			rs.catchUp = true
			rs.mu.Unlock()
		}
	}
}

// Publish delivers a room event to the room's subscribers on every node.
func (h *Hub) Publish(ev Event) {
	if ev.Type == "" || ev.RoomID == 0 {
		return
	}
	h.send(BrokerMessage{Op: OpRoomEvent, Event: ev})
}

// PublishUser delivers an event to every connection of a user, on every node.
func (h *Hub) PublishUser(userID int64, ev Event) {
	h.send(BrokerMessage{Op: OpUserEvent, UserID: userID, Event: ev})
}

// PublishUsers delivers one event to every connection of each of the users,
// on every node: as PublishUser for each, in one broker message, with the
// event encoded once.
func (h *Hub) PublishUsers(userIDs []int64, ev Event) {
	if len(userIDs) > 0 {
		h.send(BrokerMessage{Op: OpUserEvent, UserIDs: userIDs, Event: ev})
	}
}

// publishUserValue encodes v as the Data of a per-user event.
func (h *Hub) publishUserValue(userID int64, t EventType, roomID int64, v any) {
	ev, err := NewEvent(t, roomID, 0, v)
	if err != nil {
		h.logger.Error("campfire: encoding event", "type", t, "err", err)
		return
	}
	h.PublishUser(userID, ev)
}

// LeaveRoom stops a user's connections on every node from receiving a room's
// events, and forgets their presence there.
func (h *Hub) LeaveRoom(roomID, userID int64) {
	h.send(BrokerMessage{Op: OpLeaveRoom, RoomID: roomID, UserID: userID})
}

// EndSession closes every connection of a session, on every node.
func (h *Hub) EndSession(key string) {
	h.send(BrokerMessage{Op: OpEndSession, Session: key})
}

// EndUser closes every connection of a user, on every node.
func (h *Hub) EndUser(userID int64) {
	h.send(BrokerMessage{Op: OpEndUser, UserID: userID})
}

// catchUp has every node deliver the events of a room's log that were
// stored without being published one by one.
func (h *Hub) catchUp(roomID int64) {
	h.send(BrokerMessage{Op: OpCatchUp, RoomID: roomID})
}

// Frame is one encoded event in a subscriber's queue. Data is shared by
// every subscriber that receives the event: never modify it.
type Frame struct {
	RoomID int64
	Seq    int64
	Data   []byte
	// ends is who loses access to the room at this event (room.deleted,
	// members.removed); nil for every other event.
	ends *accessEnd
}

// accessEnd is who a durable event cuts off from its room: their streams of
// the room end with it, whatever state they are in.
type accessEnd struct {
	all   bool // the room was deleted
	users []int64
}

// cuts reports whether the event ends userID's access.
func (a *accessEnd) cuts(userID int64) bool {
	return a != nil && (a.all || slices.Contains(a.users, userID))
}

func frameOf(ev Event) Frame {
	// Sized for the envelope around Data, so encoding allocates once.
	buf := make([]byte, 0, len(ev.Data)+len(ev.Type)+64)
	f := Frame{RoomID: ev.RoomID, Seq: ev.Seq, Data: ev.AppendJSON(buf)}
	switch ev.Type {
	case EventRoomDeleted:
		f.ends = &accessEnd{all: true}
	case EventMembersRemoved:
		var d UserIDsData
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			// Unreadable: cut everyone rather than no one. They resume by
			// subscribing again, which checks membership.
			f.ends = &accessEnd{all: true}
		} else {
			f.ends = &accessEnd{users: d.UserIDs}
		}
	}
	return f
}

// HelloEvent is the first event on every connection: the user, as they see
// themself (email included).
func HelloEvent(u User) Event {
	data, _ := json.Marshal(map[string]userJSON{"user": userFor(u, u)})
	return Event{Type: EventHello, Data: data}
}

// hubRoom is the Hub's state for one room with live subscribers.
type hubRoom struct {
	id int64
	mu sync.Mutex
	// next is the seq of the next durable event to deliver; later ones
	// wait in pending until it arrives.
	next       int64
	pending    map[int64]Event
	gapSince   time.Time
	subs       map[*Subscriber]struct{}
	presence   map[int64]map[string]time.Time // user -> connection key -> expiry (zero: none)
	refreshing bool
	// catchUp: the Store has events for this room that were not published
	// one by one; the janitor reads them without waiting for a gap.
	catchUp bool
	// ready is closed once next is known (next is 0 until then, and
	// events wait in pending); err is why the room could not be read.
	ready chan struct{}
	err   error
	// dead: the janitor dropped this idle room from h.rooms. Whoever got it
	// from h.room before that must fetch the room again, or it would join
	// a room that no longer receives events.
	dead bool
}

// room returns the state of a room, creating it with the room's current
// LastSeq as the point from which events are delivered live.
//
// The state is registered before LastSeq is read, so that no event falls
// between the two: one published before registration was committed before
// the read and is counted in LastSeq (its subscribers replay it from the
// Store); one published after is held until next is known.
func (h *Hub) room(ctx context.Context, roomID int64) (*hubRoom, error) {
	h.mu.Lock()
	rs := h.rooms[roomID]
	if rs != nil {
		h.mu.Unlock()
		select {
		case <-rs.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if rs.err != nil {
			return nil, rs.err
		}
		return rs, nil
	}
	rs = &hubRoom{
		id:       roomID,
		ready:    make(chan struct{}),
		pending:  map[int64]Event{},
		subs:     map[*Subscriber]struct{}{},
		presence: map[int64]map[string]time.Time{},
	}
	h.rooms[roomID] = rs
	h.mu.Unlock()

	room, err := h.store.Room(ctx, roomID)
	rs.mu.Lock()
	if err == nil {
		rs.next = room.LastSeq + 1
		for seq := range rs.pending {
			if seq < rs.next {
				delete(rs.pending, seq)
			}
		}
		rs.flushPending()
		if len(rs.pending) > 0 {
			rs.gapSince = h.now()
		}
	}
	rs.err = err
	close(rs.ready)
	rs.mu.Unlock()
	if err != nil {
		h.mu.Lock()
		if h.rooms[roomID] == rs {
			delete(h.rooms, roomID)
		}
		h.mu.Unlock()
		return nil, err
	}
	return rs, nil
}

// lockedRoom is room, locked, and still the one that h.rooms holds.
func (h *Hub) lockedRoom(ctx context.Context, roomID int64) (*hubRoom, error) {
	for {
		rs, err := h.room(ctx, roomID)
		if err != nil {
			return nil, err
		}
		rs.mu.Lock()
		if !rs.dead {
			return rs, nil
		}
		rs.mu.Unlock()
	}
}

func (h *Hub) lookupRoom(roomID int64) *hubRoom {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rooms[roomID]
}

// deliverRoom delivers a room event to the room's subscribers, durable ones
// in sequence order; an ephemeral one skips the connections of skipUser.
func (h *Hub) deliverRoom(ev Event, skipUser int64) {
	rs := h.lookupRoom(ev.RoomID)
	if rs == nil {
		return // nobody here follows the room
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if ev.Seq == 0 {
		rs.broadcast(frameOf(ev), skipUser)
		return
	}
	if ev.Seq < rs.next {
		return // already delivered, or older than every subscription here
	}
	if ev.Seq == rs.next && len(rs.pending) == 0 {
		// The usual case, the next event in order: no need to hold it back.
		rs.next++
		rs.broadcast(frameOf(ev), 0)
		return
	}
	rs.pending[ev.Seq] = ev
	rs.flushPending()
	if len(rs.pending) > 0 && rs.gapSince.IsZero() && rs.next > 0 {
		rs.gapSince = h.now()
	}
}

// flushPending delivers the pending events that are next in sequence.
// Callers hold rs.mu.
func (rs *hubRoom) flushPending() {
	for {
		ev, ok := rs.pending[rs.next]
		if !ok {
			break
		}
		delete(rs.pending, rs.next)
		rs.next++
		rs.broadcast(frameOf(ev), 0)
	}
	if len(rs.pending) == 0 {
		rs.gapSince = time.Time{}
	}
}

// broadcast queues f for every subscriber except skipUser's connections
// (0: none), and lets go of subscribers that no longer follow the room
// (the frame ended their access, or they left). Callers hold rs.mu.
func (rs *hubRoom) broadcast(f Frame, skipUser int64) {
	var gone []*Subscriber
	for s := range rs.subs {
		if s.user.ID != skipUser && !s.deliverRoom(f) {
			gone = append(gone, s)
		}
	}
	changed := false
	for _, s := range gone {
		delete(rs.subs, s)
		if rs.setPresence(s.user.ID, s.presenceKey(), false, time.Time{}) {
			changed = true
		}
	}
	if changed {
		rs.broadcastPresence()
	}
}

// fillGaps fetches from the Store the durable events that were published
// but never arrived (a node died between commit and publish, a broker
// dropped a message), so that no subscriber waits forever.
func (h *Hub) fillGaps(ctx context.Context) {
	h.mu.Lock()
	var stuck []*hubRoom
	now := h.now()
	for _, rs := range h.rooms {
		rs.mu.Lock()
		gap := !rs.gapSince.IsZero() && now.Sub(rs.gapSince) >= h.gapWait
		if rs.next > 0 && (gap || rs.catchUp) && !rs.refreshing {
			rs.refreshing = true
			rs.catchUp = false
			stuck = append(stuck, rs)
		}
		rs.mu.Unlock()
	}
	h.mu.Unlock()
	for _, rs := range stuck {
		rs.mu.Lock()
		from := rs.next - 1
		rs.mu.Unlock()
		events, err := h.store.Events(ctx, rs.id, from, 0)
		rs.mu.Lock()
		rs.refreshing = false
		if err != nil {
			h.logger.Warn("campfire: filling a gap in a room's events", "room_id", rs.id, "err", err)
			// Too old to fetch: tell subscribers to reload, and go on from
			// what did arrive. (The lock was released for the read, so the
			// gap may have filled meanwhile and pending be empty.)
			if errors.Is(err, ErrResync) && len(rs.pending) > 0 {
				rs.broadcast(resyncFrame(rs.id), 0)
				rs.next = slices.Min(slices.Collect(maps.Keys(rs.pending)))
				rs.flushPending()
			}
			rs.mu.Unlock()
			continue
		}
		for _, ev := range events {
			if ev.Seq >= rs.next {
				rs.pending[ev.Seq] = ev
			}
		}
		rs.flushPending()
		rs.mu.Unlock()
	}
}

func resyncFrame(roomID int64) Frame {
	return Frame{RoomID: roomID, Data: Event{Type: EventResync, RoomID: roomID}.AppendJSON(nil)}
}

// deliverUsers queues f for every connection of each of the users on this
// node, taking h.mu once.
func (h *Hub) deliverUsers(userIDs []int64, f Frame) {
	var subs []*Subscriber
	h.mu.Lock()
	for _, id := range userIDs {
		for s := range h.users[id] {
			subs = append(subs, s)
		}
	}
	h.mu.Unlock()
	for _, s := range subs {
		s.deliver(f)
	}
}

// leaveRoom unsubscribes a user's connections on this node from a room.
func (h *Hub) leaveRoom(roomID, userID int64) {
	rs := h.lookupRoom(roomID)
	if rs == nil {
		return
	}
	rs.mu.Lock()
	for s := range rs.subs {
		if s.user.ID == userID {
			delete(rs.subs, s)
			s.forgetRoom(roomID)
		}
	}
	if _, ok := rs.presence[userID]; ok {
		delete(rs.presence, userID)
		rs.broadcastPresence()
	}
	rs.mu.Unlock()
	h.stopTyping(roomID, userID)
}

func (h *Hub) closeWhere(match func(*Subscriber) bool, reason CloseReason) {
	h.mu.Lock()
	var victims []*Subscriber
	for _, subs := range h.users {
		for s := range subs {
			if match(s) {
				victims = append(victims, s)
			}
		}
	}
	h.mu.Unlock()
	for _, s := range victims {
		s.Close(reason)
	}
}

// shutdown closes every connection with ReasonGoingAway and waits for the
// transports to let go of them and for the Hub's own goroutine to end.
func (h *Hub) shutdown(ctx context.Context) error {
	// Under h.mu, so that every Connect either sees closed or has
	// registered (and counted) its subscriber before closeWhere and Wait.
	h.mu.Lock()
	h.closed.Store(true)
	h.mu.Unlock()
	h.closeWhere(func(*Subscriber) bool { return true }, ReasonGoingAway)
	close(h.stop)
	if h.stopBroker != nil {
		h.stopBroker()
	}
	done := make(chan struct{})
	go func() {
		h.janitor.Wait()
		h.conns.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
