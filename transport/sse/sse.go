// Package sse carries campfire's event stream as Server-Sent Events, for
// browsers (EventSource) and for clients that cannot open a WebSocket.
//
// A client opens GET /api/v1/sse?rooms=7:118,9:0 and receives the same
// events as over the WebSocket, one per `data:` line. Each event's `id:` is
// a cursor naming, for every room the stream follows, the sequence number
// of the last durable event sent ("7:120,9:4"). EventSource sends the last
// one back as Last-Event-ID when it reconnects, so a dropped stream resumes
// where it stopped, with nothing missed and nothing twice. Typing and
// presence, which a stream cannot send upstream, are plain POSTs
// (/rooms/{id}/typing, /rooms/{id}/presence).
//
//	chat, err := campfire.New(campfire.Config{
//		Store:      db,
//		Transports: []campfire.Transport{sse.New(nil)},
//	})
package sse

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opencampfire/campfire"
)

// Options tune a [Transport]. The zero value, or nil, is the documented
// default of each field.
type Options struct {
	// HeartbeatInterval is how long a stream may stay silent before it gets a
	// comment line (": ping"), so that proxies and load balancers do not
	// close it as idle. Zero: 15s.
	HeartbeatInterval time.Duration

	// WriteTimeout bounds each write to the client. A client that does not
	// take the bytes in time is disconnected; it reconnects and resumes.
	// It also lifts the http.Server's WriteTimeout, which would otherwise
	// end every long-lived stream. Zero: 10s.
	WriteTimeout time.Duration

	// MaxRooms caps the rooms one stream follows; a longer rooms= list is
	// refused with 422. Zero: 100.
	MaxRooms int

	// Logger receives the transport's logs. Nil: the server's (Config.Logger).
	Logger *slog.Logger
}

// Defaults of [Options].
const (
	DefaultHeartbeatInterval = 15 * time.Second
	DefaultWriteTimeout      = 10 * time.Second
	DefaultMaxRooms          = 100
)

// retryMillis is what EventSource waits before it reconnects.
const retryMillis = 2000

// Transport serves the event stream as text/event-stream.
type Transport struct {
	heartbeat    time.Duration
	writeTimeout time.Duration
	maxRooms     int
	logger       *slog.Logger
}

var _ campfire.Transport = (*Transport)(nil)

// New returns an SSE transport; opts may be nil.
func New(opts *Options) *Transport {
	if opts == nil {
		opts = &Options{}
	}
	t := &Transport{
		heartbeat:    opts.HeartbeatInterval,
		writeTimeout: opts.WriteTimeout,
		maxRooms:     opts.MaxRooms,
		logger:       opts.Logger,
	}
	if t.heartbeat <= 0 {
		t.heartbeat = DefaultHeartbeatInterval
	}
	if t.writeTimeout <= 0 {
		t.writeTimeout = DefaultWriteTimeout
	}
	if t.maxRooms <= 0 {
		t.maxRooms = DefaultMaxRooms
	}
	return t
}

// Routes serves GET /sse.
func (t *Transport) Routes(s *campfire.Server) map[string]http.Handler {
	return map[string]http.Handler{
		"GET /sse": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t.serve(s, w, r)
		}),
	}
}

func (t *Transport) serve(s *campfire.Server, w http.ResponseWriter, r *http.Request) {
	sub, err := s.Connect(r)
	if errors.Is(err, campfire.ErrClosed) {
		// Shutting down. An error status would make EventSource give up for
		// good; an empty stream makes it retry, by then on a live server.
		setStreamHeaders(w)
		w.WriteHeader(http.StatusOK)
		w.Write([]byte("retry: " + strconv.Itoa(retryMillis) + "\n\n"))
		return
	}
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	defer sub.Release()
	rooms, err := parseRooms(r.URL.Query()["rooms"], t.maxRooms)
	if err != nil {
		sub.Close(campfire.ReasonClientClosed)
		s.WriteError(w, r, err)
		return
	}
	if last := r.Header.Get("Last-Event-ID"); last != "" {
		resumeFrom(rooms, last, t.maxRooms)
	}

	if r.ProtoMajor == 1 {
		// The connection ends with the stream: the deadline set as the
		// stream ends must not carry over to a next request on it. (Over
		// HTTP/2 this header would close the whole shared connection; there
		// deadlines are per stream anyway.)
		w.Header().Set("Connection", "close")
	}
	st := &stream{
		logger: t.loggerFor(s),
		t:      t, s: s, sub: sub, w: w,
		rc:         http.NewResponseController(w),
		cursor:     newCursor(rooms),
		subscribed: make(chan struct{}),
	}
	ctx, cancel := context.WithCancel(r.Context())
	st.fixNow(ctx, rooms)
	go st.subscribe(ctx, rooms)
	reason := st.run(ctx)
	cancel()
	sub.Close(reason)
	<-st.subscribed // the subscribing goroutine is gone before Release
	// net/http still writes the end of the response after we return: bound
	// that too, or a client that stopped reading would hold the connection
	// (and the host's http.Server.Shutdown) for ever.
	st.setWriteDeadline(r.Context(), time.Now().Add(t.writeTimeout))
}

func setStreamHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass each event on as it comes
}

// roomRequest is one room of rooms=: follow it from seq since (replay), or
// live from now.
type roomRequest struct {
	id     int64
	since  int64
	replay bool
	err    error // reading a live room's LastSeq failed
}

// parseRooms parses rooms=ID:SEQ,ID:SEQ. "ID" and "ID:" follow the room
// live; "ID:SEQ" replays the events after SEQ first (":0" from the start).
func parseRooms(values []string, maxRooms int) ([]roomRequest, error) {
	list := strings.Join(values, ",")
	if list == "" {
		return nil, nil
	}
	items := strings.Split(list, ",")
	if len(items) > maxRooms {
		return nil, &campfire.ValidationError{Field: "rooms", Message: "may name at most " + strconv.Itoa(maxRooms) + " rooms"}
	}
	rooms := make([]roomRequest, 0, len(items))
	seen := make(map[int64]bool, len(items))
	for _, item := range items {
		idText, seqText, hasSeq := strings.Cut(item, ":")
		id, ok := parseNumber(idText)
		if !ok || id == 0 {
			return nil, &campfire.ValidationError{Field: "rooms", Message: "must be a comma-separated list of ROOM_ID or ROOM_ID:SEQ"}
		}
		if seen[id] {
			return nil, &campfire.ValidationError{Field: "rooms", Message: "names room " + strconv.FormatInt(id, 10) + " twice"}
		}
		seen[id] = true
		rq := roomRequest{id: id}
		if hasSeq && seqText != "" {
			seq, ok := parseNumber(seqText)
			if !ok {
				return nil, &campfire.ValidationError{Field: "rooms", Message: "must be a comma-separated list of ROOM_ID or ROOM_ID:SEQ"}
			}
			rq.since, rq.replay = seq, true
		}
		rooms = append(rooms, rq)
	}
	return rooms, nil
}

// parseNumber parses a non-negative decimal integer: digits only, no sign.
func parseNumber(s string) (int64, bool) {
	n, err := strconv.ParseUint(s, 10, 63)
	return int64(n), err == nil
}

// resumeFrom applies a Last-Event-ID cursor: the rooms it names resume from
// its seqs, whatever rooms= said (EventSource reconnects to the same URL).
// A malformed cursor is ignored; it is ours, so only a forged one is.
func resumeFrom(rooms []roomRequest, lastEventID string, maxRooms int) {
	items := strings.Split(lastEventID, ",")
	if len(items) > maxRooms {
		return
	}
	seqs := make(map[int64]int64, len(items))
	for _, item := range items {
		idText, seqText, ok := strings.Cut(item, ":")
		id, idOK := parseNumber(idText)
		seq, seqOK := parseNumber(seqText)
		if !ok || !idOK || !seqOK || id == 0 {
			return
		}
		seqs[id] = seq
	}
	for i := range rooms {
		if seq, ok := seqs[rooms[i].id]; ok {
			rooms[i].since, rooms[i].replay = seq, true
		}
	}
}

// stream is one open event stream.
type stream struct {
	logger *slog.Logger // the transport's, else the server's
	t      *Transport
	s      *campfire.Server
	sub    *campfire.Subscriber
	w      http.ResponseWriter
	rc     *http.ResponseController

	// cursor is the writer's; the subscribing goroutine hands it positions
	// through updates.
	cursor  *cursor
	mu      sync.Mutex
	updates []cursorUpdate

	// subscribed is closed when the subscribing goroutine has returned.
	subscribed chan struct{}

	buf    []byte
	frames []campfire.Frame
}

type cursorUpdate struct {
	room   int64
	seq    int64
	forget bool
}

// fixNow reads the LastSeq of each room to follow live, before the hello
// is written: "live from now" means from before the hello, so a client that
// posts once it has the hello gets its message on the stream, however long
// the subscriptions take. The rooms are then followed from a known seq, so
// that the cursor can name a room before its first event and a reconnect
// loses nothing. The seq reaches the client only once Subscribe has checked
// that the user may see the room.
func (st *stream) fixNow(ctx context.Context, rooms []roomRequest) {
	for i := range rooms {
		if rq := &rooms[i]; !rq.replay {
			room, err := st.s.Store().Room(ctx, rq.id)
			rq.since, rq.err = room.LastSeq, err
		}
	}
}

// subscribe follows the requested rooms. It runs beside the writer because
// a long replay waits for the writer to drain the queue.
func (st *stream) subscribe(ctx context.Context, rooms []roomRequest) {
	defer close(st.subscribed)
	for _, rq := range rooms {
		since := rq.since
		if rq.err != nil {
			if ctx.Err() != nil {
				return
			}
			st.refuse(ctx, rq.id, rq.err)
			continue
		}
		err := st.sub.Subscribe(ctx, rq.id, since, true)
		switch {
		case err == nil:
			// Not following after a nil error: the events after since are
			// gone, and a resync event says so.
			if st.sub.Following(rq.id) {
				st.update(cursorUpdate{room: rq.id, seq: since})
			}
		case errors.Is(err, campfire.ErrClosed), ctx.Err() != nil:
			return
		default:
			st.refuse(ctx, rq.id, err)
		}
	}
}

// refuse tells the client that a room of rooms= cannot be followed.
func (st *stream) refuse(ctx context.Context, roomID int64, err error) {
	if errors.Is(err, campfire.ErrNotFound) {
		err = campfire.NotFound("room")
		// The stream does not follow the room: stop naming it.
		st.update(cursorUpdate{room: roomID, forget: true})
	} else {
		st.logger.ErrorContext(ctx, "campfire/sse: subscribing", "room_id", roomID, "err", err)
	}
	st.sub.Send(campfire.ErrorEvent(err, roomID))
}

func (st *stream) update(u cursorUpdate) {
	st.mu.Lock()
	st.updates = append(st.updates, u)
	st.mu.Unlock()
}

func (st *stream) applyUpdates() {
	st.mu.Lock()
	updates := st.updates
	st.updates = nil
	st.mu.Unlock()
	for _, u := range updates {
		if u.forget {
			st.cursor.forget(u.room)
		} else {
			st.cursor.advance(u.room, u.seq)
		}
	}
}

// run writes the stream until the client leaves or the Hub closes the
// subscriber, and returns the reason to close it with.
func (st *stream) run(ctx context.Context) campfire.CloseReason {
	setStreamHeaders(st.w)
	st.w.WriteHeader(http.StatusOK)
	st.buf = append(st.buf[:0], "retry: "...)
	st.buf = strconv.AppendInt(st.buf, retryMillis, 10)
	st.buf = append(st.buf, "\n\n"...)
	// No id on hello: the client's Last-Event-ID stays what it was.
	st.buf = appendData(st.buf, campfire.HelloEvent(st.sub.User()).AppendJSON(nil))
	if !st.write(ctx, st.buf) {
		return campfire.ReasonClientClosed
	}
	// The heartbeat fires after HeartbeatInterval of silence; every write
	// pushes it back.
	heartbeat := time.NewTimer(st.t.heartbeat)
	defer heartbeat.Stop()
	subscribed := st.subscribed
	for {
		select {
		case <-ctx.Done():
			return campfire.ReasonClientClosed

		case <-st.sub.Done():
			reason := st.sub.Reason()
			if reason != campfire.ReasonGoingAway {
				// EventSource ignores it and reconnects with Last-Event-ID
				// (or gets 401 once the session is over); other clients
				// learn why.
				st.write(ctx, appendClose(st.buf[:0], reason))
			}
			return reason

		case <-st.sub.Notify():
			st.frames = st.sub.Take(st.frames[:0])
			st.applyUpdates()
			if len(st.frames) == 0 {
				continue
			}
			st.buf = st.buf[:0]
			for _, f := range st.frames {
				if f.Seq != 0 {
					st.cursor.advance(f.RoomID, f.Seq)
				}
				st.buf = st.cursor.appendID(st.buf)
				st.buf = appendData(st.buf, f.Data)
			}
			clear(st.frames) // let the Hub's frames go
			if !st.write(ctx, st.buf) {
				return campfire.ReasonClientClosed
			}
			heartbeat.Reset(st.t.heartbeat)

		case <-subscribed:
			// Every room is followed: hand the client the complete cursor
			// now, even if no event comes for a while. An id without data
			// sets EventSource's Last-Event-ID and dispatches nothing.
			subscribed = nil
			st.applyUpdates()
			if st.cursor.unsent() {
				st.buf = append(st.cursor.appendID(st.buf[:0]), '\n')
				if !st.write(ctx, st.buf) {
					return campfire.ReasonClientClosed
				}
				heartbeat.Reset(st.t.heartbeat)
			}

		case <-heartbeat.C:
			if !st.write(ctx, []byte(": ping\n\n")) {
				return campfire.ReasonClientClosed
			}
			heartbeat.Reset(st.t.heartbeat)
		}
	}
}

// write sends b in one write and flushes it, within the write timeout.
//
// The deadline covers the write alone and is cleared after it: over HTTP/2
// a deadline that passes resets the stream even while nothing is being
// written, so one left armed would end every stream that stays quiet for
// longer than the timeout. Clearing it also lifts the http.Server's
// WriteTimeout, which would end every long-lived stream.
func (st *stream) write(ctx context.Context, b []byte) bool {
	if !st.setWriteDeadline(ctx, time.Now().Add(st.t.writeTimeout)) {
		return false
	}
	if _, err := st.w.Write(b); err != nil {
		st.logger.DebugContext(ctx, "campfire/sse: writing", "err", err)
		return false
	}
	if err := st.rc.Flush(); err != nil {
		st.logger.DebugContext(ctx, "campfire/sse: flushing", "err", err)
		return false
	}
	return st.setWriteDeadline(ctx, time.Time{})
}

func (st *stream) setWriteDeadline(ctx context.Context, deadline time.Time) bool {
	err := st.rc.SetWriteDeadline(deadline)
	if err != nil && !errors.Is(err, http.ErrNotSupported) {
		st.logger.DebugContext(ctx, "campfire/sse: setting the write deadline", "err", err)
		return false
	}
	return true
}

// appendData appends one event's data field and the blank line that
// dispatches it. Events are one JSON line; should one hold line breaks
// (JSON whitespace), each line gets its own data: field, which the client
// joins back with "\n".
func appendData(b, data []byte) []byte {
	for {
		b = append(b, "data: "...)
		i := indexLineBreak(data)
		if i < 0 {
			b = append(b, data...)
			return append(b, "\n\n"...)
		}
		b = append(b, data[:i]...)
		b = append(b, '\n')
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
}

func indexLineBreak(b []byte) int {
	for i, c := range b {
		if c == '\n' || c == '\r' {
			return i
		}
	}
	return -1
}

// appendClose appends the close event: {"code", "reason"}, as a WebSocket
// would close.
func appendClose(b []byte, reason campfire.CloseReason) []byte {
	data, _ := json.Marshal(struct {
		Code   int    `json:"code"`
		Reason string `json:"reason"`
	}{reason.Code, reason.Text})
	b = append(b, "event: close\n"...)
	return appendData(b, data)
}

// cursor is the position of a stream in each room it follows: the seq of
// the last durable event sent. It is the id of every event, encoded as
// "7:118,9:4", rooms in the order of rooms=.
type cursor struct {
	rooms []position
	index map[int64]int
	text  []byte // the encoding, valid unless dirty
	dirty bool
	sent  []byte // the last id sent
}

type position struct {
	room  int64
	seq   int64
	known bool
}

// newCursor starts from the positions the client gave (rooms= or
// Last-Event-ID); rooms followed live join once subscribed.
func newCursor(rooms []roomRequest) *cursor {
	c := &cursor{rooms: make([]position, len(rooms)), index: make(map[int64]int, len(rooms)), dirty: true}
	for i, rq := range rooms {
		c.rooms[i] = position{room: rq.id, seq: rq.since, known: rq.replay}
		c.index[rq.id] = i
	}
	return c
}

// advance records that the events of room up to seq are sent (or were, by
// an earlier stream).
func (c *cursor) advance(room, seq int64) {
	i, ok := c.index[room]
	if !ok {
		return
	}
	p := &c.rooms[i]
	if p.known && p.seq >= seq {
		return
	}
	p.seq, p.known = seq, true
	c.dirty = true
}

// forget stops naming a room.
func (c *cursor) forget(room int64) {
	if i, ok := c.index[room]; ok && c.rooms[i].known {
		c.rooms[i].known = false
		c.dirty = true
	}
}

func (c *cursor) encode() []byte {
	if c.dirty {
		c.text = c.text[:0]
		for _, p := range c.rooms {
			if !p.known {
				continue
			}
			if len(c.text) > 0 {
				c.text = append(c.text, ',')
			}
			c.text = strconv.AppendInt(c.text, p.room, 10)
			c.text = append(c.text, ':')
			c.text = strconv.AppendInt(c.text, p.seq, 10)
		}
		c.dirty = false
	}
	return c.text
}

// appendID appends the id field. With no room to name, there is none: an
// empty id would erase the client's Last-Event-ID.
func (c *cursor) appendID(b []byte) []byte {
	text := c.encode()
	if len(text) == 0 {
		return b
	}
	c.sent = append(c.sent[:0], text...)
	b = append(b, "id: "...)
	b = append(b, text...)
	return append(b, '\n')
}

// unsent reports whether the client lacks the current cursor.
func (c *cursor) unsent() bool {
	text := c.encode()
	return len(text) > 0 && string(text) != string(c.sent)
}

// loggerFor is the transport's logger, or else the server's
// ([campfire.Config.Logger]).
func (t *Transport) loggerFor(s *campfire.Server) *slog.Logger {
	if t.logger != nil {
		return t.logger
	}
	return s.Logger()
}
