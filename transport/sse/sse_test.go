package sse_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencampfire/campfire"
	"github.com/opencampfire/campfire/store/sqlite"
	"github.com/opencampfire/campfire/transport/sse"
)

// waitFor bounds every wait for something the server should send promptly.
const waitFor = 10 * time.Second

// env is a campfire on a real SQLite file, served by httptest.
type env struct {
	t       *testing.T
	srv     *campfire.Server
	ts      *httptest.Server
	db      *sqlite.Store
	mu      sync.Mutex
	clients []*client
	streams []*stream
	once    sync.Once
}

func newEnv(t *testing.T, opts *sse.Options) *env {
	t.Helper()
	return newEnvWith(t, opts, func(ts *httptest.Server) { ts.Start() })
}

// newEnvWith lets start configure and start the test server.
func newEnvWith(t *testing.T, opts *sse.Options, start func(*httptest.Server)) *env {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "chat.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := campfire.New(campfire.Config{
		Store:      db,
		Transports: []campfire.Transport{sse.New(opts)},
		PostRate:   -1, // the tests post hundreds of messages in a burst
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv)
	start(ts)
	e := &env{t: t, srv: srv, ts: ts, db: db}
	t.Cleanup(e.close)
	return e
}

// shutdown ends the campfire: every stream closes.
func (e *env) shutdown() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		e.t.Errorf("Shutdown: %v", err)
	}
}

// close shuts everything down, in the order that lets each part finish.
func (e *env) close() {
	e.once.Do(func() {
		e.shutdown()
		e.mu.Lock()
		streams, clients := e.streams, e.clients
		e.mu.Unlock()
		for _, s := range streams {
			s.close()
		}
		e.ts.Close()
		for _, c := range clients {
			c.http.CloseIdleConnections()
		}
		if err := e.db.Close(); err != nil {
			e.t.Errorf("closing the store: %v", err)
		}
	})
}

// client is a browser: its own cookies and connections.
type client struct {
	e    *env
	http *http.Client
	user user
}

type user struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	AvatarURL string `json:"avatar_url"`
}

func (e *env) newClient() *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	// The test server's own transport trusts its certificate and speaks
	// HTTP/2 when the server does; each client gets a copy.
	transport := e.ts.Client().Transport.(*http.Transport).Clone()
	c := &client{e: e, http: &http.Client{Jar: jar, Transport: transport}}
	e.mu.Lock()
	e.clients = append(e.clients, c)
	e.mu.Unlock()
	return c
}

// do sends a JSON request; safe from any goroutine.
func (c *client) do(method, path string, body any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.e.ts.URL+path, r)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// call sends a JSON request, expects status, and decodes the answer into out.
func (c *client) call(method, path string, body any, status int, out any) {
	c.e.t.Helper()
	got, b, err := c.do(method, path, body)
	if err != nil {
		c.e.t.Fatalf("%s %s: %v", method, path, err)
	}
	if got != status {
		c.e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, got, status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.e.t.Fatalf("%s %s: decoding %s: %v", method, path, b, err)
		}
	}
}

type messageRequest struct {
	Body            string `json:"body"`
	ClientMessageID string `json:"client_message_id"`
}

// post posts a message and returns it as the API answered it.
func (c *client) post(roomID int64, body string) json.RawMessage {
	c.e.t.Helper()
	var out struct {
		Message json.RawMessage `json:"message"`
	}
	c.call("POST", fmt.Sprintf("/api/v1/rooms/%d/messages", roomID), messageRequest{Body: body, ClientMessageID: body[:min(len(body), 100)]}, http.StatusCreated, &out)
	return out.Message
}

// fixture is a campfire with an admin, a member, and the "All Talk" room.
type fixture struct {
	*env
	admin, member *client
	room          int64
}

func newFixture(t *testing.T, opts *sse.Options) *fixture {
	t.Helper()
	return newFixtureOn(t, newEnv(t, opts))
}

func newFixtureOn(t *testing.T, e *env) *fixture {
	t.Helper()
	f := &fixture{env: e}
	f.admin = f.newClient()
	var out struct {
		User user `json:"user"`
	}
	f.admin.call("POST", "/api/v1/setup", map[string]string{
		"name": "Ada Lovelace", "email": "ada@example.com", "password": "analytical engine",
	}, http.StatusCreated, &out)
	f.admin.user = out.User

	var account struct {
		JoinCode string `json:"join_code"`
	}
	f.admin.call("GET", "/api/v1/account", nil, http.StatusOK, &account)
	f.member = f.newClient()
	f.member.call("POST", "/api/v1/join/"+account.JoinCode, map[string]string{
		"name": "Bob Builder", "email": "bob@example.com", "password": "can we fix it",
	}, http.StatusCreated, &out)
	f.member.user = out.User

	var rooms struct {
		Rooms []struct {
			ID int64 `json:"id"`
		} `json:"rooms"`
	}
	f.member.call("GET", "/api/v1/rooms", nil, http.StatusOK, &rooms)
	if len(rooms.Rooms) != 1 {
		t.Fatalf("the member is in %d rooms, want All Talk alone", len(rooms.Rooms))
	}
	f.room = rooms.Rooms[0].ID
	return f
}

// lastSeq is the room's latest seq, as the API tells it.
func (c *client) lastSeq(roomID int64) int64 {
	c.e.t.Helper()
	var out struct {
		Room struct {
			LastSeq int64 `json:"last_seq"`
		} `json:"room"`
	}
	c.call("GET", fmt.Sprintf("/api/v1/rooms/%d", roomID), nil, http.StatusOK, &out)
	return out.Room.LastSeq
}

// item is one thing read from an event stream: a dispatched event, a
// comment, or a retry field.
type item struct {
	// ID is the last event ID when the event was dispatched, as EventSource
	// reports it.
	ID string
	// OwnID is the id field of the event's own block; "" without one.
	OwnID   string
	Name    string // the event: field; "" is a plain message
	Data    string
	Comment string
	Retry   string
	isEvent bool
}

// event is the JSON of an event's data.
type event struct {
	Type   string          `json:"type"`
	RoomID int64           `json:"room_id"`
	Seq    int64           `json:"seq"`
	Data   json.RawMessage `json:"data"`
}

func (it item) event(t *testing.T) event {
	t.Helper()
	var ev event
	if err := json.Unmarshal([]byte(it.Data), &ev); err != nil {
		t.Fatalf("event data %q: %v", it.Data, err)
	}
	return ev
}

// stream is an open event stream, parsed as EventSource would.
type stream struct {
	t      *testing.T
	resp   *http.Response
	cancel context.CancelFunc
	items  chan item
	done   chan struct{}

	mu     sync.Mutex
	lastID string
}

// open opens GET /api/v1/sse with query and, if not empty, Last-Event-ID.
func (c *client) open(query, lastEventID string) *stream {
	c.e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", c.e.ts.URL+"/api/v1/sse"+query, nil)
	if err != nil {
		cancel()
		c.e.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		cancel()
		c.e.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		c.e.t.Fatalf("GET /api/v1/sse%s: status %d: %s", query, resp.StatusCode, b)
	}
	s := &stream{t: c.e.t, resp: resp, cancel: cancel, items: make(chan item, 4096), done: make(chan struct{})}
	go s.read(ctx)
	c.e.mu.Lock()
	c.e.streams = append(c.e.streams, s)
	c.e.mu.Unlock()
	return s
}

// read parses the stream by the rules of the HTML standard's EventSource.
func (s *stream) read(ctx context.Context) {
	defer close(s.done)
	defer close(s.items)
	send := func(it item) bool {
		select {
		case s.items <- it:
			return true
		case <-ctx.Done():
			return false
		}
	}
	r := bufio.NewReader(s.resp.Body)
	var name, ownID string
	var data strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if line == "" {
			if data.Len() > 0 {
				s.mu.Lock()
				id := s.lastID
				s.mu.Unlock()
				if !send(item{ID: id, OwnID: ownID, Name: name, Data: strings.TrimSuffix(data.String(), "\n"), isEvent: true}) {
					return
				}
			}
			name, ownID = "", ""
			data.Reset()
			continue
		}
		if line[0] == ':' {
			if !send(item{Comment: strings.TrimPrefix(line[1:], " ")}) {
				return
			}
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			name = value
		case "data":
			data.WriteString(value)
			data.WriteByte('\n')
		case "id":
			if !strings.ContainsRune(value, 0) {
				s.mu.Lock()
				s.lastID = value
				s.mu.Unlock()
				ownID = value
			}
		case "retry":
			if !send(item{Retry: value}) {
				return
			}
		}
	}
}

// LastEventID is what EventSource would send on reconnecting now.
func (s *stream) LastEventID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastID
}

// nextItem returns the next thing read, or fails at the end or on timeout.
func (s *stream) nextItem() item {
	s.t.Helper()
	select {
	case it, ok := <-s.items:
		if !ok {
			s.t.Fatal("the stream ended")
		}
		return it
	case <-time.After(waitFor):
		s.t.Fatal("timed out waiting on the stream")
	}
	panic("unreachable")
}

// next returns the next event, skipping comments.
func (s *stream) next() item {
	s.t.Helper()
	for {
		if it := s.nextItem(); it.isEvent {
			return it
		}
	}
}

// nextOf returns the next event of type typ, skipping others.
func (s *stream) nextOf(typ string) (item, event) {
	s.t.Helper()
	for {
		it := s.next()
		if ev := it.event(s.t); ev.Type == typ {
			return it, ev
		}
	}
}

// end reads until the server ends the stream and returns what came.
func (s *stream) end() []item {
	s.t.Helper()
	var rest []item
	timeout := time.After(waitFor)
	for {
		select {
		case it, ok := <-s.items:
			if !ok {
				return rest
			}
			rest = append(rest, it)
		case <-timeout:
			s.t.Fatal("the stream did not end")
		}
	}
}

// quiet fails if an event of type typ arrives within d.
func (s *stream) quiet(d time.Duration, typ string) {
	s.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case it, ok := <-s.items:
			if !ok {
				return
			}
			if it.isEvent && it.event(s.t).Type == typ {
				s.t.Fatalf("unexpected %s event: %s", typ, it.Data)
			}
		case <-timeout:
			return
		}
	}
}

// close drops the connection, as a browser tab that goes away.
func (s *stream) close() {
	s.cancel()
	s.resp.Body.Close()
	<-s.done
}

// skipHello reads the retry field and the hello event.
func (s *stream) skipHello() {
	s.t.Helper()
	if it := s.next(); it.event(s.t).Type != "hello" {
		s.t.Fatalf("first event %s, want hello", it.Data)
	}
}

func cursorOf(roomID, seq int64) string { return fmt.Sprintf("%d:%d", roomID, seq) }

// jsonEqual compares two JSON texts as values.
func jsonEqual(t *testing.T, what string, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %s: %v", what, got, err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: %s: %v", what, want, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("%s:\n got %s\nwant %s", what, gb, wb)
	}
}

func TestHelloFirst(t *testing.T) {
	f := newFixture(t, nil)
	s := f.member.open("", "")
	for name, want := range map[string]string{
		"Content-Type":      "text/event-stream",
		"Cache-Control":     "no-store",
		"X-Accel-Buffering": "no",
	} {
		if got := s.resp.Header.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if it := s.nextItem(); it.Retry != "2000" {
		t.Errorf("first field %+v, want retry: 2000", it)
	}
	hello := s.nextItem()
	if !hello.isEvent || hello.Name != "" {
		t.Fatalf("second item %+v, want the hello event", hello)
	}
	if hello.ID != "" {
		t.Errorf("hello carries id %q; it must leave Last-Event-ID alone", hello.ID)
	}
	var me struct {
		User json.RawMessage `json:"user"`
	}
	f.member.call("GET", "/api/v1/session", nil, http.StatusOK, &me)
	if !strings.Contains(string(me.User), `"email":"bob@example.com"`) {
		t.Fatalf("GET /session user %s lacks the email", me.User)
	}
	jsonEqual(t, "hello", []byte(hello.Data), []byte(`{"type":"hello","data":{"user":`+string(me.User)+`}}`))
}

func TestMessageArrives(t *testing.T) {
	f := newFixture(t, nil)
	s := f.member.open(fmt.Sprintf("?rooms=%d:%d", f.room, f.member.lastSeq(f.room)), "")
	s.skipHello()

	msg := f.admin.post(f.room, "Hi @Bob, **ship it**")
	it, ev := s.nextOf("message.created")
	var m struct {
		Seq      int64   `json:"seq"`
		Mentions []int64 `json:"mentions"`
	}
	if err := json.Unmarshal(msg, &m); err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, "event", []byte(it.Data),
		[]byte(fmt.Sprintf(`{"type":"message.created","room_id":%d,"seq":%d,"data":%s}`, f.room, m.Seq, msg)))
	if it.Name != "" {
		t.Errorf("event: %q, want a plain message event", it.Name)
	}
	if want := cursorOf(f.room, m.Seq); it.ID != want {
		t.Errorf("id %q, want %q", it.ID, want)
	}
	if ev.Seq != m.Seq || len(m.Mentions) != 1 || m.Mentions[0] != f.member.user.ID {
		t.Errorf("seq %d, mentions %v: want seq %d and a mention of Bob", ev.Seq, m.Mentions, m.Seq)
	}
	if strings.Contains(it.Data, "\n") {
		t.Errorf("event spans lines: %q", it.Data)
	}
}

// TestResumeWithLastEventID is what a browser does: it reads, loses the
// connection, and reconnects to the same URL with Last-Event-ID while new
// messages keep coming. It must receive exactly what it missed.
func TestResumeWithLastEventID(t *testing.T) {
	f := newFixture(t, nil)
	query := fmt.Sprintf("?rooms=%d:%d", f.room, f.member.lastSeq(f.room))
	s := f.member.open(query, "")
	s.skipHello()
	for i := range 5 {
		f.admin.post(f.room, fmt.Sprintf("before-%d", i))
	}
	var last item
	for i := range 5 {
		it, ev := s.nextOf("message.created")
		if want := fmt.Sprintf(`"markdown":"before-%d"`, i); !strings.Contains(string(ev.Data), want) {
			t.Fatalf("event %d: %s, want %s", i, ev.Data, want)
		}
		last = it
	}
	s.close()

	const missed = 500
	body := func(i int) string { return fmt.Sprintf("missed-%03d", i) }
	for i := range missed / 2 {
		f.admin.post(f.room, body(i))
	}
	// The other half is posted while the client reconnects.
	posted := make(chan error, 1)
	go func() {
		for i := missed / 2; i < missed; i++ {
			status, b, err := f.admin.do("POST", fmt.Sprintf("/api/v1/rooms/%d/messages", f.room), messageRequest{Body: body(i), ClientMessageID: body(i)})
			if err == nil && status != http.StatusCreated {
				err = fmt.Errorf("posting %d: status %d: %s", i, status, b)
			}
			if err != nil {
				posted <- err
				return
			}
		}
		posted <- nil
	}()
	s = f.member.open(query, last.ID)
	s.skipHello()

	_, lastSeq, _ := strings.Cut(last.ID, ":")
	var seq int64
	fmt.Sscan(lastSeq, &seq)
	for i := range missed {
		it, ev := s.nextOf("message.created")
		seq++
		if ev.Seq != seq {
			t.Fatalf("event %d has seq %d, want %d", i, ev.Seq, seq)
		}
		if want := fmt.Sprintf(`"markdown":"%s"`, body(i)); !strings.Contains(string(ev.Data), want) {
			t.Fatalf("event %d: %s, want %s", i, ev.Data, want)
		}
		if want := cursorOf(f.room, seq); it.ID != want {
			t.Fatalf("event %d: id %q, want %q", i, it.ID, want)
		}
	}
	if err := <-posted; err != nil {
		t.Fatal(err)
	}
	// Nothing twice: the next message is the next one posted.
	f.admin.post(f.room, "after")
	if _, ev := s.nextOf("message.created"); ev.Seq != seq+1 || !strings.Contains(string(ev.Data), `"markdown":"after"`) {
		t.Fatalf("after the missed messages came %s (seq %d), want \"after\" at seq %d", ev.Data, ev.Seq, seq+1)
	}
}

// TestResumeLiveRoom: a room followed live is named in the cursor as soon as
// it is followed, before any event, so a reconnect loses nothing.
func TestResumeLiveRoom(t *testing.T) {
	f := newFixture(t, nil)
	query := fmt.Sprintf("?rooms=%d", f.room)
	s := f.member.open(query, "")
	s.skipHello()
	want := cursorOf(f.room, f.member.lastSeq(f.room))
	deadline := time.Now().Add(waitFor)
	for s.LastEventID() != want {
		if time.Now().After(deadline) {
			t.Fatalf("Last-Event-ID %q, want %q", s.LastEventID(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
	lastEventID := s.LastEventID()
	s.close()

	for i := range 3 {
		f.admin.post(f.room, fmt.Sprintf("while-away-%d", i))
	}
	s = f.member.open(query, lastEventID)
	s.skipHello()
	for i := range 3 {
		_, ev := s.nextOf("message.created")
		if want := fmt.Sprintf(`"markdown":"while-away-%d"`, i); !strings.Contains(string(ev.Data), want) {
			t.Fatalf("event %d: %s, want %s", i, ev.Data, want)
		}
	}
}

func TestReplayFromZero(t *testing.T) {
	f := newFixture(t, nil)
	for i := range 3 {
		f.admin.post(f.room, fmt.Sprintf("early-%d", i))
	}
	last := f.member.lastSeq(f.room)
	s := f.member.open(fmt.Sprintf("?rooms=%d:0", f.room), "")
	s.skipHello()
	var events []event
	for seq := int64(1); seq <= last; seq++ {
		it := s.next()
		ev := it.event(t)
		if ev.Seq == 0 {
			seq--
			continue // ephemeral
		}
		if ev.RoomID != f.room || ev.Seq != seq || it.ID != cursorOf(f.room, seq) {
			t.Fatalf("event room %d seq %d id %q, want room %d seq %d", ev.RoomID, ev.Seq, it.ID, f.room, seq)
		}
		events = append(events, ev)
	}
	for i, ev := range events[len(events)-3:] {
		if want := fmt.Sprintf(`"markdown":"early-%d"`, i); ev.Type != "message.created" || !strings.Contains(string(ev.Data), want) {
			t.Errorf("replayed %s %s, want %s", ev.Type, ev.Data, want)
		}
	}
	f.admin.post(f.room, "live")
	if _, ev := s.nextOf("message.created"); ev.Seq != last+1 {
		t.Errorf("live message seq %d, want %d", ev.Seq, last+1)
	}
}

func TestRoomNotVisible(t *testing.T) {
	f := newFixture(t, nil)
	var secret struct {
		Room struct {
			ID int64 `json:"id"`
		} `json:"room"`
	}
	f.admin.call("POST", "/api/v1/rooms", map[string]any{"kind": "closed", "name": "Secret"}, http.StatusCreated, &secret)
	hidden := secret.Room.ID
	f.admin.post(hidden, "hidden before")
	const missing = 987654

	s := f.member.open(fmt.Sprintf("?rooms=%d:0,%d,%d:%d", hidden, missing, f.room, f.member.lastSeq(f.room)), "")
	s.skipHello()
	for _, id := range []int64{hidden, missing} {
		it := s.next()
		jsonEqual(t, "error event", []byte(it.Data),
			[]byte(fmt.Sprintf(`{"type":"error","room_id":%d,"data":{"code":"not_found","message":"room not found"}}`, id)))
	}
	f.admin.post(hidden, "hidden after")
	f.admin.post(f.room, "visible")
	for {
		it := s.next()
		ev := it.event(t)
		if ev.RoomID == hidden || strings.Contains(it.Data, "hidden") {
			t.Fatalf("an event of the hidden room arrived: %s", it.Data)
		}
		if strings.Contains(it.ID, fmt.Sprint(hidden)+":") || strings.Contains(it.ID, fmt.Sprint(missing)+":") {
			t.Fatalf("the cursor %q names a room the stream does not follow", it.ID)
		}
		if ev.Type == "message.created" {
			if !strings.Contains(string(ev.Data), `"markdown":"visible"`) {
				t.Fatalf("got %s, want the visible message", ev.Data)
			}
			break
		}
	}
}

func TestHeartbeat(t *testing.T) {
	f := newFixture(t, &sse.Options{HeartbeatInterval: 20 * time.Millisecond})
	s := f.member.open("", "")
	s.skipHello()
	for range 3 {
		it := s.nextItem()
		if it.Comment != "ping" {
			t.Fatalf("got %+v while idle, want the comment \": ping\"", it)
		}
	}
}

func TestLogoutEndsStream(t *testing.T) {
	f := newFixture(t, nil)
	s := f.member.open(fmt.Sprintf("?rooms=%d", f.room), "")
	s.skipHello()
	req, _ := http.NewRequest("GET", f.ts.URL+"/api/v1/sse", nil)
	cookies := f.member.http.Jar.Cookies(req.URL)

	f.member.call("DELETE", "/api/v1/session", nil, http.StatusNoContent, nil)
	rest := s.end()
	var closing []item
	for _, it := range rest {
		if it.Name == "close" {
			closing = append(closing, it)
		}
	}
	if len(closing) != 1 {
		t.Fatalf("the stream ended with %+v, want one close event", rest)
	}
	jsonEqual(t, "close event", []byte(closing[0].Data), []byte(`{"code":1008,"reason":"session ended"}`))

	// The old session cannot open a stream again.
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := f.member.http.Transport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("reconnecting with the ended session: status %d, want 401", resp.StatusCode)
	}
}

// rawGet fetches the stream endpoint and returns the answer in full.
func rawGet(t *testing.T, c *client, query string) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", c.e.ts.URL+"/api/v1/sse"+query, nil)
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestUnauthenticated(t *testing.T) {
	e := newEnv(t, nil)
	resp, body := rawGet(t, e.newClient(), "?rooms=1:0")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want JSON", ct)
	}
	jsonEqual(t, "body", body, []byte(`{"error":{"code":"unauthenticated","message":"sign in first"}}`))
}

func TestMalformedRooms(t *testing.T) {
	f := newFixture(t, nil)
	tooMany := make([]string, sse.DefaultMaxRooms+1)
	for i := range tooMany {
		tooMany[i] = fmt.Sprint(i + 1)
	}
	for _, rooms := range []string{
		"abc", "7:x", "-1", "0", "0:5", "7:-3", "+7", "7:+3", "7:1:2", "7,", ",7", "7,,9", "7,7:0", ":5",
		strings.Join(tooMany, ","),
	} {
		t.Run(rooms[:min(len(rooms), 12)], func(t *testing.T) {
			resp, body := rawGet(t, f.member, "?rooms="+rooms)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422: %s", resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q, want JSON", ct)
			}
			var out struct {
				Error struct {
					Code, Message, Field string
				} `json:"error"`
			}
			if err := json.Unmarshal(body, &out); err != nil {
				t.Fatalf("%s: %v", body, err)
			}
			if out.Error.Code != "invalid" || out.Error.Field != "rooms" || out.Error.Message == "" {
				t.Errorf("error %+v, want code invalid on field rooms", out.Error)
			}
		})
	}
	// The forms that are fine.
	for _, rooms := range []string{"", fmt.Sprint(f.room), fmt.Sprintf("%d:", f.room), fmt.Sprintf("%d:0", f.room)} {
		s := f.member.open("?rooms="+rooms, "")
		s.skipHello()
		s.close()
	}
}

func TestShutdownEndsStreams(t *testing.T) {
	before := runtime.NumGoroutine()
	f := newFixture(t, nil)
	streams := []*stream{
		f.member.open(fmt.Sprintf("?rooms=%d:0", f.room), ""),
		f.member.open("", ""),
		f.admin.open(fmt.Sprintf("?rooms=%d", f.room), ""),
	}
	for _, s := range streams {
		s.skipHello()
	}
	f.admin.post(f.room, "last words")
	for _, s := range streams[:1] {
		s.nextOf("message.created")
	}

	f.shutdown()
	for i, s := range streams {
		for _, it := range s.end() {
			if it.Name == "close" {
				t.Errorf("stream %d: a close event on shutdown: %s", i, it.Data)
			}
		}
	}
	// A stream opened now ends at once, and EventSource will retry.
	resp, body := rawGet(t, f.member, "")
	if resp.StatusCode != http.StatusOK || string(body) != "retry: 2000\n\n" {
		t.Errorf("after shutdown: status %d, body %q; want an empty stream that says retry", resp.StatusCode, body)
	}

	f.close()
	deadline := time.Now().Add(waitFor)
	for {
		n := runtime.NumGoroutine()
		if n <= before {
			break
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before, %d after shutdown:\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// syncStream posts a message and waits for it: then the stream follows the room.
func (f *fixture) syncStream(s *stream, body string) item {
	f.t.Helper()
	f.admin.post(f.room, body)
	for {
		it, ev := s.nextOf("message.created")
		if strings.Contains(string(ev.Data), `"markdown":"`+body+`"`) {
			return it
		}
	}
}

func TestTyping(t *testing.T) {
	f := newFixture(t, nil)
	s := f.member.open(fmt.Sprintf("?rooms=%d", f.room), "")
	s.skipHello()
	last := f.syncStream(s, "ready")

	path := fmt.Sprintf("/api/v1/rooms/%d/typing", f.room)
	for _, state := range []string{"start", "stop"} {
		f.admin.call("POST", path, map[string]string{"state": state}, http.StatusNoContent, nil)
		it, _ := s.nextOf("typing")
		jsonEqual(t, "typing", []byte(it.Data), []byte(fmt.Sprintf(
			`{"type":"typing","room_id":%d,"data":{"user":{"id":%d,"name":"Ada Lovelace"},"state":%q}}`,
			f.room, f.admin.user.ID, state)))
		// Ephemeral events carry the cursor too, so a reconnect never goes back.
		if it.OwnID != last.ID {
			t.Errorf("typing %s: id %q, want the cursor %q", state, it.OwnID, last.ID)
		}
	}
}

func TestPresence(t *testing.T) {
	f := newFixture(t, nil)
	s := f.member.open(fmt.Sprintf("?rooms=%d", f.room), "")
	s.skipHello()
	f.syncStream(s, "ready")

	path := fmt.Sprintf("/api/v1/rooms/%d/presence", f.room)
	for _, c := range []struct {
		state string
		users string
	}{
		{"present", fmt.Sprintf("[%d]", f.admin.user.ID)},
		{"absent", "[]"},
	} {
		f.admin.call("POST", path, map[string]string{"state": c.state}, http.StatusNoContent, nil)
		it, _ := s.nextOf("presence")
		jsonEqual(t, "presence", []byte(it.Data), []byte(fmt.Sprintf(
			`{"type":"presence","room_id":%d,"data":{"user_ids":%s}}`, f.room, c.users)))
	}
}

// TestIdleStreamOutlivesWriteTimeout: the write timeout bounds each write,
// not the silence between them, and the stream outlives the http.Server's
// WriteTimeout. Over HTTP/2 a write deadline left armed resets the stream
// when it passes, even while nothing is being written.
func TestIdleStreamOutlivesWriteTimeout(t *testing.T) {
	for _, c := range []struct {
		name  string
		proto int
		start func(*httptest.Server)
	}{
		{"HTTP1", 1, func(ts *httptest.Server) { ts.Start() }},
		{"HTTP2", 2, func(ts *httptest.Server) { ts.EnableHTTP2 = true; ts.StartTLS() }},
	} {
		t.Run(c.name, func(t *testing.T) {
			// The server's timeout must let the sign-ups (argon2) finish.
			const timeout, serverTimeout = 50 * time.Millisecond, 1500 * time.Millisecond
			opts := &sse.Options{WriteTimeout: timeout, HeartbeatInterval: time.Hour}
			f := newFixtureOn(t, newEnvWith(t, opts, func(ts *httptest.Server) {
				ts.Config.WriteTimeout = serverTimeout
				c.start(ts)
			}))
			s := f.member.open(fmt.Sprintf("?rooms=%d", f.room), "")
			if s.resp.ProtoMajor != c.proto {
				t.Fatalf("the stream is %s, want HTTP/%d", s.resp.Proto, c.proto)
			}
			s.skipHello()
			f.syncStream(s, "first")
			time.Sleep(serverTimeout + 500*time.Millisecond)
			f.syncStream(s, "after a silence")
		})
	}
}

// TestStuckClient: a client that stops reading is disconnected within the
// write timeout, so it cannot hold its handler, or Shutdown, for ever.
func TestStuckClient(t *testing.T) {
	if testing.Short() {
		t.Skip("posts megabytes to fill the socket buffers")
	}
	f := newFixture(t, &sse.Options{WriteTimeout: 200 * time.Millisecond})
	u, _ := url.Parse(f.ts.URL)
	var cookies []string
	for _, c := range f.member.http.Jar.Cookies(u) {
		cookies = append(cookies, c.String())
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Small, so that the socket buffers fill sooner.
	conn.(*net.TCPConn).SetReadBuffer(4 << 10)
	fmt.Fprintf(conn, "GET /api/v1/sse?rooms=%d HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\n\r\n", f.room, u.Host, strings.Join(cookies, "; "))

	// Posts until the server has had to give up on the client: far more
	// than the socket buffers and the Hub's queue hold.
	big := strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", 150)
	start := time.Now()
	for i := 0; i < 200; i++ {
		f.admin.post(f.room, fmt.Sprintf("%03d %s", i, big))
	}
	t.Logf("posted in %v", time.Since(start))

	// Shutdown waits for every stream's handler to let go of its subscriber.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := f.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown with a stuck client: %v", err)
	}
}
