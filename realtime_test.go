package campfire_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/opencampfire/campfire"
	"github.com/opencampfire/campfire/store/sqlite"
	cfws "github.com/opencampfire/campfire/transport/websocket"
)

// The real-time tests run PROTOCOL.md's "Real-time events" end to end: real
// WebSocket clients, through httptest, against a campfire on SQLite, with
// people made through the HTTP API (the world of helpers_test.go).

// rtWorld is a world whose server carries events over WebSockets.
func rtWorld(tb testing.TB, cfg campfire.Config) *world {
	tb.Helper()
	if cfg.Transports == nil {
		cfg.Transports = []campfire.Transport{cfws.New(nil)}
	}
	return newWorld(tb, cfg)
}

// rtEvent is one event as a client receives it.
type rtEvent struct {
	Type   string          `json:"type"`
	RoomID int64           `json:"room_id"`
	Seq    int64           `json:"seq"`
	Data   json.RawMessage `json:"data"`
	raw    []byte
}

// data decodes the event's data as a JSON object.
func (e rtEvent) data(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(e.Data, &m); err != nil {
		tb.Fatalf("data of %s is not an object: %v", e.raw, err)
	}
	return m
}

// rtConn is a client's WebSocket. A goroutine reads it, splits messages on
// newlines as PROTOCOL.md tells clients to, and queues the events.
type rtConn struct {
	tb      testing.TB
	c       *websocket.Conn
	hello   rtEvent
	events  chan rtEvent
	done    chan struct{}
	err     error     // why reading ended; set before done closes
	pending []rtEvent // received, handed back by sync, read before events
}

func rtURL(base string) string { return "ws" + strings.TrimPrefix(base, "http") + "/api/v1/ws" }

// rtDial opens a WebSocket as cl (its cookies) on the server at base (the
// world's when empty), and checks that the first event is the hello.
func rtDial(tb testing.TB, cl *client, base string) *rtConn {
	tb.Helper()
	if base == "" {
		base = cl.base
	}
	c, hello := rtDialWith(tb, cl.http, base)
	rc := &rtConn{tb: tb, c: c, hello: hello, events: make(chan rtEvent, 4096), done: make(chan struct{})}
	tb.Cleanup(func() {
		c.CloseNow()
		<-rc.done
	})
	go rc.read()
	return rc
}

// rtDialWith opens a WebSocket with hc (its cookie jar, its transport)
// and reads the hello, which must come first.
func rtDialWith(tb testing.TB, hc *http.Client, base string) (*websocket.Conn, rtEvent) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, res, err := websocket.Dial(ctx, rtURL(base), &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		tb.Fatalf("dial: %v (status %d)", err, status)
	}
	tb.Cleanup(func() { c.CloseNow() })
	c.SetReadLimit(-1)
	_, msg, err := c.Read(ctx)
	if err != nil {
		tb.Fatalf("reading the hello: %v", err)
	}
	hello := rtEvent{raw: msg}
	if err := json.Unmarshal(msg, &hello); err != nil || hello.Type != "hello" || bytes.Contains(msg, []byte("\n")) {
		tb.Fatalf("first message %q, want the hello alone", msg)
	}
	return c, hello
}

func (rc *rtConn) read() {
	defer close(rc.done)
	defer close(rc.events)
	for {
		typ, msg, err := rc.c.Read(context.Background())
		if err != nil {
			rc.err = err
			return
		}
		if typ != websocket.MessageText {
			rc.err = fmt.Errorf("message type %v, want text", typ)
			return
		}
		for line := range bytes.SplitSeq(msg, []byte("\n")) {
			ev := rtEvent{raw: line}
			if err := json.Unmarshal(line, &ev); err != nil {
				rc.err = fmt.Errorf("line %q: %v", line, err)
				return
			}
			rc.events <- ev
		}
	}
}

// send writes v as a JSON text frame.
func (rc *rtConn) send(v any) {
	rc.tb.Helper()
	b, ok := v.([]byte)
	if !ok {
		var err error
		if b, err = json.Marshal(v); err != nil {
			rc.tb.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rc.c.Write(ctx, websocket.MessageText, b); err != nil {
		rc.tb.Fatalf("send %s: %v", b, err)
	}
}

// next returns the next event, failing the test after d.
func (rc *rtConn) next(d time.Duration) rtEvent {
	rc.tb.Helper()
	if len(rc.pending) > 0 {
		ev := rc.pending[0]
		rc.pending = rc.pending[1:]
		return ev
	}
	select {
	case ev, ok := <-rc.events:
		if !ok {
			rc.tb.Fatalf("connection ended: %v", rc.err)
		}
		return ev
	case <-time.After(d):
		rc.tb.Fatalf("no event within %v", d)
	}
	panic("unreachable")
}

// nextOf returns the next event of one of types, skipping the others
// (per-user unread and read events, presence).
func (rc *rtConn) nextOf(d time.Duration, types ...string) rtEvent {
	rc.tb.Helper()
	deadline := time.Now().Add(d)
	for {
		ev := rc.next(time.Until(deadline))
		if slices.Contains(types, ev.Type) {
			return ev
		}
	}
}

// sync sends a frame the server refuses and returns the events that arrive
// before the refusal. The server answers a connection's frames in order,
// so everything that the frames sent before caused has arrived by then.
func (rc *rtConn) sync() []rtEvent {
	rc.tb.Helper()
	rc.send(map[string]any{"type": "sync"})
	var before []rtEvent
	for {
		ev := rc.next(5 * time.Second)
		if ev.Type == "error" && ev.data(rc.tb)["field"] == "type" {
			return before
		}
		before = append(before, ev)
	}
}

// subscribe follows a room from since (nil: live only) and waits until the
// server has done it.
func (rc *rtConn) subscribe(room int64, since any) {
	rc.tb.Helper()
	f := map[string]any{"type": "subscribe", "room_id": room}
	if since != nil {
		f["since"] = since
	}
	rc.send(f)
	before := rc.sync()
	for _, ev := range before {
		if ev.Type == "error" || ev.Type == "resync" {
			rc.tb.Fatalf("subscribe %d: %s", room, ev.raw)
		}
	}
	rc.pending = append(before, rc.pending...)
}

// closed waits for the connection to end and returns the close status and
// reason it received.
func (rc *rtConn) closed(d time.Duration) (websocket.StatusCode, string) {
	rc.tb.Helper()
	rc.pending = nil
	timeout := time.After(d)
	for {
		select {
		case _, ok := <-rc.events:
			if ok {
				continue
			}
			var ce websocket.CloseError
			if errors.As(rc.err, &ce) {
				return ce.Code, ce.Reason
			}
			return -1, fmt.Sprint(rc.err)
		case <-timeout:
			rc.tb.Fatalf("connection still open after %v", d)
		}
	}
}

// rtLastSeq is the room's latest seq, as a client learns it.
func rtLastSeq(tb testing.TB, cl *client, room int64) int64 {
	tb.Helper()
	r := cl.must(200, "GET", roomPath(room, ""), nil)["room"].(map[string]any)
	return int64(r["last_seq"].(float64))
}

// rtPost posts from any goroutine (client.must may only fail the test from
// the test's own).
func rtPost(cl *client, room int64, body string) (map[string]any, error) {
	b, _ := json.Marshal(map[string]any{"body": body})
	res, err := cl.http.Post(cl.base+roomPath(room, "/messages"), "application/json", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != 201 {
		msg, _ := io.ReadAll(res.Body)
		return nil, fmt.Errorf("post: %s: %s", res.Status, msg)
	}
	var m map[string]any
	return m, json.NewDecoder(res.Body).Decode(&m)
}

// rtJSON decodes raw JSON for comparisons.
func rtJSON(tb testing.TB, raw []byte) any {
	tb.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		tb.Fatalf("%s: %v", raw, err)
	}
	return v
}

// rtWantEvent checks an event's exact PROTOCOL.md shape: the four keys
// (no seq for ephemeral events), and data equal to want.
func rtWantEvent(tb testing.TB, ev rtEvent, typ string, room, seq int64, want any) {
	tb.Helper()
	top := rtJSON(tb, ev.raw).(map[string]any)
	keys := slices.Sorted(maps.Keys(top))
	wantKeys := []string{"type"}
	if typ != "resync" {
		wantKeys = append(wantKeys, "data")
	}
	if room != 0 {
		wantKeys = append(wantKeys, "room_id")
	}
	if seq != 0 {
		wantKeys = append(wantKeys, "seq")
	}
	slices.Sort(wantKeys)
	if !slices.Equal(keys, wantKeys) {
		tb.Fatalf("event keys %v, want %v: %s", keys, wantKeys, ev.raw)
	}
	if ev.Type != typ || ev.RoomID != room || ev.Seq != seq {
		tb.Fatalf("event %s, want type %s room_id %d seq %d", ev.raw, typ, room, seq)
	}
	if want != nil && !reflect.DeepEqual(top["data"], want) {
		tb.Fatalf("%s data\n got %v\nwant %v", typ, top["data"], want)
	}
}

func TestRealtimeHello(t *testing.T) {
	w := rtWorld(t, campfire.Config{})
	rc := rtDial(t, w.bob, "")
	rtWantEvent(t, rc.hello, "hello", 0, 0, nil)
	user := rc.hello.data(t)["user"]
	// The user as they see themself, email included.
	want := w.bob.must(200, "GET", "/api/v1/session", nil)["user"]
	if !reflect.DeepEqual(user, want) {
		t.Fatalf("hello user %v, want %v", user, want)
	}
	if user.(map[string]any)["email"] != "bob@example.com" {
		t.Fatalf("hello user %v without the email", user)
	}
}

// TestRealtimeRoomEvents: a change by one person reaches everyone following
// the room, its author's own connection too, as PROTOCOL.md shapes it, with
// consecutive seqs.
func TestRealtimeRoomEvents(t *testing.T) {
	w := rtWorld(t, campfire.Config{})
	room := w.allTalk
	seq := rtLastSeq(t, w.admin, room)
	admin, bob := rtDial(t, w.admin, ""), rtDial(t, w.bob, "")
	admin.subscribe(room, seq)
	bob.subscribe(room, seq)
	both := []*rtConn{admin, bob}
	durable := []string{"message.created", "message.updated", "message.deleted", "boost.created", "boost.deleted", "room.updated", "room.deleted"}

	expect := func(typ string, want any) {
		t.Helper()
		seq++
		for _, rc := range both {
			rtWantEvent(t, rc.nextOf(5*time.Second, durable...), typ, room, seq, want)
		}
	}

	msg := w.bob.post(room, "Hi @Ada, **ship it**")
	if int64(msg["seq"].(float64)) != seq+1 {
		t.Fatalf("message seq %v, want %d", msg["seq"], seq+1)
	}
	expect("message.created", msg)
	mid := id(msg)

	edited := w.bob.must(200, "PATCH", roomPath(room, fmt.Sprintf("/messages/%d", mid)), map[string]any{"body": "shipped"})["message"]
	expect("message.updated", edited)

	boost := w.admin.must(201, "POST", roomPath(room, fmt.Sprintf("/messages/%d/boosts", mid)), map[string]any{"content": "🔥"})["boost"]
	expect("boost.created", boost)

	w.admin.must(204, "DELETE", roomPath(room, fmt.Sprintf("/messages/%d/boosts/%d", mid, id(boost))), nil)
	expect("boost.deleted", map[string]any{"id": float64(id(boost)), "message_id": float64(mid)})

	w.bob.must(204, "DELETE", roomPath(room, fmt.Sprintf("/messages/%d", mid)), nil)
	expect("message.deleted", map[string]any{"id": float64(mid)})

	renamed := w.admin.must(200, "PATCH", roomPath(room, ""), map[string]any{"name": "Everybody"})["room"].(map[string]any)
	delete(renamed, "membership") // a member's own view; the event is the room's
	renamed["last_seq"] = float64(seq + 1)
	renamed["updated_at"] = nil // compared apart: moves with the change
	ev := admin.nextOf(5*time.Second, durable...)
	got := ev.data(t)
	if got["updated_at"] == nil {
		t.Fatalf("room.updated without updated_at: %s", ev.raw)
	}
	got["updated_at"] = nil
	seq++
	rtWantEvent(t, ev, "room.updated", room, seq, nil)
	if !reflect.DeepEqual(got, renamed) {
		t.Fatalf("room.updated data\n got %v\nwant %v", got, renamed)
	}
	if ev := bob.nextOf(5*time.Second, durable...); ev.Type != "room.updated" || ev.Seq != seq {
		t.Fatalf("bob got %s, want room.updated", ev.raw)
	}

	// Nothing else durable came, and nothing twice.
	for _, rc := range both {
		for _, ev := range rc.sync() {
			if ev.Seq != 0 {
				t.Fatalf("extra event %s", ev.raw)
			}
		}
	}

	// Deleting a room tells its followers, then takes it from its members.
	plans := id(w.admin.must(201, "POST", "/api/v1/rooms", map[string]any{"kind": "closed", "name": "Plans", "user_ids": []int64{w.bobID}})["room"])
	plansSeq := rtLastSeq(t, w.admin, plans)
	admin.subscribe(plans, plansSeq)
	bob.subscribe(plans, plansSeq)
	w.admin.must(204, "DELETE", roomPath(plans, ""), nil)
	for _, rc := range both {
		rtWantEvent(t, rc.nextOf(5*time.Second, durable...), "room.deleted", plans, plansSeq+1, map[string]any{"id": float64(plans)})
		if ev := rc.nextOf(5*time.Second, "room.removed"); ev.RoomID != plans {
			t.Fatalf("room.removed %s", ev.raw)
		}
	}
}

// TestRealtimeUserEvents: per-user events arrive without subscribing.
func TestRealtimeUserEvents(t *testing.T) {
	w := rtWorld(t, campfire.Config{})
	bob := rtDial(t, w.bob, "")
	w.admin.post(w.allTalk, "anyone?")
	ev := bob.nextOf(5*time.Second, "unread")
	rtWantEvent(t, ev, "unread", w.allTalk, 0, map[string]any{"room_id": float64(w.allTalk)})

	room := w.admin.must(201, "POST", "/api/v1/rooms", map[string]any{"kind": "closed", "name": "Plans", "user_ids": []int64{w.bobID}})["room"]
	ev = bob.nextOf(5*time.Second, "room.added")
	if ev.RoomID != id(room) || id(ev.data(t)) != id(room) {
		t.Fatalf("room.added %s, want room %d", ev.raw, id(room))
	}
	for _, ev := range bob.sync() {
		if ev.Seq != 0 {
			t.Fatalf("a room event without subscribing: %s", ev.raw)
		}
	}
}

// TestRealtimeResume: a client that was away gets exactly what it missed,
// in order, none twice, while more is being posted as it comes back.
func TestRealtimeResume(t *testing.T) {
	const before, during = 400, 100
	w := rtWorld(t, campfire.Config{})
	room := w.allTalk
	bob := rtDial(t, w.bob, "")
	bob.subscribe(room, rtLastSeq(t, w.bob, room))
	w.admin.post(room, "before the drop")
	last := bob.nextOf(5*time.Second, "message.created").Seq
	bob.c.Close(websocket.StatusNormalClosure, "")

	for i := range before {
		w.admin.post(room, fmt.Sprintf("missed %d", i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	wg.Go(func() {
		for i := range during {
			if _, err := rtPost(w.admin, room, fmt.Sprintf("missed %d", before+i)); err != nil {
				errs <- err
				return
			}
		}
	})
	bob = rtDial(t, w.bob, "")
	bob.send(map[string]any{"type": "subscribe", "room_id": room, "since": last})
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}

	for i := range before + during {
		ev := bob.nextOf(10*time.Second, "message.created", "message.updated", "message.deleted", "resync", "error")
		if ev.Type != "message.created" || ev.Seq != last+int64(i)+1 {
			t.Fatalf("event %d: %.100s, want message.created seq %d", i, ev.raw, last+int64(i)+1)
		}
		body := ev.data(t)["body"].(map[string]any)["markdown"]
		if want := fmt.Sprintf("missed %d", i); body != want {
			t.Fatalf("event %d: body %q, want %q", i, body, want)
		}
	}
	for _, ev := range bob.sync() {
		if ev.Seq != 0 {
			t.Fatalf("after the %d missed events: %.100s", before+during, ev.raw)
		}
	}
}

// TestRealtimeResync: a cursor older than what the store keeps gets
// "resync", and the room is not followed.
func TestRealtimeResync(t *testing.T) {
	db := openStore(t)
	w := rtWorld(t, campfire.Config{Store: db})
	for i := range 3 {
		w.admin.post(w.allTalk, fmt.Sprint(i))
	}
	if err := db.PruneEvents(context.Background(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	bob := rtDial(t, w.bob, "")
	bob.send(map[string]any{"type": "subscribe", "room_id": w.allTalk, "since": 0})
	ev := bob.nextOf(5*time.Second, "resync", "message.created", "error")
	rtWantEvent(t, ev, "resync", w.allTalk, 0, nil)
	w.admin.post(w.allTalk, "after")
	for _, ev := range bob.sync() {
		if ev.Seq != 0 {
			t.Fatalf("a room followed after resync: %s", ev.raw)
		}
	}
}

// rtSend writes a JSON text frame on a bare connection.
func rtSend(tb testing.TB, c *websocket.Conn, v any) {
	tb.Helper()
	b, _ := json.Marshal(v)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, b); err != nil {
		tb.Fatalf("send %s: %v", b, err)
	}
}

// rtPrefix reads type and seq from the start of an event line without
// decoding the rest: the server writes them first.
func rtPrefix(line []byte) (typ string, seq int64) {
	if len(line) > 200 {
		line = line[:200]
	}
	s := string(line)
	if rest, ok := strings.CutPrefix(s, `{"type":"`); ok {
		typ, _, _ = strings.Cut(rest, `"`)
	}
	if _, rest, ok := strings.Cut(s, `,"seq":`); ok {
		end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
		if end > 0 {
			seq, _ = strconv.ParseInt(rest[:end], 10, 64)
		}
	}
	return typ, seq
}

// TestRealtimeSlowConsumer: a client that never reads is disconnected with
// 1008 once its queue overflows, while 100 others receive everything.
//
// The Hub queues at most campfire.DefaultQueueBytes (1 MiB) for a
// connection, but before that fills, the kernel's socket buffers and the
// message being written absorb more; so the test posts 9,000-character
// messages (27 KB as events) until the server lets go of the client, which
// it sees as the client's presence ending.
func TestRealtimeSlowConsumer(t *testing.T) {
	if testing.Short() {
		t.Skip("moves about 500 MB through 101 sockets")
	}
	const readers = 100
	w := rtWorld(t, campfire.Config{MaxConnectionsPerUser: readers + 1}) // the readers are all bob
	room := w.allTalk
	since := rtLastSeq(t, w.admin, room)

	type reader struct {
		last atomic.Int64 // seq of the last message.created
		err  error
		done chan struct{}
	}
	rs := make([]*reader, readers)
	for i := range rs {
		c, _ := rtDialWith(t, w.bob.http, w.ts.URL)
		rtSend(t, c, map[string]any{"type": "subscribe", "room_id": room, "since": since})
		r := &reader{done: make(chan struct{})}
		r.last.Store(since)
		rs[i] = r
		go func() {
			defer close(r.done)
			for {
				_, msg, err := c.Read(context.Background())
				if err != nil {
					r.err = err
					return
				}
				for line := range bytes.SplitSeq(msg, []byte("\n")) {
					typ, seq := rtPrefix(line)
					if typ != "message.created" {
						continue
					}
					if want := r.last.Load() + 1; seq != want {
						r.err = fmt.Errorf("seq %d, want %d", seq, want)
						return
					}
					r.last.Store(seq)
				}
			}
		}()
	}

	// Carol never reads.
	slow, _ := rtDialWith(t, w.carol.http, w.ts.URL)
	rtSend(t, slow, map[string]any{"type": "subscribe", "room_id": room})
	rtSend(t, slow, map[string]any{"type": "presence", "room_id": room, "state": "present"})
	carolPresent := func() bool { return slices.Contains(w.chat.Hub().Present(room), w.carolID) }
	deadline := time.Now().Add(5 * time.Second)
	for !carolPresent() {
		if time.Now().After(deadline) {
			t.Fatal("carol never became present")
		}
		time.Sleep(5 * time.Millisecond)
	}

	body := strings.Repeat("campfire ", 1000) // 9,000 characters
	start := time.Now()
	posted := int64(0)
	for carolPresent() {
		if posted == 1500 {
			t.Fatal("the client that never reads was never disconnected")
		}
		w.admin.post(room, body)
		posted++
	}
	t.Logf("dropped after %d messages of 9,000 characters, %v", posted, time.Since(start).Round(time.Millisecond))

	// Carol reads at last: what was written before the drop, then 1008.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	slow.SetReadLimit(-1)
	for {
		_, _, err := slow.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation || !strings.Contains(ce.Reason, "slow") {
			t.Fatalf("the slow client's connection ended with %v, want 1008 and a reason", err)
		}
		break
	}

	// The others received everything, promptly.
	last := since + posted
	deadline = time.Now().Add(10 * time.Second)
	for i, r := range rs {
		for r.last.Load() < last {
			select {
			case <-r.done:
				t.Fatalf("reader %d ended at seq %d of %d: %v", i, r.last.Load(), last, r.err)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("reader %d at seq %d of %d, 10s after the last post", i, r.last.Load(), last)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	t.Logf("the %d others had all %d messages %v after the first post", readers, posted, time.Since(start).Round(time.Millisecond))
}

// TestRealtimeAccess: a room the caller cannot see answers not_found and
// sends nothing; a member removed from a room stops receiving it at once.
func TestRealtimeAccess(t *testing.T) {
	w := rtWorld(t, campfire.Config{})
	carol := rtDial(t, w.carol, "")
	for _, room := range []int64{w.secret, w.dm, 999999} {
		carol.send(map[string]any{"type": "subscribe", "room_id": room, "since": 0})
		ev := carol.nextOf(5*time.Second, "error", "message.created", "resync")
		rtWantEvent(t, ev, "error", room, 0, nil)
		if ev.data(t)["code"] != "not_found" {
			t.Fatalf("subscribe to %d: %s, want not_found", room, ev.raw)
		}
	}
	w.admin.post(w.secret, "between us")
	carol.send(map[string]any{"type": "typing", "room_id": w.secret, "state": "start"})
	if ev := carol.nextOf(5*time.Second, "error"); ev.data(t)["code"] != "not_found" {
		t.Fatalf("typing in a room not followed: %s", ev.raw)
	}
	for _, ev := range carol.sync() {
		if ev.RoomID == w.secret && ev.Type != "error" {
			t.Fatalf("a non-member received %s", ev.raw)
		}
	}

	// Bob follows Secret until the admin takes him out of it.
	bob := rtDial(t, w.bob, "")
	bob.subscribe(w.secret, rtLastSeq(t, w.bob, w.secret))
	bob.subscribe(w.allTalk, nil)
	w.admin.post(w.secret, "still here?")
	bob.nextOf(5*time.Second, "message.created")
	w.admin.must(200, "PATCH", roomPath(w.secret, ""), map[string]any{"user_ids": []int64{}})
	removed := time.Now()
	if ev := bob.nextOf(time.Second, "room.removed"); ev.RoomID != w.secret {
		t.Fatalf("room.removed %s", ev.raw)
	}
	w.admin.post(w.secret, "bob is gone")
	// Published after the one above: had it reached bob, it would be first.
	w.admin.post(w.allTalk, "marker")
	ev := bob.nextOf(time.Second, "message.created")
	if ev.RoomID != w.allTalk {
		t.Fatalf("a removed member received %s", ev.raw)
	}
	t.Logf("removal effective within %v", time.Since(removed).Round(time.Millisecond))
	bob.send(map[string]any{"type": "subscribe", "room_id": w.secret})
	if ev := bob.nextOf(5*time.Second, "error"); ev.data(t)["code"] != "not_found" {
		t.Fatalf("a removed member subscribed again: %s", ev.raw)
	}
}

// TestRealtimePresence: a person is present while any of their connections
// is; presence counts connections, not people.
func TestRealtimePresence(t *testing.T) {
	w := rtWorld(t, campfire.Config{})
	room := w.allTalk
	watcher := rtDial(t, w.admin, "")
	watcher.subscribe(room, nil)
	present := func(want ...int64) {
		t.Helper()
		ev := watcher.nextOf(5*time.Second, "presence")
		ids := []int64{}
		for _, v := range ev.data(t)["user_ids"].([]any) {
			ids = append(ids, int64(v.(float64)))
		}
		rtWantEvent(t, ev, "presence", room, 0, nil)
		if want == nil {
			want = []int64{}
		}
		if !slices.Equal(ids, want) {
			t.Fatalf("present %v, want %v", ids, want)
		}
	}
	noPresenceChange := func() {
		t.Helper()
		for _, ev := range watcher.sync() {
			if ev.Type == "presence" {
				t.Fatalf("unexpected %s", ev.raw)
			}
		}
	}

	tab1, tab2 := rtDial(t, w.bob, ""), rtDial(t, w.bob, "")
	for _, tab := range []*rtConn{tab1, tab2} {
		tab.subscribe(room, nil)
		tab.send(map[string]any{"type": "presence", "room_id": room, "state": "present"})
		tab.sync()
	}
	present(w.bobID)
	noPresenceChange() // the second tab changed nothing

	tab1.c.Close(websocket.StatusNormalClosure, "")
	tab1.closed(5 * time.Second)
	noPresenceChange()
	if got := w.chat.Hub().Present(room); !slices.Equal(got, []int64{w.bobID}) {
		t.Fatalf("one tab closed: present %v, want bob", got)
	}

	tab2.send(map[string]any{"type": "presence", "room_id": room, "state": "absent"})
	present()
	tab2.send(map[string]any{"type": "presence", "room_id": room, "state": "present"})
	present(w.bobID)
	tab2.c.Close(websocket.StatusNormalClosure, "")
	present()
}

// rtClock is a clock that tests move forward.
type rtClock struct{ offset atomic.Int64 }

func (c *rtClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *rtClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// TestRealtimeTyping: start and stop reach the others (not the typist);
// repeated starts are throttled; a start not renewed expires with a stop.
func TestRealtimeTyping(t *testing.T) {
	clock := &rtClock{}
	w := rtWorld(t, campfire.Config{Now: clock.Now})
	room := w.allTalk
	admin, bob := rtDial(t, w.admin, ""), rtDial(t, w.bob, "")
	admin.subscribe(room, nil)
	bob.subscribe(room, nil)
	typing := func(state string) {
		t.Helper()
		ev := admin.nextOf(2*time.Second, "typing")
		rtWantEvent(t, ev, "typing", room, 0, map[string]any{
			"user": map[string]any{"id": float64(w.bobID), "name": "Bob Marley"}, "state": state,
		})
	}
	noTyping := func(rc *rtConn) {
		t.Helper()
		for _, ev := range rc.sync() {
			if ev.Type == "typing" {
				t.Fatalf("unexpected %s", ev.raw)
			}
		}
	}

	bob.send(map[string]any{"type": "typing", "room_id": room, "state": "start"})
	typing("start")
	bob.send(map[string]any{"type": "typing", "room_id": room, "state": "start"})
	noTyping(admin) // throttled: one start a second
	noTyping(bob)   // never to the typist
	bob.send(map[string]any{"type": "typing", "room_id": room, "state": "stop"})
	typing("stop")

	bob.send(map[string]any{"type": "typing", "room_id": room, "state": "start"})
	typing("start")
	clock.Advance(6 * time.Second) // five seconds of silence, and then some
	start := time.Now()
	typing("stop")
	t.Logf("expired %v after the clock moved", time.Since(start).Round(time.Millisecond))
}

// TestRealtimeLogout: ending a session closes its sockets, and only its.
func TestRealtimeLogout(t *testing.T) {
	w := rtWorld(t, campfire.Config{})
	other := newClient(t, w.ts.URL) // bob, signed in on a second device
	other.must(200, "POST", "/api/v1/session", map[string]any{"email": "bob@example.com", "password": testPassword})
	phone, laptop := rtDial(t, other, ""), rtDial(t, w.bob, "")

	w.bob.must(204, "DELETE", "/api/v1/session", nil)
	code, reason := laptop.closed(5 * time.Second)
	if code != websocket.StatusPolicyViolation || reason != "session ended" {
		t.Fatalf("closed with %d %q, want 1008 \"session ended\"", code, reason)
	}
	phone.subscribe(w.allTalk, nil) // still up

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, res, err := websocket.Dial(ctx, rtURL(w.ts.URL), &websocket.DialOptions{HTTPClient: w.bob.http})
	if err == nil || res == nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("dial after logout: %v, want 401", err)
	}
}

// TestRealtimeOversizedFrame: a frame over the read limit closes with 1009.
func TestRealtimeOversizedFrame(t *testing.T) {
	w := rtWorld(t, campfire.Config{})
	rc := rtDial(t, w.bob, "")
	big, _ := json.Marshal(map[string]any{"type": "subscribe", "room_id": w.allTalk, "pad": strings.Repeat("x", cfws.DefaultReadLimit)})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rc.c.Write(ctx, websocket.MessageText, big) // may fail once the server closes
	if code, _ := rc.closed(5 * time.Second); code != websocket.StatusMessageTooBig {
		t.Fatalf("closed with %d, want 1009", code)
	}
}

// TestRealtimeMalformedFrames: every bad frame gets an error event, and the
// connection stays usable.
func TestRealtimeMalformedFrames(t *testing.T) {
	w := rtWorld(t, campfire.Config{})
	rc := rtDial(t, w.bob, "")
	room := w.allTalk
	for _, tt := range []struct {
		name, frame, code, field string
	}{
		{"NotJSON", `hello`, "invalid_json", ""},
		{"NotAnObject", `[1,2]`, "invalid_json", ""},
		{"Truncated", `{"type":"subscribe",`, "invalid_json", ""},
		{"RoomIDNotANumber", `{"type":"subscribe","room_id":"7"}`, "invalid_json", ""},
		{"NoType", `{"room_id":7}`, "invalid", "type"},
		{"UnknownType", `{"type":"dance","room_id":7}`, "invalid", "type"},
		{"NoRoom", `{"type":"subscribe"}`, "invalid", "room_id"},
		{"NegativeSince", fmt.Sprintf(`{"type":"subscribe","room_id":%d,"since":-1}`, room), "invalid", "since"},
		{"TypingState", fmt.Sprintf(`{"type":"typing","room_id":%d,"state":"maybe"}`, room), "invalid", "state"},
		{"PresenceState", fmt.Sprintf(`{"type":"presence","room_id":%d}`, room), "invalid", "state"},
		{"PresenceNotFollowing", fmt.Sprintf(`{"type":"presence","room_id":%d,"state":"present"}`, room), "not_found", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rc.tb = t
			rc.send([]byte(tt.frame))
			ev := rc.nextOf(5*time.Second, "error")
			d := ev.data(t)
			if d["code"] != tt.code || (tt.field != "" && d["field"] != tt.field) || d["message"] == "" {
				t.Fatalf("%s: %s, want code %s field %q", tt.frame, ev.raw, tt.code, tt.field)
			}
		})
	}
	rc.tb = t
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rc.c.Write(ctx, websocket.MessageBinary, []byte{1, 2, 3})
	if ev := rc.nextOf(5*time.Second, "error"); ev.data(t)["code"] != "invalid_json" {
		t.Fatalf("binary frame: %s", ev.raw)
	}

	rc.subscribe(room, rtLastSeq(t, w.bob, room))
	w.admin.post(room, "still listening?")
	if ev := rc.nextOf(5*time.Second, "message.created"); ev.RoomID != room {
		t.Fatalf("%s", ev.raw)
	}
}

// TestRealtimeUpgradeRefused: a cross-origin page gets 403, no session 401,
// both in the protocol's error shape and before any upgrade.
func TestRealtimeUpgradeRefused(t *testing.T) {
	w := rtWorld(t, campfire.Config{})
	upgrade := func(origin string) func(*http.Request) {
		return func(r *http.Request) {
			r.Header.Set("Connection", "Upgrade")
			r.Header.Set("Upgrade", "websocket")
			r.Header.Set("Sec-WebSocket-Version", "13")
			r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
			if origin != "" {
				r.Header.Set("Origin", origin)
			}
		}
	}
	w.bob.do("GET", "/api/v1/ws", nil, upgrade("http://evil.example")).wantError(t, 403, "forbidden")
	newClient(t, w.ts.URL).do("GET", "/api/v1/ws", nil, upgrade("")).wantError(t, 401, "unauthenticated")
	newClient(t, w.ts.URL).do("GET", "/api/v1/ws", nil, upgrade(w.ts.URL)).wantError(t, 401, "unauthenticated")

	// The same checks through a WebSocket client.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, res, err := websocket.Dial(ctx, rtURL(w.ts.URL), &websocket.DialOptions{
		HTTPClient: w.bob.http, HTTPHeader: http.Header{"Origin": {"http://evil.example"}},
	})
	if err == nil || res == nil || res.StatusCode != 403 {
		t.Fatalf("cross-origin dial: %v, want 403", err)
	}
	rc := rtDial(t, w.bob, "") // the same client, same origin: welcome
	rc.subscribe(w.allTalk, nil)
}

// TestRealtimeShutdownLeavesNoGoroutine: Shutdown closes every socket with
// 1001 and returns once nothing of the server runs.
func TestRealtimeShutdownLeavesNoGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()

	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "chat.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	chat, err := campfire.New(campfire.Config{Store: db, Transports: []campfire.Transport{cfws.New(&cfws.Options{PingInterval: 20 * time.Millisecond})}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(chat)
	jar, _ := cookiejar.New(nil)
	admin := &client{tb: t, base: ts.URL, http: &http.Client{Jar: jar, Transport: &http.Transport{}}}
	u := admin.must(201, "POST", "/api/v1/setup", map[string]any{"name": "Ada", "email": "ada@example.com", "password": testPassword})
	rooms := admin.must(200, "GET", "/api/v1/rooms", nil)["rooms"].([]any)
	room := id(rooms[0])

	var conns []*websocket.Conn
	for i := range 5 {
		c, _ := rtDialWith(t, admin.http, ts.URL)
		rtSend(t, c, map[string]any{"type": "subscribe", "room_id": room, "since": 0})
		rtSend(t, c, map[string]any{"type": "presence", "room_id": room, "state": "present"})
		if i%2 == 0 {
			rtSend(t, c, map[string]any{"type": "typing", "room_id": room, "state": "start"})
		}
		conns = append(conns, c)
	}
	ended := make(chan error, len(conns))
	for _, c := range conns {
		go func() {
			var err error
			for err == nil {
				_, _, err = c.Read(context.Background())
			}
			ended <- err
		}()
	}
	admin.post(room, "everyone, we're closing")
	time.Sleep(100 * time.Millisecond) // pings, writers, workers at work
	_ = u

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := chat.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	t.Logf("Shutdown took %v", time.Since(start).Round(time.Millisecond))
	for i := range conns {
		if err := <-ended; websocket.CloseStatus(err) != websocket.StatusGoingAway {
			t.Errorf("connection %d ended with %v, want 1001", i, err)
		}
	}
	_, res, err := websocket.Dial(ctx, rtURL(ts.URL), &websocket.DialOptions{HTTPClient: admin.http})
	if err == nil || res == nil || res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("dial after Shutdown: %v, want 503", err)
	}

	ts.Close()
	admin.http.CloseIdleConnections()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRealtimeTwoNodes: two servers (two Hubs) sharing a store and a
// broker behave as one: a message posted on one reaches a subscriber on
// the other, and removals and logouts reach its sockets.
func TestRealtimeTwoNodes(t *testing.T) {
	db := openStore(t)
	broker := campfire.NewMemoryBroker()
	w := rtWorld(t, campfire.Config{Store: db, Broker: broker})
	node2, _ := newServer(t, campfire.Config{Store: db, Broker: broker, Transports: []campfire.Transport{cfws.New(nil)}})

	// Cookies do not depend on the port: bob's session works on both nodes.
	bob := rtDial(t, w.bob, node2.URL)
	bob.subscribe(w.allTalk, rtLastSeq(t, w.bob, w.allTalk))
	bob.subscribe(w.secret, rtLastSeq(t, w.bob, w.secret))

	msg := w.admin.post(w.allTalk, "hello from node 1")
	rtWantEvent(t, bob.nextOf(5*time.Second, "message.created"), "message.created", w.allTalk, int64(msg["seq"].(float64)), msg)

	w.admin.must(200, "PATCH", roomPath(w.secret, ""), map[string]any{"user_ids": []int64{}})
	bob.nextOf(5*time.Second, "room.removed")
	w.admin.post(w.secret, "bob is gone")
	w.admin.post(w.allTalk, "marker")
	if ev := bob.nextOf(5*time.Second, "message.created"); ev.RoomID != w.allTalk {
		t.Fatalf("removed on node 1, still receiving on node 2: %s", ev.raw)
	}

	w.bob.must(204, "DELETE", "/api/v1/session", nil) // on node 1
	if code, reason := bob.closed(5 * time.Second); code != websocket.StatusPolicyViolation {
		t.Fatalf("logged out on node 1, node 2's socket ended with %d %q", code, reason)
	}
}

// A flood of connections from one user is bounded; others still connect.
func TestRealtimeConnectionFloodIsBounded(t *testing.T) {
	w := rtWorld(t, campfire.Config{MaxConnectionsPerUser: 3})
	for range 3 {
		rtDial(t, w.bob, "")
	}
	res := w.bob.do("GET", "/api/v1/ws", nil, func(r *http.Request) {
		r.Header.Set("Connection", "Upgrade")
		r.Header.Set("Upgrade", "websocket")
		r.Header.Set("Sec-WebSocket-Version", "13")
		r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	})
	res.wantError(t, 429, "rate_limited")
	rtDial(t, w.carol, "")
}
