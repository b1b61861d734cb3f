package campfire_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/opencampfire/campfire"
	"github.com/opencampfire/campfire/store/sqlite"
	cfsse "github.com/opencampfire/campfire/transport/sse"
	cfws "github.com/opencampfire/campfire/transport/websocket"
)

// The tests in this file prove that access, once ended, ends: a person
// removed from a room, deactivated or signed out receives nothing of it
// past that point, whatever state their stream was in, and that deleted
// or edited text is not handed back by any replay.

// drainFrames takes what sub has queued until done is closed, then once
// more, and returns the events of room.
func drainFrames(t *testing.T, sub *campfire.Subscriber, done <-chan struct{}) []rtEvent {
	t.Helper()
	var got []rtEvent
	take := func() {
		for _, f := range sub.Take(nil) {
			for line := range bytes.SplitSeq(f.Data, []byte("\n")) {
				ev := rtEvent{raw: bytes.Clone(line)}
				if err := json.Unmarshal(line, &ev); err != nil {
					t.Fatalf("frame %q: %v", line, err)
				}
				got = append(got, ev)
			}
		}
	}
	deadline := time.After(30 * time.Second)
	for {
		select {
		case <-done:
			take()
			return got
		case <-sub.Notify():
			take()
		case <-deadline:
			t.Fatal("the subscription never finished replaying")
		}
	}
}

// wantCutAt checks that a removed person's events of room stop at the
// members.removed that names them, at seq cut, and that none of the words
// in secrets reached them.
func wantCutAt(t *testing.T, events []rtEvent, room, cut, userID int64, secrets ...string) {
	t.Helper()
	sawCut := false
	for _, ev := range events {
		for _, s := range secrets {
			if bytes.Contains(ev.raw, []byte(s)) {
				t.Errorf("after the removal, the removed member received %q: %s", s, ev.raw)
			}
		}
		if ev.RoomID != room || ev.Seq == 0 {
			continue
		}
		if ev.Seq > cut {
			t.Errorf("received seq %d of the room, past the removal at %d: %.120s", ev.Seq, cut, ev.raw)
		}
		if ev.Seq == cut {
			if ev.Type != "members.removed" || !bytes.Contains(ev.Data, fmt.Appendf(nil, "%d", userID)) {
				t.Errorf("seq %d is %s, want members.removed naming %d", cut, ev.raw, userID)
			}
			sawCut = true
		}
	}
	if !sawCut {
		t.Errorf("never received the members.removed at seq %d", cut)
	}
}

// TestRemovalCutsAReplayingSubscriber: bob follows the closed room from
// the start of a history longer than a replay page, and reads nothing, so
// the replay waits on his full queue. Admin removes him, posts and renames
// the room. Bob then reads everything: nothing after the removal. When the
// order to leave the room is lost, the removal in the room's log is what
// stops the replay: bob gets the history up to it, and it.
func TestRemovalCutsAReplayingSubscriber(t *testing.T) {
	t.Run("LeaveDelivered", func(t *testing.T) { testRemovalCutsAReplay(t, false) })
	t.Run("LeaveLost", func(t *testing.T) { testRemovalCutsAReplay(t, true) })
}

func testRemovalCutsAReplay(t *testing.T, loseLeave bool) {
	broker := &lossyBroker{MemoryBroker: campfire.NewMemoryBroker()}
	if loseLeave {
		broker.set(func(m campfire.BrokerMessage) bool { return m.Op == campfire.OpLeaveRoom })
	}
	w := newWorld(t, campfire.Config{QueueBytes: 8 << 10, Broker: broker})
	for i := range 700 {
		w.admin.post(w.secret, fmt.Sprintf("history %d", i))
	}
	before := rtLastSeq(t, w.admin, w.secret)
	bob, err := w.chat.Store().User(context.Background(), w.bobID)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := w.chat.Hub().Connect(bob, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close(campfire.ReasonClientClosed); sub.Release() })
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := sub.Subscribe(context.Background(), w.secret, 0, true); err != nil {
			t.Errorf("subscribe: %v", err)
		}
	}()
	<-sub.Notify() // the replay has begun, and soon waits for bob

	w.admin.must(200, "PATCH", roomPath(w.secret, ""), map[string]any{"user_ids": []int64{}})
	w.admin.post(w.secret, "posted after the removal")
	w.admin.must(200, "PATCH", roomPath(w.secret, ""), map[string]any{"name": "Renamed after the removal"})

	events := drainFrames(t, sub, done)
	if sub.Following(w.secret) {
		t.Error("still following the room after the removal")
	}
	if !loseLeave {
		// Left at once: nothing past the removal, the history cut short.
		for _, ev := range events {
			if ev.RoomID == w.secret && ev.Seq > before {
				t.Errorf("received %s after the removal", ev.raw)
			}
		}
		return
	}
	wantCutAt(t, events, w.secret, before+1, w.bobID, "posted after the removal", "Renamed after the removal")
	if n := len(events); n < 701 {
		t.Errorf("received %d events, want the 700 of the history and the removal", n)
	}
}

// lossyBroker loses every message that matches drop while it is set: a
// broker between nodes that drops messages.
type lossyBroker struct {
	*campfire.MemoryBroker
	mu   sync.Mutex
	drop func(campfire.BrokerMessage) bool
}

func (b *lossyBroker) Publish(ctx context.Context, m campfire.BrokerMessage) error {
	b.mu.Lock()
	drop := b.drop != nil && b.drop(m)
	b.mu.Unlock()
	if drop {
		return nil
	}
	return b.MemoryBroker.Publish(ctx, m)
}

func (b *lossyBroker) set(drop func(campfire.BrokerMessage) bool) {
	b.mu.Lock()
	b.drop = drop
	b.mu.Unlock()
}

// twoNodes is a world on node 1 and a second node (its address) sharing
// its store and a lossy broker; now, when set, is both nodes' clock.
func twoNodes(t *testing.T, now func() time.Time) (*world, string, *lossyBroker) {
	t.Helper()
	db := openStore(t)
	broker := &lossyBroker{MemoryBroker: campfire.NewMemoryBroker()}
	w := rtWorld(t, campfire.Config{Store: db, Broker: broker, Now: now})
	node2, _ := newServer(t, campfire.Config{Store: db, Broker: broker, Now: now, Transports: []campfire.Transport{cfws.New(nil)}})
	return w, node2.URL, broker
}

// TestRemovalCutsAcrossALossyBroker: bob follows the closed room on node
// 2. Everything node 1 sends about his removal is lost on the way. The
// next message makes node 2 notice the gap and read the room's log, which
// has the removal: bob's stream ends there, and the message does not reach
// him.
func TestRemovalCutsAcrossALossyBroker(t *testing.T) {
	w, node2, broker := twoNodes(t, nil)
	bob := rtDial(t, w.bob, node2)
	cut := rtLastSeq(t, w.bob, w.secret) + 1
	bob.subscribe(w.secret, cut-1)
	bob.subscribe(w.allTalk, rtLastSeq(t, w.bob, w.allTalk))

	broker.set(func(m campfire.BrokerMessage) bool { return m.Op != campfire.OpRoomEvent || m.Event.RoomID == w.secret })
	w.admin.must(200, "PATCH", roomPath(w.secret, ""), map[string]any{"user_ids": []int64{}})
	broker.set(nil)
	w.admin.post(w.secret, "posted after the removal")

	ev := bob.nextOf(10*time.Second, "members.removed", "message.created")
	wantCutAt(t, []rtEvent{ev}, w.secret, cut, w.bobID)
	marker := w.admin.post(w.allTalk, "marker")
	for {
		ev := bob.nextOf(10*time.Second, "message.created", "room.updated")
		if ev.RoomID == w.secret {
			t.Fatalf("after the removal bob received %s", ev.raw)
		}
		if ev.Seq == int64(marker["seq"].(float64)) {
			break
		}
	}
}

// TestDeactivationCutsEveryRoom: a deactivation ends the person's streams
// of each of their rooms in the log, direct rooms included, so that a node
// that never hears the order to close their connections still stops.
func TestDeactivationCutsEveryRoom(t *testing.T) {
	w, node2, broker := twoNodes(t, nil)
	bob := rtDial(t, w.bob, node2)
	cut := rtLastSeq(t, w.bob, w.dm) + 1
	bob.subscribe(w.dm, cut-1)

	// Lost: the order to close bob's connections.
	broker.set(func(m campfire.BrokerMessage) bool { return m.Op == campfire.OpEndUser })
	w.admin.must(200, "PATCH", fmt.Sprintf("/api/v1/users/%d", w.bobID), map[string]any{"status": "deactivated"})
	w.admin.post(w.dm, "posted after the deactivation")

	ev := bob.nextOf(10*time.Second, "members.removed", "message.created")
	wantCutAt(t, []rtEvent{ev}, w.dm, cut, w.bobID)
	// The message posted after the deactivation never comes.
	bob.send(map[string]any{"type": "sync"})
	for {
		ev := bob.next(5 * time.Second)
		if ev.Type == "error" {
			break
		}
		if ev.RoomID == w.dm && ev.Seq > cut {
			t.Fatalf("after the deactivation bob received %s", ev.raw)
		}
	}
}

// raceConnects keeps 12 goroutines opening WebSockets with opts while end
// runs, once a few are open, and then checks that every socket that opened
// is closed by the server: none outlives what end did.
func raceConnects(t *testing.T, run int, url string, opts *websocket.DialOptions, end func()) {
	t.Helper()
	stop := make(chan struct{})
	var mu sync.Mutex
	var opened []*websocket.Conn
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				c, _, err := websocket.Dial(ctx, url, opts)
				cancel()
				if err != nil {
					continue
				}
				mu.Lock()
				opened = append(opened, c)
				mu.Unlock()
			}
		})
	}
	// Let some sockets open, then end while others are opening.
	for {
		mu.Lock()
		n := len(opened)
		mu.Unlock()
		if n >= 3 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	end()
	close(stop)
	wg.Wait()
	for _, c := range opened {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		for {
			if _, _, err := c.Read(ctx); err != nil {
				if ctx.Err() != nil {
					t.Fatalf("run %d: a socket opened during the change is still open", run)
				}
				break
			}
		}
		cancel()
		c.CloseNow()
	}
}

// TestConnectRacingDeactivation: while an admin deactivates a person, 12
// goroutines of theirs keep opening WebSockets. Whatever the interleaving,
// no socket outlives the deactivation. Run many times, under -race.
func TestConnectRacingDeactivation(t *testing.T) {
	auth := func(r *http.Request) (campfire.Identity, error) {
		who := r.Header.Get("X-User")
		if who == "" {
			return campfire.Identity{}, campfire.ErrUnauthenticated
		}
		return campfire.Identity{ExternalID: who, Name: who, Admin: who == "boss"}, nil
	}
	ts, _ := newServer(t, campfire.Config{Authenticate: auth, Transports: []campfire.Transport{cfws.New(nil)}, MaxConnectionsPerUser: 1000})
	as := func(who string) func(*http.Request) { return func(r *http.Request) { r.Header.Set("X-User", who) } }
	boss := newClient(t, ts.URL)
	victim := newClient(t, ts.URL)
	victimID := id(victim.do("GET", "/api/v1/users/me", nil, as("mallory")).json(t)["user"])
	boss.do("GET", "/api/v1/users/me", nil, as("boss"))
	opts := &websocket.DialOptions{HTTPHeader: http.Header{"X-User": {"mallory"}}}
	runs := 200
	if testing.Short() {
		runs = 20
	}
	for run := range runs {
		boss.do("PATCH", fmt.Sprintf("/api/v1/users/%d", victimID), map[string]any{"status": "active"}, as("boss")).json(t)
		raceConnects(t, run, rtURL(ts.URL), opts, func() {
			res := boss.do("PATCH", fmt.Sprintf("/api/v1/users/%d", victimID), map[string]any{"status": "deactivated"}, as("boss"))
			if res.status != 200 {
				t.Fatalf("deactivate: %d %s", res.status, res.body)
			}
		})
	}
}

// TestSignOutRacingConnect: the same race against signing out.
func TestSignOutRacingConnect(t *testing.T) {
	// Each run signs in from another address, under the sign-in limits.
	clientIP := func(r *http.Request) string { return r.Header.Get("X-Test-Address") }
	w := rtWorld(t, campfire.Config{MaxConnectionsPerUser: 1000, ClientIP: clientIP})
	runs := 10
	if testing.Short() {
		runs = 3
	}
	for run := range runs {
		bob := newClient(t, w.ts.URL)
		res := bob.do("POST", "/api/v1/session", map[string]any{"email": "bob@example.com", "password": testPassword},
			func(r *http.Request) { r.Header.Set("X-Test-Address", fmt.Sprintf("192.0.2.%d", run)) })
		if res.status != 200 {
			t.Fatalf("sign in: %d %s", res.status, res.body)
		}
		// The dialers send the cookie the jar has now; signing out does not
		// take it from them.
		opts := &websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {cookieHeader(bob, w.ts.URL)}}}
		raceConnects(t, run, rtURL(w.ts.URL), opts, func() {
			if res := bob.do("DELETE", "/api/v1/session", nil); res.status != 204 {
				t.Fatalf("sign out: %d %s", res.status, res.body)
			}
		})
	}
}

// cookieHeader is the Cookie header cl's jar sends to base.
func cookieHeader(cl *client, base string) string {
	var parts []string
	for _, c := range cl.http.Jar.Cookies(mustURL(cl.tb, base)) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// TestSessionExpiryClosesSockets: a socket does not outlive its session.
func TestSessionExpiryClosesSockets(t *testing.T) {
	clock := &rtClock{}
	w := rtWorld(t, campfire.Config{Now: clock.Now, SessionMaxAge: time.Hour})
	bob := rtDial(t, w.bob, "")
	clock.Advance(time.Hour + time.Minute)
	if code, reason := bob.closed(15 * time.Second); code != websocket.StatusPolicyViolation {
		t.Fatalf("after the session's end the socket ended with %d %q, want 1008", code, reason)
	}
}

// TestDeletedAndEditedTextIsNotReplayed: after an edit no replay returns
// the first text; after a delete none returns any of it, over HTTP, over a
// WebSocket, and to someone who joins later; and the text is not left in
// the database file.
func TestDeletedAndEditedTextIsNotReplayed(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "chat.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	w := rtWorld(t, campfire.Config{Store: db})
	msg := w.bob.post(w.allTalk, "my password is zebracorn42")
	mid := id(msg)
	w.admin.must(201, "POST", roomPath(w.allTalk, fmt.Sprintf("/messages/%d/boosts", mid)), map[string]any{"content": "yikes"})
	w.bob.must(200, "PATCH", roomPath(w.allTalk, fmt.Sprintf("/messages/%d", mid)), map[string]any{"body": "my password is quokkafish77"})
	other := w.bob.post(w.allTalk, "kept text")

	replays := func() []string {
		var out []string
		res := w.carol.do("GET", roomPath(w.allTalk, "/events?since=0"), nil)
		out = append(out, string(res.body))
		c := rtDial(t, w.carol, "")
		c.subscribe(w.allTalk, 0)
		for _, ev := range c.sync() {
			out = append(out, string(ev.raw))
		}
		for _, ev := range c.pending {
			out = append(out, string(ev.raw))
		}
		return out
	}
	for _, r := range replays() {
		if strings.Contains(r, "zebracorn42") {
			t.Errorf("after the edit a replay returns the first text: %.200s", r)
		}
	}
	w.bob.must(204, "DELETE", roomPath(w.allTalk, fmt.Sprintf("/messages/%d", mid)), nil)
	all := strings.Join(replays(), "\n")
	for _, secret := range []string{"zebracorn42", "quokkafish77", "yikes"} {
		if strings.Contains(all, secret) {
			t.Errorf("after the delete a replay returns %q", secret)
		}
	}
	if !strings.Contains(all, "kept text") {
		t.Errorf("the replay lost a message that was not deleted (id %d)", id(other))
	}
	if res := w.carol.do("GET", "/api/v1/search?q=quokkafish77", nil); strings.Contains(string(res.body), "quokkafish77") {
		t.Errorf("search returns the deleted text: %s", res.body)
	}

	// Nothing of it in the database file. Closing the store checkpoints
	// the write-ahead log into it.
	if err := w.chat.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"chat.db", "chat.db-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		for _, secret := range []string{"zebracorn42", "quokkafish77"} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s still holds %q", name, secret)
			}
		}
	}
}

// TestEventRetention: the server prunes each room's log of events older
// than Config.EventRetention by itself; a client resuming from a cursor
// that fell out of it is told to resync, over HTTP and over a WebSocket,
// and one resuming from the room's latest seq is not.
func TestEventRetention(t *testing.T) {
	clock := &rtClock{}
	w := rtWorld(t, campfire.Config{Now: clock.Now, EventRetention: 48 * time.Hour})
	w.admin.post(w.allTalk, "old news")
	w.admin.post(w.allTalk, "older news")
	if res := w.bob.must(200, "GET", roomPath(w.allTalk, "/events?since=0"), nil); res["resync"] == true {
		t.Fatal("resync before anything was pruned")
	}
	clock.Advance(72 * time.Hour)
	deadline := time.Now().Add(15 * time.Second)
	for w.bob.must(200, "GET", roomPath(w.allTalk, "/events?since=0"), nil)["resync"] != true {
		if time.Now().After(deadline) {
			t.Fatal("events older than the retention are still replayed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	c := rtDial(t, w.bob, "")
	c.send(map[string]any{"type": "subscribe", "room_id": w.allTalk, "since": 0})
	if ev := c.nextOf(5*time.Second, "resync", "message.created"); ev.Type != "resync" || ev.RoomID != w.allTalk {
		t.Fatalf("subscribing from a pruned cursor: %s, want a resync", ev.raw)
	}
	c.subscribe(w.allTalk, rtLastSeq(t, w.bob, w.allTalk))
	msg := w.admin.post(w.allTalk, "fresh news")
	rtWantEvent(t, c.nextOf(5*time.Second, "message.created"), "message.created", w.allTalk, int64(msg["seq"].(float64)), msg)
}

// TestRemovalCutsAnSSEStream: the same over Server-Sent Events, from
// rooms=ID:0 with a reader that stops once the replay has begun and reads
// on only after the removal, the post and the rename, and with the order
// to leave the room lost.
func TestRemovalCutsAnSSEStream(t *testing.T) {
	broker := &lossyBroker{MemoryBroker: campfire.NewMemoryBroker()}
	broker.set(func(m campfire.BrokerMessage) bool { return m.Op == campfire.OpLeaveRoom })
	w := newWorld(t, campfire.Config{Broker: broker, Transports: []campfire.Transport{cfsse.New(nil)}})
	for i := range 300 {
		w.admin.post(w.secret, fmt.Sprintf("history %d", i))
	}
	cut := rtLastSeq(t, w.admin, w.secret) + 1
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/api/v1/sse?rooms=%d:0,%d", w.ts.URL, w.secret, w.allTalk), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.bob.http.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET /sse: %v %v", err, res)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 8<<20)
	// Read until the replay has begun, then stop reading.
	for sc.Scan() && !strings.Contains(sc.Text(), `"seq":1,`) {
	}

	w.admin.must(200, "PATCH", roomPath(w.secret, ""), map[string]any{"user_ids": []int64{}})
	w.admin.post(w.secret, "posted after the removal")
	w.admin.must(200, "PATCH", roomPath(w.secret, ""), map[string]any{"name": "Renamed after the removal"})
	marker := int64(w.admin.post(w.allTalk, "marker")["seq"].(float64))

	var events []rtEvent
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		ev := rtEvent{raw: []byte(data)}
		if err := json.Unmarshal(ev.raw, &ev); err != nil {
			t.Fatalf("event %q: %v", data, err)
		}
		events = append(events, ev)
		if ev.RoomID == w.allTalk && ev.Seq == marker {
			break
		}
	}
	if sc.Err() != nil {
		t.Fatalf("reading the stream: %v", sc.Err())
	}
	wantCutAt(t, events, w.secret, cut, w.bobID, "posted after the removal", "Renamed after the removal")
}

// TestLostSignOutStillClosesSockets: bob signs out on node 1 and the order
// to close his connections never reaches node 2. Node 2 reads its
// connections' sessions again from the Store every minute, and closes his.
func TestLostSignOutStillClosesSockets(t *testing.T) {
	clock := &rtClock{}
	w, node2, broker := twoNodes(t, clock.Now)
	broker.set(func(m campfire.BrokerMessage) bool { return m.Op == campfire.OpEndSession })
	bob := rtDial(t, w.bob, node2)
	carol := rtDial(t, w.carol, node2)

	w.bob.must(204, "DELETE", "/api/v1/session", nil) // on node 1
	clock.Advance(2 * time.Minute)
	if code, reason := bob.closed(15 * time.Second); code != websocket.StatusPolicyViolation {
		t.Fatalf("signed out on node 1, node 2's socket ended with %d %q, want 1008", code, reason)
	}
	carol.sync() // still signed in: her socket answers
}

// TestReaddedMemberResumingGetsAResync: bob resumes from a cursor before
// his removal, but he has been added back since: the replay stops at the
// removal and tells him to reload the room, rather than that he left it.
func TestReaddedMemberResumingGetsAResync(t *testing.T) {
	w := rtWorld(t, campfire.Config{})
	since := rtLastSeq(t, w.bob, w.secret)
	w.admin.must(200, "PATCH", roomPath(w.secret, ""), map[string]any{"user_ids": []int64{}})
	w.admin.post(w.secret, "while bob was out")
	w.admin.must(200, "PATCH", roomPath(w.secret, ""), map[string]any{"user_ids": []int64{w.bobID}})

	bob := rtDial(t, w.bob, "")
	bob.send(map[string]any{"type": "subscribe", "room_id": w.secret, "since": since})
	for _, ev := range bob.sync() {
		if ev.RoomID != w.secret {
			continue
		}
		if ev.Type != "resync" {
			t.Fatalf("resuming from before the removal, bob got %s, want only a resync", ev.raw)
		}
		return
	}
	t.Fatal("no resync")
}
