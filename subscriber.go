package campfire

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"
)

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
	sess, err := s.hub.signedIn(ctx, userID, sessionHash)
	if err != nil || sessionHash == nil {
		return time.Time{}, err
	}
	return sess.CreatedAt.Add(s.sessionMaxAge), nil
}

// signedIn reads from the Store whether a connection's session (or, for
// host identities, sessionHash nil, its user) is still valid: the session
// exists and its user is userID and active. It returns ErrUnauthenticated
// when not, and other errors as the Store gives them.
func (h *Hub) signedIn(ctx context.Context, userID int64, sessionHash []byte) (Session, error) {
	var u User
	var sess Session
	var err error
	if sessionHash != nil {
		sess, u, err = h.store.Session(ctx, sessionHash)
	} else {
		u, err = h.store.User(ctx, userID)
	}
	if errors.Is(err, ErrNotFound) || err == nil && (!u.Active() || u.ID != userID) {
		return Session{}, ErrUnauthenticated
	}
	return sess, err
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
// errRejoined, at the end of an earlier access of someone who is a member
// again; errLeft, one whose subscription went away meanwhile.
var (
	errAccessEnded = errors.New("campfire: access to the room ended")
	errRejoined    = errors.New("campfire: a member again since an earlier access ended")
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
		case errors.Is(err, errRejoined):
			// A member again since: the client reloads the room and
			// subscribes from now on.
			s.Send(Event{Type: EventResync, RoomID: roomID})
			return nil
		case errors.Is(err, errAccessEnded), errors.Is(err, errLeft):
			return nil // the replay ended with the access, or the room was left
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
					return errRejoined
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
