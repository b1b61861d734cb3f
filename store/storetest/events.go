package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/opencampfire/campfire"
)

func eventSpecs() []group {
	return []group{
		{"Events", []spec{
			{"LogEveryChangeInOrderAsReturned", testEventsLogEveryChange},
			{"SinceReturnsTheLaterEventsAscending", testEventsSince},
			{"LimitReturnsTheOldestAfterSince", testEventsLimit},
			{"EmptyForARoomWithoutEvents", testEventsEmptyRoom},
			{"NotFoundForMissingRoom", testEventsNotFoundForMissingRoom},
			{"ResyncForACursorBeyondTheLog", testEventsResyncBeyondLastSeq},
			{"DeletedRoomsLogStaysReadable", testEventsOfDeletedRoom},
			{"ReadersResumingDuringPostsNeverSeeAGap", testEventsReadersNeverSeeAGap},
		}},
		{"PruneEvents", []spec{
			{"KeepsEachRoomsLatestEvent", testPruneKeepsLatest},
			{"ResyncForAPrunedCursor", testPruneResync},
			{"SeqsContinueAfterPruning", testPruneSeqsContinue},
			{"KeepsEventsStoredAfterTheCutoff", testPruneKeepsLaterEvents},
		}},
	}
}

// activity makes one event of every durable kind in room r (seqs 1 to 8)
// and returns the events as a replay sends them: the edited message's
// message.created carries its current state, the deleted message's is a
// message.deleted tombstone, and so is the deleted boost's boost.created.
func (f *fixture) activity(r campfire.Room) []campfire.Event {
	f.t.Helper()
	evs := f.activityAsReturned(r)
	return replayedActivity(f.t, r.ID, evs)
}

// replayedActivity is what a replay sends for the events activity made.
func replayedActivity(t *testing.T, roomID int64, evs []campfire.Event) []campfire.Event {
	t.Helper()
	second := decodeData[messageData](t, "CreateMessage", evs[1]).ID
	replayed := slices.Clone(evs)
	replayed[0].Data = evs[3].Data // the message as edited
	tombstone, err := json.Marshal(campfire.IDData{ID: second})
	must(t, "encoding a tombstone", err)
	replayed[1] = campfire.Event{Type: campfire.EventMessageDeleted, RoomID: roomID, Seq: evs[1].Seq, Data: tombstone}
	// The deleted boost: what its own boost.deleted says.
	replayed[4] = campfire.Event{Type: campfire.EventBoostDeleted, RoomID: roomID, Seq: evs[4].Seq, Data: evs[5].Data}
	return replayed
}

// activityAsReturned is activity's events as the calls returned them.
func (f *fixture) activityAsReturned(r campfire.Room) []campfire.Event {
	f.t.Helper()
	var evs []campfire.Event
	for _, text := range []string{"one", "two", "three"} {
		_, ev := f.post(r.ID, f.admin.ID, text)
		evs = append(evs, ev)
	}
	first := decodeData[messageData](f.t, "CreateMessage", evs[0]).ID
	second := decodeData[messageData](f.t, "CreateMessage", evs[1]).ID
	_, ev, err := f.s.UpdateMessage(f.ctx, r.ID, first, body("one, edited"), nil, "")
	must(f.t, "UpdateMessage", err)
	evs = append(evs, ev)
	b, ev := f.boost(r.ID, second, f.admin.ID, "👍")
	evs = append(evs, ev)
	ev, err = f.s.DeleteBoost(f.ctx, r.ID, second, b.ID)
	must(f.t, "DeleteBoost", err)
	evs = append(evs, ev)
	evs = append(evs, f.deleteMessage(r.ID, second))
	ch, err := f.s.UpdateRoom(f.ctx, r.ID, campfire.RoomUpdate{Name: ptr(r.Name + " (renamed)")})
	must(f.t, "UpdateRoom", err)
	return append(evs, ch.Event)
}

// checkEvents fails unless got are the events want: same types, rooms and
// seqs, and Data that encode the same value.
func checkEvents(t *testing.T, call string, got, want []campfire.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s returned %d events %v, want %d %v", call, len(got), seqs(got), len(want), seqs(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Type != w.Type || g.RoomID != w.RoomID || g.Seq != w.Seq || !sameJSON(g.Data, w.Data) {
			t.Fatalf("%s: event %d is {%s room %d seq %d} %s, want {%s room %d seq %d} %s",
				call, i, g.Type, g.RoomID, g.Seq, g.Data, w.Type, w.RoomID, w.Seq, w.Data)
		}
	}
}

func seqs(evs []campfire.Event) []int64 {
	out := make([]int64, len(evs))
	for i, ev := range evs {
		out[i] = ev.Seq
	}
	return out
}

func testEventsLogEveryChange(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	r := f.openRoom("Watercooler", f.admin.ID)
	returned := f.activityAsReturned(r)
	wantTypes := []campfire.EventType{
		campfire.EventMessageCreated, campfire.EventMessageCreated, campfire.EventMessageCreated,
		campfire.EventMessageUpdated, campfire.EventBoostCreated, campfire.EventBoostDeleted,
		campfire.EventMessageDeleted, campfire.EventRoomUpdated,
	}
	for i, ev := range returned {
		checkEvent(t, "event "+string(wantTypes[i]), ev, wantTypes[i], r.ID, int64(i+1))
	}
	checkEvents(t, "Events(since 0): current state and tombstones", f.events(r.ID, 0), replayedActivity(t, r.ID, returned))
	if got := f.room(r.ID).LastSeq; got != int64(len(returned)) {
		t.Fatalf("the room's LastSeq is %d, want %d (its latest event)", got, len(returned))
	}
}

func testEventsSince(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	r := f.openRoom("Watercooler", f.admin.ID)
	all := f.activity(r)
	other := f.openRoom("Elsewhere", f.admin.ID)
	f.activity(other)
	for since := range int64(len(all)) + 1 {
		checkEvents(t, "Events(since "+itoa(since)+")", f.events(r.ID, since), all[since:])
	}
}

func testEventsLimit(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	r := f.openRoom("Watercooler", f.admin.ID)
	all := f.activity(r)
	for _, c := range []struct {
		since int64
		limit int
	}{{0, 1}, {0, 3}, {3, 2}, {6, 5}, {0, 100}} {
		got, err := s.Events(f.ctx, r.ID, c.since, c.limit)
		call := "Events(since " + itoa(c.since) + ", limit " + itoa(int64(c.limit)) + ")"
		must(t, call, err)
		want := all[c.since:]
		want = want[:min(len(want), c.limit)]
		checkEvents(t, call, got, want)
	}
}

func testEventsEmptyRoom(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	checkEvents(t, "Events of a room without events", f.events(f.lobby.ID, 0), nil)
}

func testEventsNotFoundForMissingRoom(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	_, err := s.Events(f.ctx, missingID, 0, 0)
	wantErr(t, "Events of a missing room", err, campfire.ErrNotFound)
}

// A cursor past the end of the log comes from another history (a database
// restored from a backup): waiting for seqs the client already has would
// silently skip the new events that take those numbers.
func testEventsResyncBeyondLastSeq(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	r := f.openRoom("Watercooler", f.admin.ID)
	all := f.activity(r)
	last := all[len(all)-1].Seq
	checkEvents(t, "Events(since LastSeq)", f.events(r.ID, last), nil)
	_, err := s.Events(f.ctx, r.ID, last+1, 0)
	wantErr(t, "Events(since LastSeq+1)", err, campfire.ErrResync)
}

// A client resuming a room that was deleted meanwhile learns of the deletion.
func testEventsOfDeletedRoom(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	r := f.openRoom("Doomed", f.admin.ID)
	all := f.activity(r)
	change, err := s.DeleteRoom(f.ctx, r.ID)
	must(t, "DeleteRoom", err)
	checkEvents(t, "Events of a deleted room", f.events(r.ID, all[len(all)-1].Seq), []campfire.Event{change.Event})
}

// A client resumes from the last seq it saw. Seqs are assigned in commit
// order, so whatever it reads continues exactly where it left off: a store
// that handed out seq 3 before seq 2 committed would let it skip seq 2.
func testEventsReadersNeverSeeAGap(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	r := f.openRoom("Busy", f.admin.ID)
	const writers, posts = 4, 25
	var (
		writing   sync.WaitGroup
		reading   sync.WaitGroup
		done      = make(chan struct{})
		readerErr error
		seen      int64 // the last seq the reader saw
	)
	resume := func() error {
		evs, err := s.Events(f.ctx, r.ID, seen, 0)
		if err != nil {
			return fmt.Errorf("Events(since %d): %w", seen, err)
		}
		for _, ev := range evs {
			if ev.Seq != seen+1 {
				return fmt.Errorf("Events(since %d) returned seqs %v: a reader resuming after %d must get %d next", seen, seqs(evs), seen, seen+1)
			}
			seen = ev.Seq
		}
		return nil
	}
	reading.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if readerErr = resume(); readerErr != nil {
				return
			}
		}
	})
	errs := make(chan error, writers*posts)
	for w := range writers {
		writing.Go(func() {
			for p := range posts {
				if _, err := s.CreateMessage(f.ctx, campfire.NewMessage{RoomID: r.ID, CreatorID: f.admin.ID, Body: body(fmt.Sprintf("w%d p%d", w, p))}); err != nil {
					errs <- err
				}
			}
		})
	}
	writing.Wait()
	close(done)
	reading.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent CreateMessage: %v", err)
	}
	if readerErr != nil {
		t.Fatal(readerErr)
	}
	if err := resume(); err != nil {
		t.Fatal(err)
	}
	if seen != writers*posts {
		t.Fatalf("a reader resuming from its last seq saw %d events in all, want %d", seen, writers*posts)
	}
}

// afterEverything is a time after every event stored so far, read from the
// store's own clock (the CreatedAt of a message posted now) in case it is
// not the wall clock.
func (f *fixture) afterEverything() time.Time {
	f.t.Helper()
	probe := f.openRoom("Clock probe", f.admin.ID)
	m, _ := f.post(probe.ID, f.admin.ID, "what time is it")
	return later(m.CreatedAt, time.Now()).Add(time.Hour)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (f *fixture) prune(before time.Time) {
	f.t.Helper()
	if err := f.s.PruneEvents(f.ctx, before); err != nil {
		f.t.Fatalf("PruneEvents(%v): %v", before, err)
	}
}

func testPruneKeepsLatest(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	busy := f.openRoom("Busy", f.admin.ID)
	all := f.activity(busy)
	quiet := f.openRoom("Quiet", f.admin.ID)
	_, only := f.post(quiet.ID, f.admin.ID, "the only message")
	silent := f.openRoom("Silent", f.admin.ID)

	f.prune(f.afterEverything())

	last := all[len(all)-1]
	checkEvents(t, "Events(since LastSeq-1) after pruning (the latest event is kept)", f.events(busy.ID, last.Seq-1), []campfire.Event{last})
	checkEvents(t, "Events(since LastSeq) after pruning", f.events(busy.ID, last.Seq), nil)
	checkEvents(t, "Events(since 0) of a room whose only event is its latest", f.events(quiet.ID, 0), []campfire.Event{only})
	checkEvents(t, "Events(since 0) of a room without events after pruning", f.events(silent.ID, 0), nil)
	if got := f.room(busy.ID).LastSeq; got != last.Seq {
		t.Fatalf("the room's LastSeq after pruning is %d, want %d", got, last.Seq)
	}
}

func testPruneResync(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	r := f.openRoom("Busy", f.admin.ID)
	all := f.activity(r)
	f.prune(f.afterEverything())
	lastSeq := all[len(all)-1].Seq
	for _, since := range []int64{0, 1, lastSeq - 2} {
		_, err := s.Events(f.ctx, r.ID, since, 0)
		wantErr(t, "Events(since "+itoa(since)+") after the events after it were pruned", err, campfire.ErrResync)
		_, err = s.Events(f.ctx, r.ID, since, 1)
		wantErr(t, "Events(since "+itoa(since)+", limit 1) after the events after it were pruned", err, campfire.ErrResync)
	}
}

func testPruneSeqsContinue(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	r := f.openRoom("Busy", f.admin.ID)
	all := f.activity(r)
	f.prune(f.afterEverything())
	last := all[len(all)-1]
	_, ev := f.post(r.ID, f.admin.ID, "after the prune")
	checkEvent(t, "CreateMessage after pruning", ev, campfire.EventMessageCreated, r.ID, last.Seq+1)
	checkEvents(t, "Events(since LastSeq-1) after pruning and posting", f.events(r.ID, last.Seq-1), []campfire.Event{last, ev})
}

func testPruneKeepsLaterEvents(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	r := f.openRoom("Busy", f.admin.ID)
	first, _ := f.post(r.ID, f.admin.ID, "first")
	all := f.activity(r)
	f.prune(first.CreatedAt.Add(-time.Hour))
	got := f.events(r.ID, 0)
	if len(got) != len(all)+1 {
		t.Fatalf("Events(since 0) after PruneEvents(before the first event) has %d events, want all %d", len(got), len(all)+1)
	}
	checkEvents(t, "Events after PruneEvents(before the first event)", got[1:], all)
}
