package campfire_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencampfire/campfire"
)

// hubStore is the little of a Store that the Hub uses (Room, Membership,
// Events, MarkRead), in memory, so that Hub tests and benchmarks measure
// the Hub alone.
type hubStore struct {
	campfire.Store // nil: calling anything else panics

	mu      sync.Mutex
	rooms   map[int64]*campfire.Room
	events  map[int64][]campfire.Event
	members map[[2]int64]bool
	kept    map[int64]int64 // events with seq <= this are forgotten
}

// PruneEvents: the Hub's janitor prunes; these tests keep every event.
func (f *hubStore) PruneEvents(context.Context, time.Time) error { return nil }

func newHubStore() *hubStore {
	return &hubStore{
		rooms:   map[int64]*campfire.Room{},
		events:  map[int64][]campfire.Event{},
		members: map[[2]int64]bool{},
		kept:    map[int64]int64{},
	}
}

// addRoom creates a room with members.
func (f *hubStore) addRoom(id int64, members ...int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rooms[id] = &campfire.Room{ID: id, Kind: campfire.RoomClosed, Name: fmt.Sprint("room ", id)}
	for _, u := range members {
		f.members[[2]int64{id, u}] = true
	}
}

// append stores a durable event with the room's next seq, as a Store does
// in the transaction of a change.
func (f *hubStore) append(roomID int64, data string) campfire.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.rooms[roomID]
	r.LastSeq++
	ev := campfire.Event{Type: campfire.EventMessageCreated, RoomID: roomID, Seq: r.LastSeq, Data: json.RawMessage(data)}
	f.events[roomID] = append(f.events[roomID], ev)
	return ev
}

// forget drops the events up to seq, as PruneEvents does.
func (f *hubStore) forget(roomID, seq int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.kept[roomID] = seq
}

func (f *hubStore) Room(_ context.Context, id int64) (campfire.Room, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.rooms[id]
	if !ok {
		return campfire.Room{}, campfire.ErrNotFound
	}
	return *r, nil
}

func (f *hubStore) Membership(_ context.Context, roomID, userID int64) (campfire.Membership, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.members[[2]int64{roomID, userID}] {
		return campfire.Membership{}, campfire.ErrNotFound
	}
	return campfire.Membership{RoomID: roomID, UserID: userID, Involvement: campfire.InvolvementMentions}, nil
}

func (f *hubStore) Events(_ context.Context, roomID, since int64, limit int) ([]campfire.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.rooms[roomID]; !ok {
		return nil, campfire.ErrNotFound
	}
	if since < f.kept[roomID] {
		return nil, campfire.ErrResync
	}
	var out []campfire.Event
	for _, ev := range f.events[roomID] {
		if ev.Seq > since && (limit == 0 || len(out) < limit) {
			out = append(out, ev)
		}
	}
	return out, nil
}

func (f *hubStore) MarkRead(context.Context, int64, int64) error { return nil }

// hubClock is a clock that tests move forward.
type hubClock struct{ offset atomic.Int64 }

func (c *hubClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *hubClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// newTestHub builds a Server over store (the Hub comes with it) and shuts
// it down at the end, failing if a subscriber was never released.
func newTestHub(tb testing.TB, store campfire.Store, cfg campfire.Config) *campfire.Hub {
	tb.Helper()
	cfg.Store = store
	chat, err := campfire.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := chat.Shutdown(ctx); err != nil {
			tb.Errorf("Shutdown: %v", err)
		}
	})
	return chat.Hub()
}

var (
	hubAda = campfire.User{ID: 1, Name: "Ada", Role: campfire.RoleMember, Status: campfire.StatusActive}
	hubBob = campfire.User{ID: 2, Name: "Bob", Role: campfire.RoleMember, Status: campfire.StatusActive}
)

// hubConnect connects u and closes and releases the subscriber at the end,
// as a transport does.
func hubConnect(tb testing.TB, h *campfire.Hub, u campfire.User, session string) *campfire.Subscriber {
	tb.Helper()
	s, err := h.Connect(u, session)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		s.Close(campfire.ReasonClientClosed)
		s.Release()
	})
	return s
}

// hubFrames waits until s has queued n frames and returns them.
func hubFrames(tb testing.TB, s *campfire.Subscriber, n int) []campfire.Frame {
	tb.Helper()
	var got []campfire.Frame
	timeout := time.After(5 * time.Second)
	for len(got) < n {
		got = s.Take(got)
		if len(got) >= n {
			break
		}
		select {
		case <-s.Notify():
		case <-timeout:
			tb.Fatalf("%d frames of %d: %s", len(got), n, hubDescribe(got))
		}
	}
	return got
}

// hubQuiet checks that nothing more arrives for a moment.
func hubQuiet(tb testing.TB, s *campfire.Subscriber) {
	tb.Helper()
	time.Sleep(50 * time.Millisecond)
	if extra := s.Take(nil); len(extra) > 0 {
		tb.Fatalf("unexpected frames: %s", hubDescribe(extra))
	}
}

func hubDescribe(fs []campfire.Frame) string {
	var b strings.Builder
	for _, f := range fs {
		b.Write(f.Data)
		b.WriteByte('\n')
	}
	return b.String()
}

func hubSeqs(fs []campfire.Frame) []int64 {
	var seqs []int64
	for _, f := range fs {
		seqs = append(seqs, f.Seq)
	}
	return seqs
}

func hubRange(from, to int64) []int64 {
	var r []int64
	for i := from; i <= to; i++ {
		r = append(r, i)
	}
	return r
}

func TestHubDeliversInSeqOrder(t *testing.T) {
	store := newHubStore()
	store.addRoom(7, hubAda.ID)
	h := newTestHub(t, store, campfire.Config{})
	s := hubConnect(t, h, hubAda, "")
	if err := s.Subscribe(context.Background(), 7, 0, false); err != nil {
		t.Fatal(err)
	}
	e1, e2, e3 := store.append(7, `{"n":1}`), store.append(7, `{"n":2}`), store.append(7, `{"n":3}`)
	// Committed in order, published out of order (three concurrent requests).
	h.Publish(e3)
	h.Publish(e1)
	h.Publish(e2)
	h.Publish(e2) // twice: a broker may redeliver
	got := hubFrames(t, s, 3)
	if !slices.Equal(hubSeqs(got), []int64{1, 2, 3}) {
		t.Fatalf("seqs %v, want 1 2 3", hubSeqs(got))
	}
	if want := `{"type":"message.created","room_id":7,"seq":1,"data":{"n":1}}`; string(got[0].Data) != want {
		t.Fatalf("frame %s, want %s", got[0].Data, want)
	}
	hubQuiet(t, s)
}

// TestHubFillsGaps: an event that is committed but never published (its
// node died) is fetched from the store, so later ones are not held forever.
func TestHubFillsGaps(t *testing.T) {
	store := newHubStore()
	store.addRoom(7, hubAda.ID)
	clock := &hubClock{}
	h := newTestHub(t, store, campfire.Config{Now: clock.Now})
	s := hubConnect(t, h, hubAda, "")
	if err := s.Subscribe(context.Background(), 7, 0, false); err != nil {
		t.Fatal(err)
	}
	store.append(7, `{"n":1}`) // lost
	h.Publish(store.append(7, `{"n":2}`))
	hubQuiet(t, s) // 2 waits for 1
	clock.Advance(3 * time.Second)
	if got := hubFrames(t, s, 2); !slices.Equal(hubSeqs(got), []int64{1, 2}) {
		t.Fatalf("seqs %v, want 1 2", hubSeqs(got))
	}
}

// TestHubReplayThenLive: a subscribe with since gets the stored events after
// it, then live ones, none missed and none twice, while four writers commit
// and publish concurrently.
func TestHubReplayThenLive(t *testing.T) {
	const stored, writers, each = 1000, 4, 250
	store := newHubStore()
	store.addRoom(7, hubAda.ID)
	for i := range stored {
		store.append(7, fmt.Sprintf(`{"n":%d}`, i+1))
	}
	h := newTestHub(t, store, campfire.Config{})
	s := hubConnect(t, h, hubAda, "")

	var commit sync.Mutex // the store's single writer: seq order is commit order
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range each {
				commit.Lock()
				ev := store.append(7, `{}`)
				commit.Unlock()
				h.Publish(ev)
			}
		})
	}
	if err := s.Subscribe(context.Background(), 7, 100, true); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	last := int64(stored + writers*each)
	got := hubFrames(t, s, int(last-100))
	if !slices.Equal(hubSeqs(got), hubRange(101, last)) {
		seqs := hubSeqs(got)
		t.Fatalf("seqs %v..., want 101..%d once each, in order", seqs[:min(20, len(seqs))], last)
	}
	hubQuiet(t, s)
}

// TestHubReplayWaitsForRoom: a replay larger than the queue waits for the
// transport to drain it instead of dropping a client that is only behind.
func TestHubReplayWaitsForRoom(t *testing.T) {
	store := newHubStore()
	store.addRoom(7, hubAda.ID)
	big := `"` + strings.Repeat("x", 100_000) + `"`
	for range 30 { // 3 MB: three times the queue
		store.append(7, big)
	}
	h := newTestHub(t, store, campfire.Config{})
	s := hubConnect(t, h, hubAda, "")
	done := make(chan error, 1)
	go func() { done <- s.Subscribe(context.Background(), 7, 0, true) }()
	got := hubFrames(t, s, 30)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(hubSeqs(got), hubRange(1, 30)) {
		t.Fatalf("seqs %v", hubSeqs(got))
	}
	select {
	case <-s.Done():
		t.Fatalf("closed: %v", s.Reason())
	default:
	}
}

func TestHubResync(t *testing.T) {
	store := newHubStore()
	store.addRoom(7, hubAda.ID)
	for range 5 {
		store.append(7, `{}`)
	}
	store.forget(7, 3)
	h := newTestHub(t, store, campfire.Config{})
	s := hubConnect(t, h, hubAda, "")
	if err := s.Subscribe(context.Background(), 7, 1, true); err != nil {
		t.Fatal(err)
	}
	got := hubFrames(t, s, 1)
	if string(got[0].Data) != `{"type":"resync","room_id":7}` {
		t.Fatalf("frame %s, want resync", got[0].Data)
	}
	if s.Following(7) {
		t.Fatal("following a room that needs a resync")
	}
}

func TestHubSubscribeNotMember(t *testing.T) {
	store := newHubStore()
	store.addRoom(7, hubAda.ID)
	h := newTestHub(t, store, campfire.Config{})
	s := hubConnect(t, h, hubBob, "")
	for _, room := range []int64{7, 8} {
		if err := s.Subscribe(context.Background(), room, 0, true); !errors.Is(err, campfire.ErrNotFound) {
			t.Fatalf("room %d: %v, want ErrNotFound", room, err)
		}
	}
	h.Publish(store.append(7, `{}`))
	hubQuiet(t, s)
}

// TestHubSlowConsumer: a subscriber whose queue overflows is closed with
// the slow-consumer reason; publishing never waits for it, and the others
// keep receiving.
func TestHubSlowConsumer(t *testing.T) {
	store := newHubStore()
	store.addRoom(7, hubAda.ID, hubBob.ID)
	h := newTestHub(t, store, campfire.Config{})
	slow, fast := hubConnect(t, h, hubAda, ""), hubConnect(t, h, hubBob, "")
	for _, s := range []*campfire.Subscriber{slow, fast} {
		if err := s.Subscribe(context.Background(), 7, 0, false); err != nil {
			t.Fatal(err)
		}
	}
	big := `"` + strings.Repeat("x", 100_000) + `"`
	n := campfire.DefaultQueueBytes/100_000 + 5
	for i := range n {
		h.Publish(store.append(7, big))
		if got := fast.Take(nil); len(got) != 1 || got[0].Seq != int64(i+1) {
			t.Fatalf("the fast subscriber got %v at event %d", hubSeqs(got), i+1)
		}
	}
	select {
	case <-slow.Done():
	default:
		t.Fatal("the slow subscriber is still open")
	}
	if slow.Reason() != campfire.ReasonSlowConsumer || slow.Reason().Code != 1008 {
		t.Fatalf("reason %v, want the slow consumer's", slow.Reason())
	}
}

// TestHubUserEvents: per-user events reach every connection of the user,
// without subscribing, and no one else's.
func TestHubUserEvents(t *testing.T) {
	h := newTestHub(t, newHubStore(), campfire.Config{})
	tab1, tab2, other := hubConnect(t, h, hubAda, "a"), hubConnect(t, h, hubAda, "b"), hubConnect(t, h, hubBob, "c")
	h.PublishUser(hubAda.ID, campfire.Event{Type: campfire.EventUnread, RoomID: 7, Data: json.RawMessage(`{"room_id":7}`)})
	for _, s := range []*campfire.Subscriber{tab1, tab2} {
		if got := hubFrames(t, s, 1); string(got[0].Data) != `{"type":"unread","room_id":7,"data":{"room_id":7}}` {
			t.Fatalf("frame %s", got[0].Data)
		}
	}
	hubQuiet(t, other)
}

// TestHubPublishUsers: one event for many users reaches every connection of
// each, on this node and across a broker that encodes its messages as JSON,
// and no one else's.
func TestHubPublishUsers(t *testing.T) {
	carol := campfire.User{ID: 3, Name: "Carol", Role: campfire.RoleMember, Status: campfire.StatusActive}
	broker := jsonBroker{campfire.NewMemoryBroker()}
	node1 := newTestHub(t, newHubStore(), campfire.Config{Broker: broker})
	node2 := newTestHub(t, newHubStore(), campfire.Config{Broker: broker})
	ada1, ada2 := hubConnect(t, node1, hubAda, "a1"), hubConnect(t, node2, hubAda, "a2")
	bob, carol2 := hubConnect(t, node2, hubBob, "b"), hubConnect(t, node1, carol, "c")
	node1.PublishUsers([]int64{hubAda.ID, hubBob.ID, 99}, campfire.Event{Type: campfire.EventUnread, RoomID: 7, Data: json.RawMessage(`{"room_id":7}`)})
	for _, s := range []*campfire.Subscriber{ada1, ada2, bob} {
		if got := hubFrames(t, s, 1); string(got[0].Data) != `{"type":"unread","room_id":7,"data":{"room_id":7}}` {
			t.Fatalf("frame %s", got[0].Data)
		}
	}
	hubQuiet(t, carol2)
	node1.PublishUsers(nil, campfire.Event{Type: campfire.EventUnread, RoomID: 7, Data: json.RawMessage(`{"room_id":7}`)})
	hubQuiet(t, ada1)
}

// jsonBroker passes every message through its JSON encoding, as a broker
// between processes would.
type jsonBroker struct{ *campfire.MemoryBroker }

func (b jsonBroker) Publish(ctx context.Context, m campfire.BrokerMessage) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	var back campfire.BrokerMessage
	if err := json.Unmarshal(data, &back); err != nil {
		return err
	}
	return b.MemoryBroker.Publish(ctx, back)
}

// TestHubPresenceCountsConnections: a user is present while any of their
// connections is; the room hears only changes.
func TestHubPresenceCountsConnections(t *testing.T) {
	store := newHubStore()
	store.addRoom(7, hubAda.ID, hubBob.ID)
	h := newTestHub(t, store, campfire.Config{})
	ctx := context.Background()
	watcher := hubConnect(t, h, hubBob, "")
	tab1, tab2 := hubConnect(t, h, hubAda, ""), hubConnect(t, h, hubAda, "")
	for _, s := range []*campfire.Subscriber{watcher, tab1, tab2} {
		if err := s.Subscribe(ctx, 7, 0, false); err != nil {
			t.Fatal(err)
		}
	}
	presence := func(want string) {
		t.Helper()
		var got []string
		for _, f := range watcher.Take(nil) {
			if strings.Contains(string(f.Data), `"presence"`) {
				got = append(got, string(f.Data))
			}
		}
		if w := []string{`{"type":"presence","room_id":7,"data":{"user_ids":` + want + `}}`}; want == "" && got != nil || want != "" && !slices.Equal(got, w) {
			t.Fatalf("presence events %q, want %q", got, want)
		}
	}
	for _, s := range []*campfire.Subscriber{tab1, tab2} {
		if err := s.SetPresence(ctx, 7, true); err != nil {
			t.Fatal(err)
		}
	}
	presence("[1]")
	tab1.Close(campfire.ReasonClientClosed)
	presence("")
	if got := h.Present(7); !slices.Equal(got, []int64{1}) {
		t.Fatalf("one tab closed: present %v", got)
	}
	tab2.Close(campfire.ReasonClientClosed)
	presence("[]")
	if err := watcher.SetPresence(ctx, 8, true); !errors.Is(err, campfire.ErrNotFound) {
		t.Fatalf("presence in a room not followed: %v", err)
	}
}

// TestHubTyping: starts throttled to one a second, never sent to the
// typist, and expiring with a stop after five seconds of silence.
func TestHubTyping(t *testing.T) {
	store := newHubStore()
	store.addRoom(7, hubAda.ID, hubBob.ID)
	clock := &hubClock{}
	h := newTestHub(t, store, campfire.Config{Now: clock.Now})
	typist, reader := hubConnect(t, h, hubAda, ""), hubConnect(t, h, hubBob, "")
	for _, s := range []*campfire.Subscriber{typist, reader} {
		if err := s.Subscribe(context.Background(), 7, 0, false); err != nil {
			t.Fatal(err)
		}
	}
	frame := func(state string) string {
		return `{"type":"typing","room_id":7,"data":{"user":{"id":1,"name":"Ada"},"state":"` + state + `"}}`
	}
	want := func(states ...string) {
		t.Helper()
		var got, w []string
		for _, f := range reader.Take(nil) {
			got = append(got, string(f.Data))
		}
		for _, s := range states {
			w = append(w, frame(s))
		}
		if !slices.Equal(got, w) {
			t.Fatalf("typing events %q, want %q", got, w)
		}
	}
	typist.Typing(7, true)
	typist.Typing(7, true)
	want("start")
	clock.Advance(1100 * time.Millisecond)
	typist.Typing(7, true)
	want("start")
	typist.Typing(7, false)
	want("stop")
	typist.Typing(7, false)
	want()
	typist.Typing(7, true)
	want("start")
	clock.Advance(6 * time.Second)
	if got := hubFrames(t, reader, 1); string(got[0].Data) != frame("stop") {
		t.Fatalf("after five seconds of silence: %s, want a stop", got[0].Data)
	}
	time.Sleep(300 * time.Millisecond) // a janitor round more: one stop only
	want()
	if got := typist.Take(nil); len(got) != 0 {
		t.Fatalf("the typist heard themself: %s", hubDescribe(got))
	}
}

func TestHubLeaveRoom(t *testing.T) {
	store := newHubStore()
	store.addRoom(7, hubAda.ID)
	h := newTestHub(t, store, campfire.Config{})
	s := hubConnect(t, h, hubAda, "")
	if err := s.Subscribe(context.Background(), 7, 0, false); err != nil {
		t.Fatal(err)
	}
	h.LeaveRoom(7, hubAda.ID)
	if s.Following(7) {
		t.Fatal("still following")
	}
	h.Publish(store.append(7, `{}`))
	hubQuiet(t, s)
}

func TestHubEndSessionAndUser(t *testing.T) {
	h := newTestHub(t, newHubStore(), campfire.Config{})
	phone, laptop, bob := hubConnect(t, h, hubAda, "phone"), hubConnect(t, h, hubAda, "laptop"), hubConnect(t, h, hubBob, "bob")
	closed := func(s *campfire.Subscriber) bool {
		select {
		case <-s.Done():
			return true
		default:
			return false
		}
	}
	h.EndSession("laptop")
	if !closed(laptop) || closed(phone) || closed(bob) {
		t.Fatal("EndSession closed the wrong connections")
	}
	if laptop.Reason() != campfire.ReasonSessionEnded {
		t.Fatalf("reason %v", laptop.Reason())
	}
	h.EndUser(hubAda.ID)
	if !closed(phone) || closed(bob) {
		t.Fatal("EndUser closed the wrong connections")
	}
}

// TestHubShutdownWaitsForRelease: Shutdown closes every connection with
// 1001 and returns when the transports have let go of them all.
func TestHubShutdownWaitsForRelease(t *testing.T) {
	chat, err := campfire.New(campfire.Config{Store: newHubStore()})
	if err != nil {
		t.Fatal(err)
	}
	h := chat.Hub()
	s, err := h.Connect(hubAda, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := chat.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown with a connection held: %v, want it to wait", err)
	}
	<-s.Done()
	if s.Reason() != campfire.ReasonGoingAway {
		t.Fatalf("reason %v, want going away", s.Reason())
	}
	if _, err := h.Connect(hubBob, ""); !errors.Is(err, campfire.ErrClosed) {
		t.Fatalf("Connect after Shutdown: %v", err)
	}
	s.Close(campfire.ReasonClientClosed)
	s.Release()
}

// TestHubConnectDuringShutdown: a Connect racing Shutdown either fails, or
// its subscriber is closed and Shutdown waits for its release.
func TestHubConnectDuringShutdown(t *testing.T) {
	for range 300 {
		chat, err := campfire.New(campfire.Config{Store: newHubStore()})
		if err != nil {
			t.Fatal(err)
		}
		h := chat.Hub()
		var live atomic.Int32 // connected and not yet released
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 8 {
			wg.Go(func() {
				<-start
				s, err := h.Connect(hubAda, "")
				if err != nil {
					return
				}
				live.Add(1)
				<-s.Done()
				s.Close(campfire.ReasonClientClosed)
				live.Add(-1)
				s.Release()
			})
		}
		close(start)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = chat.Shutdown(ctx)
		n := live.Load()
		cancel()
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("Shutdown returned with %d connections not released", n)
		}
	}
}

// TestHubOnNotify: the hook runs when frames are queued and when the
// subscriber closes, and at once for what was queued before it was set.
func TestHubOnNotify(t *testing.T) {
	h := newTestHub(t, newHubStore(), campfire.Config{})
	s := hubConnect(t, h, hubAda, "")
	var calls atomic.Int32
	s.OnNotify(func() { calls.Add(1) })
	if calls.Load() != 0 {
		t.Fatal("called with nothing queued")
	}
	h.PublishUser(hubAda.ID, campfire.Event{Type: campfire.EventRead, RoomID: 7, Data: json.RawMessage(`{}`)})
	if calls.Load() != 1 {
		t.Fatalf("%d calls after a frame, want 1", calls.Load())
	}
	s.OnNotify(nil)
	h.PublishUser(hubAda.ID, campfire.Event{Type: campfire.EventRead, RoomID: 7, Data: json.RawMessage(`{}`)})
	var again atomic.Int32
	s.OnNotify(func() { again.Add(1) })
	if again.Load() != 1 {
		t.Fatal("not called for frames already waiting")
	}
	s.Close(campfire.ReasonClientClosed)
	if again.Load() != 2 {
		t.Fatalf("%d calls after Close, want 2", again.Load())
	}
}

// TestHubTwoNodes: two Hubs over one broker and one store: an event
// published on one reaches a subscriber on the other.
func TestHubTwoNodes(t *testing.T) {
	store := newHubStore()
	store.addRoom(7, hubAda.ID, hubBob.ID)
	broker := campfire.NewMemoryBroker()
	node1 := newTestHub(t, store, campfire.Config{Broker: broker})
	node2 := newTestHub(t, store, campfire.Config{Broker: broker})
	s := hubConnect(t, node2, hubBob, "bob")
	if err := s.Subscribe(context.Background(), 7, 0, false); err != nil {
		t.Fatal(err)
	}
	node1.Publish(store.append(7, `{"from":1}`))
	node1.PublishUser(hubBob.ID, campfire.Event{Type: campfire.EventUnread, RoomID: 7, Data: json.RawMessage(`{"room_id":7}`)})
	got := hubFrames(t, s, 2)
	if got[0].Seq != 1 || !strings.Contains(string(got[1].Data), "unread") {
		t.Fatalf("node 2 got %s", hubDescribe(got))
	}
	node1.EndSession("bob")
	select {
	case <-s.Done():
	case <-time.After(time.Second):
		t.Fatal("EndSession on node 1 did not close node 2's connection")
	}
}

// BenchmarkHubBroadcast publishes one message.created event (about 650
// bytes, as a short message encodes) to a room's subscribers: one op is one
// broadcast; ns/delivery is per subscriber. Subscribers are drained with
// Take every 64 events, as a transport that coalesces does; the cost of
// draining is included.
func BenchmarkHubBroadcast(b *testing.B) {
	data := json.RawMessage(`{"id":42,"room_id":7,"seq":118,"client_message_id":"5f0c6a1e-1d2b-4f7a-9c1e-0b7e6a2f4d11",` +
		`"creator":{"id":3,"name":"Ada Lovelace","role":"member","avatar_url":"/api/v1/users/3/avatar"},` +
		`"body":{"markdown":"Hi @Bob, **ship it**","html":"<p>Hi <span class=\"mention\" data-user-id=\"5\">@Bob</span>, <strong>ship it</strong></p>","plain_text":"Hi @Bob, ship it"},` +
		`"mentions":[5],"sound":null,"boosts":[],"created_at":"2026-11-30T08:00:00Z","updated_at":"2026-11-30T08:00:00Z"}`)
	for _, n := range []int{1, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			store := newHubStore()
			store.addRoom(7, hubAda.ID)
			h := newTestHub(b, store, campfire.Config{MaxConnectionsPerUser: n})
			subs := make([]*campfire.Subscriber, n)
			for i := range subs {
				subs[i] = hubConnect(b, h, hubAda, "")
				if err := subs[i].Subscribe(context.Background(), 7, 0, false); err != nil {
					b.Fatal(err)
				}
			}
			buf := make([]campfire.Frame, 0, 64)
			drain := func() {
				for _, s := range subs {
					buf = s.Take(buf[:0])
				}
			}
			// Warm up: queues grow to the size they keep between drains.
			const warm = 64
			for i := range warm {
				h.Publish(campfire.Event{Type: campfire.EventMessageCreated, RoomID: 7, Seq: int64(i + 1), Data: data})
			}
			drain()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				h.Publish(campfire.Event{Type: campfire.EventMessageCreated, RoomID: 7, Seq: int64(warm + i + 1), Data: data})
				if i%64 == 63 {
					drain()
				}
			}
			drain()
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/delivery")
			for _, s := range subs {
				select {
				case <-s.Done():
					b.Fatalf("a subscriber was dropped: %v", s.Reason())
				default:
				}
			}
		})
	}
}
