package campfire

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/http"
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

type typingState struct {
	user     UserRef
	lastSent time.Time
	expires  time.Time
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

// runJanitor expires typing and HTTP presence and fills event gaps.
func (h *Hub) runJanitor() {
	defer h.janitor.Done()
	t := time.NewTicker(janitorInterval)
	defer t.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
			h.expire()
			h.endExpiredSessions()
			h.recheckSessions(ctx)
			h.pruneEvents(ctx)
			h.fillGaps(ctx)
		}
	}
}

func (h *Hub) expire() {
	now := h.now()
	h.mu.Lock()
	rooms := make([]*hubRoom, 0, len(h.rooms))
	for id, rs := range h.rooms {
		rs.mu.Lock()
		idle := len(rs.subs) == 0 && len(rs.presence) == 0 && len(rs.pending) == 0
		rs.dead = idle
		rs.mu.Unlock()
		if idle {
			delete(h.rooms, id) // re-created from the Store when needed
			continue
		}
		rooms = append(rooms, rs)
	}
	h.mu.Unlock()
	h.typingMu.Lock()
	var stopped []typingKey
	for key, st := range h.typing {
		if now.After(st.expires) {
			stopped = append(stopped, key)
		}
	}
	h.typingMu.Unlock()
	for _, key := range stopped {
		h.stopTyping(key.room, key.user)
	}
	for _, rs := range rooms {
		rs.mu.Lock()
		changed := false
		for userID, keys := range rs.presence {
			for key, exp := range keys {
				if !exp.IsZero() && now.After(exp) && rs.setPresence(userID, key, false, time.Time{}) {
					changed = true
				}
			}
		}
		if changed {
			rs.broadcastPresence()
		}
		rs.mu.Unlock()
	}
}

// endExpiredSessions closes the connections whose session has reached its
// end, at most every sessionScanInterval.
func (h *Hub) endExpiredSessions() {
	now := h.now()
	if now.Sub(h.lastSessionScan) < sessionScanInterval {
		return
	}
	h.lastSessionScan = now
	h.closeWhere(func(s *Subscriber) bool { return !s.expires.IsZero() && !now.Before(s.expires) }, ReasonSessionEnded)
}

// pruneEvents forgets, at most every pruneInterval, the events older than
// the retention, on a goroutine of its own so that a long prune holds up
// neither gap fills nor typing. Clients resuming from a cursor that fell out
// of the log get a resync.
func (h *Hub) pruneEvents(ctx context.Context) {
	now := h.now()
	if h.retention <= 0 || now.Sub(h.lastPrune) < pruneInterval || !h.pruning.CompareAndSwap(false, true) {
		return
	}
	h.lastPrune = now
	h.janitor.Add(1)
	go func() {
		defer h.janitor.Done()
		defer h.pruning.Store(false)
		if err := h.store.PruneEvents(ctx, now.Add(-h.retention)); err != nil && ctx.Err() == nil {
			h.logger.Error("campfire: pruning the event logs", "err", err)
		}
	}()
}

// recheckSessions reads from the Store, at most every recheckInterval and
// on a goroutine of its own, whether the session (or, without one, the
// user) of each connection on this node is still valid, and closes those
// that are not. Signing out and deactivating close connections at once
// through the broker; this is what closes them on a node that never got
// that message.
func (h *Hub) recheckSessions(ctx context.Context) {
	now := h.now()
	if now.Sub(h.lastRecheck) < recheckInterval || !h.rechecking.CompareAndSwap(false, true) {
		return
	}
	h.lastRecheck = now
	type owner struct {
		session string
		user    int64
	}
	owners := map[owner][]byte{}
	h.mu.Lock()
	for userID, subs := range h.users {
		for s := range subs {
			owners[owner{s.session, userID}] = s.sessionHash
		}
	}
	h.mu.Unlock()
	h.janitor.Add(1)
	go func() {
		defer h.janitor.Done()
		defer h.rechecking.Store(false)
		for o, hash := range owners {
			var u User
			var err error
			if hash != nil {
				_, u, err = h.store.Session(ctx, hash)
			} else {
				u, err = h.store.User(ctx, o.user)
			}
			if ctx.Err() != nil {
				return
			}
			if err != nil && !errors.Is(err, ErrNotFound) {
				h.logger.Warn("campfire: rechecking a connection's session", "user_id", o.user, "err", err)
				continue // try again next time
			}
			if err == nil && u.Active() {
				continue
			}
			if o.session != "" {
				h.closeWhere(func(s *Subscriber) bool { return s.session == o.session }, ReasonSessionEnded)
			} else {
				h.closeWhere(func(s *Subscriber) bool { return s.user.ID == o.user && s.session == "" }, ReasonSessionEnded)
			}
		}
	}()
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

// ErrClosed is returned by a closed Hub or Subscriber.
var ErrClosed = errors.New("campfire: closed")

// CloseReason says why a connection was closed, as a WebSocket close code
// and a short text that transports pass on.
type CloseReason struct {
	Code int
	Text string
}

// Reasons a Hub closes connections.
var (
	ReasonGoingAway     = CloseReason{Code: 1001, Text: "server shutting down"}
	ReasonSlowConsumer  = CloseReason{Code: 1008, Text: "too slow to keep up; reconnect and resume"}
	ReasonSessionEnded  = CloseReason{Code: 1008, Text: "session ended"}
	ReasonClientClosed  = CloseReason{Code: 1000, Text: "closed"}
	ReasonInternalError = CloseReason{Code: 1011, Text: "internal error"}
)

// Connect registers a live connection of a signed-in user (session is the
// session's key, empty for host identities). The user's per-user events
// reach it from now on; rooms are followed with [Subscriber.Subscribe].
// The transport must call Close when the connection ends; Shutdown waits
// for that. Returns ErrClosed after Shutdown, and an error matching
// ErrRateLimited when the user has MaxConnectionsPerUser already.
func (h *Hub) Connect(user User, session string) (*Subscriber, error) {
	if h.closed.Load() {
		return nil, ErrClosed
	}
	s := &Subscriber{
		hub: h, user: user, session: session,
		id:     h.nextID.Add(1),
		notify: make(chan struct{}, 1),
		done:   make(chan struct{}),
		rooms:  map[int64]*subRoom{},
		limit:  h.queueBytes,
	}
	h.mu.Lock()
	if h.closed.Load() { // raced with shutdown
		h.mu.Unlock()
		return nil, ErrClosed
	}
	if len(h.users[user.ID]) >= h.maxConns {
		h.mu.Unlock()
		return nil, &RateLimitError{RetryAfter: 10 * time.Second}
	}
	// Counted under h.mu: shutdown cannot be waiting yet (see shutdown).
	h.conns.Add(1)
	if h.users[user.ID] == nil {
		h.users[user.ID] = map[*Subscriber]struct{}{}
	}
	h.users[user.ID][s] = struct{}{}
	h.mu.Unlock()
	return s, nil
}

// Connect authenticates r and registers a live connection for its user:
// what a transport calls at the upgrade. It returns ErrUnauthenticated
// without a valid session.
func (s *Server) Connect(r *http.Request) (*Subscriber, error) {
	u, key, err := s.authenticate(r)
	if err != nil {
		return nil, err
	}
	var sessionHash []byte
	if key != "" {
		sessionHash = hashToken(sessionToken(r))
	}
	sub, err := s.hub.Connect(u, key)
	if err != nil {
		return nil, err
	}
	// Registered first, checked again second: a sign-out, password change
	// or deactivation that commits before this read is seen here, and one
	// that commits after it finds the connection registered and closes it.
	expires, err := s.stillSignedIn(r.Context(), u.ID, sessionHash)
	if err != nil {
		sub.Close(ReasonSessionEnded)
		sub.Release()
		return nil, err
	}
	s.hub.mu.Lock() // the janitor reads them under h.mu
	sub.expires = expires
	sub.sessionHash = sessionHash
	s.hub.mu.Unlock()
	return sub, nil
}

// stillSignedIn reads again from the Store whether a connection's user is
// active and, for a built-in session, whether the session still exists, and
// returns when that session ends (zero for host identities).
func (s *Server) stillSignedIn(ctx context.Context, userID int64, sessionHash []byte) (time.Time, error) {
	var u User
	var sess Session
	var err error
	if sessionHash != nil {
		sess, u, err = s.store.Session(ctx, sessionHash)
	} else {
		u, err = s.store.User(ctx, userID)
	}
	if errors.Is(err, ErrNotFound) || err == nil && (!u.Active() || u.ID != userID) {
		return time.Time{}, ErrUnauthenticated
	}
	if err != nil {
		return time.Time{}, err
	}
	if sessionHash == nil {
		return time.Time{}, nil
	}
	return sess.CreatedAt.Add(s.sessionMaxAge), nil
}

// Subscriber is one live connection: a bounded queue of frames that the
// transport drains, and the rooms it follows.
type Subscriber struct {
	hub     *Hub
	user    User
	session string
	id      uint64
	// expires is when the session ends (zero: never); the janitor closes
	// the connection then, and rechecks that the session (nil: the user)
	// is still valid in the Store. Guarded by hub.mu.
	expires     time.Time
	sessionHash []byte

	mu       sync.Mutex
	queue    []Frame
	queued   int // bytes in queue
	limit    int
	notify   chan struct{}
	done     chan struct{}
	reason   CloseReason
	closed   bool
	detached bool
	rooms    map[int64]*subRoom
	present  map[int64]bool
	wake     func() // see OnNotify
}

// subRoom is a subscriber's position in one room.
type subRoom struct {
	last    int64 // seq of the last durable event queued
	holding bool  // being set up: live durable frames wait in held
	held    []Frame
	// confirmed: the Store said the user is a member, after the
	// subscription was registered; ephemeral frames flow from then on.
	confirmed bool
	ended     bool // an event ended the user's access to the room
}

// User is the user the connection belongs to.
func (s *Subscriber) User() User { return s.user }

// Notify is signalled when frames are queued or the subscriber closes.
func (s *Subscriber) Notify() <-chan struct{} { return s.notify }

// OnNotify registers f to be called whenever Notify is signalled, and at
// once if frames are already waiting or the subscriber is closed. f runs on
// the goroutine that queued, while the Hub holds its locks: it must return
// at once and must not call the Hub or the Subscriber. It lets a transport
// start a writer only when there is something to write, rather than park a
// goroutine on Notify for every idle connection.
func (s *Subscriber) OnNotify(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wake = f
	if f != nil && (len(s.queue) > 0 || s.closed) {
		f()
	}
}

// signal wakes the transport. Callers hold s.mu.
func (s *Subscriber) signal() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
	if s.wake != nil {
		s.wake()
	}
}

// Done is closed when the subscriber is closed.
func (s *Subscriber) Done() <-chan struct{} { return s.done }

// Reason is why the subscriber closed; valid after Done.
func (s *Subscriber) Reason() CloseReason {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reason
}

// Take moves the queued frames to dst and returns it: everything that is
// waiting, so the transport can coalesce it into one write.
func (s *Subscriber) Take(dst []Frame) []Frame {
	s.mu.Lock()
	defer s.mu.Unlock()
	dst = append(dst, s.queue...)
	clear(s.queue)
	s.queue = s.queue[:0]
	if cap(s.queue) > keptQueueFrames {
		// After a burst: a subscriber does not keep the largest queue it
		// ever had (with 1,000 subscribers, 18 MB after a saturation run).
		s.queue = nil
	}
	s.queued = 0
	return dst
}

// keptQueueFrames is the largest queue array (40 bytes a frame) a
// Subscriber keeps for reuse after Take: a connection that is drained as
// it goes reuses its array and allocates nothing.
const keptQueueFrames = 256

// deliver queues a per-user frame.
func (s *Subscriber) deliver(f Frame) {
	s.mu.Lock()
	if !s.closed && !s.push(f) {
		// Callers may hold a room's lock, so only mark the subscriber
		// closed here; the transport sees Done and calls Close, which
		// detaches it from its rooms.
		s.markClosed(ReasonSlowConsumer)
	}
	s.mu.Unlock()
}

// deliverRoom queues a live frame of a room, holding durable ones back
// while the subscription is being set up or replayed. It reports false when
// the subscriber no longer follows the room (it left, or this frame ended
// its access), so that the room lets go of it.
func (s *Subscriber) deliverRoom(f Frame) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return true // the transport's Close detaches it
	}
	sr := s.rooms[f.RoomID]
	if sr == nil {
		return false
	}
	if f.Seq == 0 {
		// Typing and presence of a room whose membership is not yet
		// confirmed (the check comes after registering) are dropped, not
		// held: they are of the moment, and an outsider must not see them.
		if sr.confirmed && !s.push(f) {
			s.markClosed(ReasonSlowConsumer)
		}
		return true
	}
	if sr.holding {
		sr.held = append(sr.held, f)
		return true
	}
	return !s.queueDurable(f, sr)
}

// queueDurable queues the room's next durable frame, dropping one already
// queued, and reports whether it ended the user's access to the room: the
// frame itself is the last of the room that reaches the connection, and the
// subscription is gone. Callers hold s.mu.
func (s *Subscriber) queueDurable(f Frame, sr *subRoom) (ended bool) {
	if f.Seq <= sr.last {
		return false
	}
	sr.last = f.Seq
	if !s.push(f) {
		s.markClosed(ReasonSlowConsumer)
	}
	if f.ends.cuts(s.user.ID) {
		s.endRoom(f.RoomID, sr)
		return true
	}
	return false
}

// endRoom forgets a room whose access ended. Callers hold s.mu.
func (s *Subscriber) endRoom(roomID int64, sr *subRoom) {
	sr.ended = true
	sr.held = nil
	if s.rooms[roomID] == sr {
		delete(s.rooms, roomID)
		delete(s.present, roomID)
	}
}

// push appends f if it fits. Callers hold s.mu.
func (s *Subscriber) push(f Frame) bool {
	if s.queued+len(f.Data) > s.limit && len(s.queue) > 0 {
		return false
	}
	s.queue = append(s.queue, f)
	s.queued += len(f.Data)
	s.signal()
	return true
}

// Send queues a frame for this connection alone (a reply to its own
// request, such as an error), subject to the same bound as live events.
func (s *Subscriber) Send(ev Event) {
	s.deliver(Frame{RoomID: ev.RoomID, Data: ev.AppendJSON(nil)})
}

// errAccessEnded stops a replay at the event that ended the user's access;
// errLeft, one whose subscription went away meanwhile.
var (
	errAccessEnded = errors.New("campfire: access to the room ended")
	errLeft        = errors.New("campfire: no longer following the room")
)

// Subscribe follows a room. With replay, the room's durable events with
// seq > since are queued first (from the Store), then live events, with
// nothing missed and nothing twice; without it, only live events. A room
// the user is not a member of returns ErrNotFound. When since is older than
// the Store keeps, a {"type": "resync"} event is queued instead and the room
// is not followed: the client reloads it and subscribes again.
//
// Whatever the state of the subscription, nothing of the room after an
// event that ends the user's access (members.removed naming them,
// room.deleted) reaches the connection: that event is the last.
func (s *Subscriber) Subscribe(ctx context.Context, roomID int64, since int64, replay bool) error {
	h := s.hub
	rs, err := h.lockedRoom(ctx, roomID)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return NotFound("room")
		}
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		rs.mu.Unlock()
		return ErrClosed
	}
	// Live durable frames are held until membership is checked and the
	// replay is done.
	sr := &subRoom{last: rs.next - 1, holding: true}
	if replay {
		sr.last = since
	}
	s.rooms[roomID] = sr
	rs.subs[s] = struct{}{}
	s.mu.Unlock()
	rs.mu.Unlock()

	// Membership is checked after registering, and again after a replay:
	// a removal that committed before a check is seen by it, and one that
	// commits after it reaches this subscription as an event, live or held.
	err = s.checkMember(ctx, roomID, sr)
	if err == nil && replay {
		if err = s.replay(ctx, roomID, sr); err == nil {
			err = s.checkMember(ctx, roomID, sr)
		}
	}
	s.mu.Lock()
	held := sr.held
	sr.held, sr.holding = nil, false
	if err != nil || sr.ended {
		s.mu.Unlock()
		s.Unsubscribe(roomID)
		switch {
		case errors.Is(err, ErrResync):
			s.Send(Event{Type: EventResync, RoomID: roomID})
			return nil
		case errors.Is(err, errAccessEnded), errors.Is(err, errLeft):
			// The replay reached the end of an earlier access. If the user
			// is a member again, the client reloads the room and subscribes
			// from now on.
			if _, merr := h.store.Membership(ctx, roomID, s.user.ID); merr == nil {
				s.Send(Event{Type: EventResync, RoomID: roomID})
			}
			return nil
		case err == nil:
			return nil // a held frame ended the access
		}
		return err
	}
	for _, f := range held {
		if s.closed || s.queueDurable(f, sr) {
			break
		}
	}
	ended := sr.ended
	s.mu.Unlock()
	if ended {
		s.Unsubscribe(roomID)
	}
	return nil
}

// checkMember reads from the Store whether the user is a member of the
// room, and from then on lets the room's ephemeral frames through.
func (s *Subscriber) checkMember(ctx context.Context, roomID int64, sr *subRoom) error {
	if _, err := s.hub.store.Membership(ctx, roomID, s.user.ID); err != nil {
		if errors.Is(err, ErrNotFound) {
			return NotFound("room")
		}
		return err
	}
	s.mu.Lock()
	sr.confirmed = true
	s.mu.Unlock()
	return nil
}

// replay queues the stored events after sr.last, waiting for room in the
// queue rather than overflowing it: a resuming client is not slow, it is
// behind. It stops at an event that ends the user's access.
func (s *Subscriber) replay(ctx context.Context, roomID int64, sr *subRoom) error {
	const page = 500
	for {
		s.mu.Lock()
		from := sr.last
		s.mu.Unlock()
		events, err := s.hub.store.Events(ctx, roomID, from, page)
		if err != nil {
			return err
		}
		for _, ev := range events {
			f := frameOf(ev)
			if f.ends.cuts(s.user.ID) {
				// The end of an earlier access. A member again (added back
				// since) is sent a resync rather than told they left.
				if _, err := s.hub.store.Membership(ctx, roomID, s.user.ID); err == nil {
					return errAccessEnded
				}
			}
			if err := s.pushWait(ctx, f, roomID, sr); err != nil {
				return err
			}
		}
		if len(events) < page {
			return nil
		}
	}
}

func (s *Subscriber) pushWait(ctx context.Context, f Frame, roomID int64, sr *subRoom) error {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return ErrClosed
		}
		if s.rooms[roomID] != sr {
			// Left meanwhile (the user was removed, or unsubscribed).
			s.mu.Unlock()
			return errLeft
		}
		if f.Seq <= sr.last {
			s.mu.Unlock()
			return nil
		}
		if s.queued+len(f.Data) <= s.limit || len(s.queue) == 0 {
			ended := s.queueDurable(f, sr)
			s.mu.Unlock()
			if ended {
				return errAccessEnded
			}
			return nil
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			return ErrClosed
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// Unsubscribe stops following a room.
func (s *Subscriber) Unsubscribe(roomID int64) {
	if rs := s.hub.lookupRoom(roomID); rs != nil {
		rs.mu.Lock()
		delete(rs.subs, s)
		// Whether or not the connection still says it is present: an
		// ended access forgets that first.
		if rs.setPresence(s.user.ID, s.presenceKey(), false, time.Time{}) {
			rs.broadcastPresence()
		}
		rs.mu.Unlock()
	}
	s.forgetRoom(roomID)
}

func (s *Subscriber) forgetRoom(roomID int64) {
	s.mu.Lock()
	delete(s.rooms, roomID)
	delete(s.present, roomID)
	s.mu.Unlock()
}

// Following reports whether the connection follows a room.
func (s *Subscriber) Following(roomID int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rooms[roomID] != nil
}

func (s *Subscriber) presenceKey() string { return "conn:" + idString(int64(s.id)) }

// SetPresence marks the user present in (or absent from) a room through
// this connection; it must follow the room. Being present marks the room
// read.
func (s *Subscriber) SetPresence(ctx context.Context, roomID int64, present bool) error {
	if !s.Following(roomID) {
		return NotFound("room")
	}
	s.mu.Lock()
	if s.present == nil {
		s.present = map[int64]bool{}
	}
	if present {
		s.present[roomID] = true
	} else {
		delete(s.present, roomID)
	}
	s.mu.Unlock()
	s.hub.SetPresence(roomID, s.user.ID, s.presenceKey(), present)
	if !present {
		return nil
	}
	if err := s.hub.store.MarkRead(ctx, roomID, s.user.ID); err != nil {
		return err
	}
	s.hub.publishUserValue(s.user.ID, EventRead, roomID, map[string]int64{"room_id": roomID})
	return nil
}

// Typing tells the room the user started or stopped typing; the connection
// must follow the room.
func (s *Subscriber) Typing(roomID int64, start bool) error {
	if !s.Following(roomID) {
		return NotFound("room")
	}
	s.hub.Typing(roomID, s.user.Ref(), start)
	return nil
}

// Close ends the subscriber: it leaves its rooms, its presence ends, and
// Done is closed. The first reason given is kept.
func (s *Subscriber) Close(reason CloseReason) {
	s.mu.Lock()
	s.markClosed(reason)
	detached := s.detached
	s.detached = true
	rooms := make([]int64, 0, len(s.rooms))
	for id := range s.rooms {
		rooms = append(rooms, id)
	}
	s.mu.Unlock()
	if detached {
		return
	}
	for _, id := range rooms {
		s.Unsubscribe(id)
	}
	h := s.hub
	h.mu.Lock()
	if subs := h.users[s.user.ID]; subs != nil {
		delete(subs, s)
		if len(subs) == 0 {
			delete(h.users, s.user.ID)
		}
	}
	h.mu.Unlock()
}

// markClosed records the reason and wakes the transport. Callers hold s.mu.
func (s *Subscriber) markClosed(reason CloseReason) {
	if s.closed {
		return
	}
	s.closed = true
	s.reason = reason
	close(s.done)
	s.signal()
}

// Release tells the Hub the transport has finished with the subscriber
// (its goroutines are gone). Call it exactly once, after Close.
func (s *Subscriber) Release() { s.hub.conns.Done() }

// MarshalFrames joins frames' data with newlines: one write for many events.
func MarshalFrames(dst []byte, frames []Frame) []byte {
	for i, f := range frames {
		if i > 0 {
			dst = append(dst, '\n')
		}
		dst = append(dst, f.Data...)
	}
	return dst
}

// ErrorEvent is the protocol's error event for err: what a connection gets
// for a bad client frame or a refused subscribe.
func ErrorEvent(err error, roomID int64) Event {
	_, detail, _ := errorStatus(err)
	data, _ := json.Marshal(detail)
	return Event{Type: EventError, RoomID: roomID, Data: data}
}
