// Package websocket carries campfire's event stream over WebSockets, with
// github.com/coder/websocket: GET /api/v1/ws, as PROTOCOL.md describes.
//
//	chat, err := campfire.New(campfire.Config{
//		Store:      db,
//		Transports: []campfire.Transport{websocket.New(nil)},
//	})
//
// The server first sends {"type": "hello", "data": {"user": User}}, then
// the events of the rooms the client subscribes to and the user's own
// events. Queued events leave coalesced: one text message carries every
// event waiting, separated by newlines, up to [Options.MaxCoalesce] bytes.
//
// Client frames are answered in order; a refused one gets an error event
// and the connection stays.
//
// An idle connection costs one parked goroutine, which reads
// (coder/websocket answers pings and the close handshake only while a read
// is in progress), and about 12 KiB of heap, 8 KiB of it the buffers that
// net/http hands over with the connection. The handler starts that
// goroutine and returns once upgraded, so that net/http's deep per-request
// stack is not kept for the life of the socket. Writing, the client's
// requests and keepalive pings run on goroutines started when there is work
// (the Hub wakes the writer through [campfire.Subscriber.OnNotify]) and
// gone when it is done. A server's Shutdown waits for every connection's
// goroutines, up to five seconds for a peer that does not answer the close
// handshake.
package websocket

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/opencampfire/campfire"
)

// Options tune a [Transport]. A nil *Options, or a zero field, means the
// documented default.
type Options struct {
	// OriginPatterns are the other origins whose pages may open a socket:
	// host patterns matched with path.Match ("chat.example.com",
	// "*.example.com", "localhost:5173"), or scheme://host patterns when
	// they contain "://" ("https://*.example.com"). Pages of the server's
	// own host, and clients that send no Origin (not browsers), are always
	// allowed, and so are the server's Config.TrustedOrigins. Nil: same
	// host and TrustedOrigins only. Others get 403 forbidden.
	OriginPatterns []string

	// ReadLimit caps one client frame, in bytes; a larger one closes the
	// connection with 1009 (message too big). Zero: 64 KiB.
	ReadLimit int64

	// PingInterval is how often the server pings each connection; a peer
	// that does not answer within WriteTimeout is gone, and its connection
	// is closed. Zero: 30 seconds. Negative: never ping.
	PingInterval time.Duration

	// WriteTimeout bounds each write, and the wait for a ping's pong; a
	// peer that takes longer is dropped. Zero: 10 seconds.
	WriteTimeout time.Duration

	// MaxCoalesce caps the bytes of one text message into which queued
	// events are joined; an event larger than it goes alone. Zero: 64 KiB.
	MaxCoalesce int

	// Logger receives what goes wrong on the server's side (a store
	// failing during a subscribe). Nil: the server's (Config.Logger).
	Logger *slog.Logger
}

// Defaults of [Options].
const (
	DefaultReadLimit    = 64 << 10
	DefaultPingInterval = 30 * time.Second
	DefaultWriteTimeout = 10 * time.Second
	DefaultMaxCoalesce  = 64 << 10
)

// maxPendingRequests bounds the client frames waiting behind a slow one
// (a subscribe replaying a long history); more are refused with an error
// event rather than queued without bound.
const maxPendingRequests = 64

// Transport serves campfire's event stream over WebSockets.
type Transport struct {
	origins      []string
	readLimit    int64
	pingInterval time.Duration
	writeTimeout time.Duration
	maxCoalesce  int
	logger       *slog.Logger
	buffers      sync.Pool // *writeBuffer, held only while a connection writes
}

var _ campfire.Transport = (*Transport)(nil)

// New returns a Transport configured by opts, which may be nil. It panics
// if an origin pattern is malformed (path.ErrBadPattern): that is a mistake
// in the host's code, better found at start-up than at the first refusal.
func New(opts *Options) *Transport {
	var o Options
	if opts != nil {
		o = *opts
	}
	t := &Transport{
		origins:      o.OriginPatterns,
		readLimit:    o.ReadLimit,
		pingInterval: o.PingInterval,
		writeTimeout: o.WriteTimeout,
		maxCoalesce:  o.MaxCoalesce,
		logger:       o.Logger,
	}
	for _, p := range t.origins {
		if _, err := path.Match(p, ""); err != nil {
			panic(fmt.Sprintf("websocket: origin pattern %q: %v", p, err))
		}
	}
	if t.readLimit <= 0 {
		t.readLimit = DefaultReadLimit
	}
	if t.pingInterval == 0 {
		t.pingInterval = DefaultPingInterval
	}
	if t.writeTimeout <= 0 {
		t.writeTimeout = DefaultWriteTimeout
	}
	if t.maxCoalesce <= 0 {
		t.maxCoalesce = DefaultMaxCoalesce
	}
	t.buffers.New = func() any { return new(writeBuffer) }
	return t
}

// Routes serves GET /ws.
func (t *Transport) Routes(s *campfire.Server) map[string]http.Handler {
	return map[string]http.Handler{
		"GET /ws": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { t.serve(s, w, r) }),
	}
}

// serve checks the origin and the session, upgrades, and runs the
// connection until it ends.
func (t *Transport) serve(s *campfire.Server, w http.ResponseWriter, r *http.Request) {
	if !t.originAllowed(r) && s.CheckOrigin(r) != nil { // Config.TrustedOrigins too
		s.WriteError(w, r, campfire.Forbidden("cross-origin WebSocket refused"))
		return
	}
	sub, err := s.Connect(r)
	if err != nil {
		if errors.Is(err, campfire.ErrClosed) {
			w.Header().Set("Retry-After", "5")
		}
		s.WriteError(w, r, err)
		return
	}
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true, // checked above, so that the refusal is JSON
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil { // Accept has answered (not a WebSocket handshake)
		sub.Close(campfire.ReasonClientClosed)
		sub.Release()
		return
	}
	// The request's context ends when this handler returns, not with the
	// connection; keep its values only.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	cn := &conn{t: t, logger: t.loggerFor(s), c: c, sub: sub, ctx: ctx, cancel: cancel}
	go cn.run() // the handler returns: see the package doc
}

// originAllowed applies the cross-origin rule of the rest of the API
// (Sec-Fetch-Site, or Origin against Host when the browser sends no
// Sec-Fetch-Site), with OriginPatterns as the trusted origins.
func (t *Transport) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return true
	case "":
		if origin == "" {
			return true // not a browser
		}
		if u, err := url.Parse(origin); err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host) {
			return true
		}
	}
	return origin != "" && t.trusted(origin)
}

// trusted reports whether origin matches one of OriginPatterns, as
// coder/websocket's own check does.
func (t *Transport) trusted(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	for _, p := range t.origins {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(target)); ok {
			return true
		}
	}
	return false
}

// conn is one live WebSocket.
type conn struct {
	logger *slog.Logger // the transport's, else the server's
	t      *Transport
	c      *websocket.Conn
	sub    *campfire.Subscriber
	ctx    context.Context // ends when the connection does
	cancel context.CancelFunc

	// mu guards what the goroutines that come and go share. It is a leaf
	// lock: wake takes it under the Hub's locks, so nothing holding it
	// calls the Hub or the Subscriber.
	mu       sync.Mutex
	wg       sync.WaitGroup // the writer, the request worker, a ping
	stopped  bool           // the connection is ending: start nothing more
	writing  bool           // a writer runs
	pending  bool           // the Subscriber signalled since the writer last looked
	closing  bool           // the Hub closed the subscriber; a closer runs
	working  bool           // a request worker runs
	requests []request
	pinger   *time.Timer

	// watchdog cuts a write that outlasts WriteTimeout. Only one goroutine
	// writes messages at a time (hello, then one writer after another,
	// handed over under mu), so it needs no lock of its own.
	watchdog *time.Timer
}

// run serves the connection on the goroutine that reads, and returns when
// the connection has ended and nothing of it runs any more.
func (cn *conn) run() {
	defer cn.sub.Release()
	cn.c.SetReadLimit(cn.t.readLimit)
	// Written before the writer can start, so that it comes first even if
	// the user's events are already queued.
	if err := cn.hello(); err != nil {
		cn.cancel()
		cn.sub.Close(campfire.ReasonClientClosed)
		cn.c.CloseNow()
		return
	}
	cn.sub.OnNotify(cn.wake)
	if cn.t.pingInterval > 0 {
		cn.mu.Lock()
		cn.pinger = time.AfterFunc(cn.t.pingInterval, cn.ping)
		cn.mu.Unlock()
	}

	cn.read()

	cn.mu.Lock()
	cn.stopped = true
	if cn.pinger != nil {
		cn.pinger.Stop()
	}
	cn.mu.Unlock()
	cn.cancel()
	// Keeps the Hub's reason if it closed the subscriber first.
	cn.sub.Close(campfire.ReasonClientClosed)
	cn.c.CloseNow()
	cn.wg.Wait()
	cn.sub.OnNotify(nil)
}

// hello sends {"type": "hello", "data": {"user": User}}, the user with
// their email, as they are allowed to see it.
func (cn *conn) hello() error {
	return cn.write(campfire.HelloEvent(cn.sub.User()).AppendJSON(nil))
}

// write sends one text message within WriteTimeout.
//
// One reusable timer bounds the write, and the write itself gets a context
// that never ends: a context with a deadline per message would cost a
// timer, a cancel registration in the parent and coder/websocket's
// AfterFunc, about ten allocations a message and a seventh of the CPU of a
// busy fan-out. Teardown and the Hub's closer end a stuck write by closing
// the connection.
func (cn *conn) write(p []byte) error {
	if cn.watchdog == nil {
		cn.watchdog = time.AfterFunc(cn.t.writeTimeout, func() { cn.c.CloseNow() })
	} else {
		cn.watchdog.Reset(cn.t.writeTimeout)
	}
	err := cn.c.Write(context.Background(), websocket.MessageText, p)
	cn.watchdog.Stop()
	return err
}

// read handles client frames until the connection ends. Frames are parsed
// here and answered in order by a worker, so that a subscribe replaying a
// long history does not stop the reads that answer pings and notice a close.
//
// The read's context never ends: the read ends when the connection closes
// (every teardown closes it), and coder/websocket registers a
// context.AfterFunc on every read whose context can end, about 500 bytes
// held by each idle connection.
func (cn *conn) read() {
	readCtx := context.WithoutCancel(cn.ctx)
	for {
		typ, data, err := cn.c.Read(readCtx)
		if err != nil {
			return
		}
		var req request
		if typ != websocket.MessageText {
			req = errorRequest(0, "invalid_json", "frames must be JSON text")
		} else {
			req = parseRequest(data)
		}
		cn.enqueue(req)
	}
}

// request is a parsed client frame.
type request struct {
	kind    string // subscribe, unsubscribe, typing, presence, or "" for a refusal
	roomID  int64
	since   int64
	replay  bool
	on      bool           // typing start, presence present
	refusal campfire.Event // the error event to send back when kind is ""
}

type clientFrame struct {
	Type   string `json:"type"`
	RoomID int64  `json:"room_id"`
	Since  *int64 `json:"since"`
	State  string `json:"state"`
}

func parseRequest(data []byte) request {
	var f clientFrame
	if err := json.Unmarshal(data, &f); err != nil {
		return errorRequest(0, "invalid_json", "frame is not valid JSON: "+jsonErrorDetail(err))
	}
	invalid := func(field, message string) request {
		return request{refusal: campfire.ErrorEvent(&campfire.ValidationError{Field: field, Message: message}, f.RoomID)}
	}
	switch f.Type {
	case "subscribe", "unsubscribe", "typing", "presence":
	case "":
		return invalid("type", "is required")
	default:
		return invalid("type", "must be subscribe, unsubscribe, typing or presence")
	}
	if f.RoomID <= 0 {
		return invalid("room_id", "must be a room id")
	}
	req := request{kind: f.Type, roomID: f.RoomID}
	switch f.Type {
	case "subscribe":
		if f.Since != nil {
			if *f.Since < 0 {
				return invalid("since", "must not be negative")
			}
			req.since, req.replay = *f.Since, true
		}
	case "typing":
		switch f.State {
		case "start":
			req.on = true
		case "stop":
		default:
			return invalid("state", "must be start or stop")
		}
	case "presence":
		switch f.State {
		case "present":
			req.on = true
		case "absent":
		default:
			return invalid("state", "must be present or absent")
		}
	}
	return req
}

func errorRequest(roomID int64, code, message string) request {
	data, _ := json.Marshal(campfire.ErrorDetail{Code: code, Message: message})
	return request{refusal: campfire.Event{Type: campfire.EventError, RoomID: roomID, Data: data}}
}

// jsonErrorDetail describes a decoding error without echoing the input.
func jsonErrorDetail(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return te.Field + " has the wrong type"
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	}
	return "not a JSON object"
}

// enqueue hands req to the worker, starting one if none runs.
func (cn *conn) enqueue(req request) {
	cn.mu.Lock()
	if cn.stopped {
		cn.mu.Unlock()
		return
	}
	if len(cn.requests) >= maxPendingRequests {
		cn.mu.Unlock()
		cn.sub.Send(campfire.ErrorEvent(&campfire.RateLimitError{RetryAfter: time.Second}, req.roomID))
		return
	}
	cn.requests = append(cn.requests, req)
	if !cn.working {
		cn.working = true
		cn.wg.Add(1)
		go cn.work()
	}
	cn.mu.Unlock()
}

// work handles the queued requests in order, and exits when none is left.
func (cn *conn) work() {
	defer cn.wg.Done()
	for {
		cn.mu.Lock()
		if len(cn.requests) == 0 || cn.stopped {
			cn.requests = nil
			cn.working = false
			cn.mu.Unlock()
			return
		}
		req := cn.requests[0]
		cn.requests[0] = request{}
		cn.requests = cn.requests[1:]
		cn.mu.Unlock()
		cn.handle(req)
	}
}

// handle carries out one request. Refusals are error events; the
// connection stays.
func (cn *conn) handle(req request) {
	var err error
	switch req.kind {
	case "":
		cn.sub.Send(req.refusal)
		return
	case "subscribe":
		err = cn.sub.Subscribe(cn.ctx, req.roomID, req.since, req.replay)
	case "unsubscribe":
		cn.sub.Unsubscribe(req.roomID)
	case "typing":
		err = cn.sub.Typing(req.roomID, req.on)
	case "presence":
		err = cn.sub.SetPresence(cn.ctx, req.roomID, req.on)
	}
	if err == nil || errors.Is(err, campfire.ErrClosed) || cn.ctx.Err() != nil {
		return
	}
	if !errors.Is(err, campfire.ErrNotFound) {
		cn.logger.ErrorContext(cn.ctx, "campfire: websocket: "+req.kind, "room_id", req.roomID, "user_id", cn.sub.User().ID, "err", err)
	}
	cn.sub.Send(campfire.ErrorEvent(err, req.roomID))
}

// wake is the Subscriber's OnNotify hook. It runs under the Hub's locks,
// so it only starts goroutines: a writer, or tells the running one to look
// again; or, once the Hub has closed the subscriber, a closer.
func (cn *conn) wake() {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if cn.stopped {
		return
	}
	select {
	case <-cn.sub.Done():
		if !cn.closing {
			cn.closing = true
			cn.wg.Add(1)
			go cn.closeForHub()
		}
		return
	default:
	}
	cn.pending = true
	if !cn.writing {
		cn.writing = true
		cn.wg.Add(1)
		go cn.writeLoop()
	}
}

// closeForHub ends the connection with the reason the Hub closed the
// subscriber for (slow consumer, session ended, shutdown). It runs apart
// from the writer, which may be stuck writing to a client that does not
// read: the subscriber leaves its rooms and its presence ends at once, and
// the close frame follows the message being written, or, if that does not
// finish within five seconds, the connection is cut.
func (cn *conn) closeForHub() {
	defer cn.wg.Done()
	r := cn.sub.Reason()
	cn.sub.Close(r)
	cn.c.Close(websocket.StatusCode(r.Code), closeText(r.Text))
}

// writeBuffer is what a writer works with; pooled, so that idle
// connections hold none.
type writeBuffer struct {
	frames []campfire.Frame
	bytes  []byte
}

// maxPooledBuffer keeps the pool from holding on to the rare huge buffer.
const maxPooledBuffer = 256 << 10

// writeLoop writes what is queued, coalesced, until nothing is, or the Hub
// closes the subscriber.
func (cn *conn) writeLoop() {
	defer cn.wg.Done()
	b := cn.t.buffers.Get().(*writeBuffer)
	defer func() {
		clear(b.frames[:cap(b.frames)])
		b.frames = b.frames[:0]
		if cap(b.bytes) > maxPooledBuffer {
			b.bytes = nil
		}
		cn.t.buffers.Put(b)
	}()
	for {
		cn.mu.Lock()
		if !cn.pending || cn.stopped || cn.closing {
			cn.writing = false
			cn.mu.Unlock()
			return
		}
		cn.pending = false
		cn.mu.Unlock()

		b.frames = cn.sub.Take(b.frames[:0])
		if err := cn.writeFrames(b); err != nil {
			// coder/websocket has closed the connection; the reader ends.
			cn.c.CloseNow()
		}
		clear(b.frames) // the frames' data is shared with other connections
	}
}

// writeFrames writes b.frames as few text messages as MaxCoalesce allows.
func (cn *conn) writeFrames(b *writeBuffer) error {
	frames := b.frames
	for len(frames) > 0 {
		select {
		case <-cn.sub.Done():
			// What is left no longer matters; the close frame (see
			// closeForHub) should follow as soon as it can.
			return nil
		default:
		}
		n, size := 1, len(frames[0].Data)
		for n < len(frames) && size+1+len(frames[n].Data) <= cn.t.maxCoalesce {
			size += 1 + len(frames[n].Data)
			n++
		}
		msg := frames[0].Data
		if n > 1 {
			b.bytes = campfire.MarshalFrames(b.bytes[:0], frames[:n])
			msg = b.bytes
		}
		if err := cn.write(msg); err != nil {
			return err
		}
		frames = frames[n:]
	}
	return nil
}

// closeText fits a reason into a close frame (123 bytes).
func closeText(s string) string {
	if len(s) > 123 {
		s = s[:123]
	}
	return s
}

// ping checks that the peer still answers, and schedules the next ping.
// It runs on a timer's goroutine.
func (cn *conn) ping() {
	cn.mu.Lock()
	if cn.stopped {
		cn.mu.Unlock()
		return
	}
	cn.wg.Add(1)
	cn.mu.Unlock()
	defer cn.wg.Done()

	ctx, cancel := context.WithTimeout(cn.ctx, cn.t.writeTimeout)
	err := cn.c.Ping(ctx)
	cancel()
	if err != nil {
		cn.c.CloseNow() // gone, or too slow to be of use; the reader ends
		return
	}
	cn.mu.Lock()
	if !cn.stopped {
		cn.pinger.Reset(cn.t.pingInterval)
	}
	cn.mu.Unlock()
}

// loggerFor is the transport's logger, or else the server's
// ([campfire.Config.Logger]).
func (t *Transport) loggerFor(s *campfire.Server) *slog.Logger {
	if t.logger != nil {
		return t.logger
	}
	return s.Logger()
}
