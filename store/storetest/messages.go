package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/opencampfire/campfire"
)

func messageSpecs() []group {
	return []group{
		{"CreateMessage", []spec{
			{"ReturnsTheMessageAndItsEvent", testCreateMessageReturnsMessageAndEvent},
			{"SeqIsOneAboveTheRoomsLastSeq", testCreateMessageSeqIsOneAboveLastSeq},
			{"MovesTheRoomsUpdatedAt", testCreateMessageMovesUpdatedAt},
			{"NotFoundForMissingRoom", testCreateMessageNotFoundForMissingRoom},
			{"RetryWithSameClientMessageIDReturnsTheFirstMessage", testCreateMessageRetryReturnsFirst},
			{"ClientMessageIDIsPerCreator", testCreateMessageClientIDPerCreator},
			{"ClientMessageIDIsPerRoom", testCreateMessageClientIDPerRoom},
			{"EmptyClientMessageIDNeverDeduplicates", testCreateMessageEmptyClientIDNeverDedups},
			{"ConcurrentRetriesCreateOneMessage", testCreateMessageConcurrentRetries},
			{"ConcurrentPostsGetGapFreeSeqs", testCreateMessageConcurrentPostsGapFree},
			{"SeqsArePerRoom", testCreateMessageSeqsArePerRoom},
			{"MarkUnreadMarksLikeMarkUnread", testCreateMessageMarkUnread},
			{"MarkUnreadOnARetryMarksNothing", testCreateMessageMarkUnreadRetry},
			{"WithoutMarkUnreadMarksNothing", testCreateMessageWithoutMarkUnread},
		}},
		{"Message", []spec{
			{"ReturnsTheMessageWithItsBoosts", testMessageReturnsMessageWithBoosts},
			{"NotFoundInAnotherRoom", testMessageNotFoundInAnotherRoom},
			{"NotFoundWhenMissing", testMessageNotFoundWhenMissing},
			{"NotFoundWhenDeleted", testMessageNotFoundWhenDeleted},
		}},
		{"Messages", []spec{
			{"WithoutCursorReturnsTheNewestOldestFirst", testMessagesNewest},
			{"BeforeReturnsTheMessagesJustOlder", testMessagesBefore},
			{"AfterReturnsTheMessagesJustNewer", testMessagesAfter},
			{"AroundCentresOnTheMessage", testMessagesAroundCentres},
			{"AroundFillsFromTheOtherSideNearAnEnd", testMessagesAroundFills},
			{"MoreBeforeAndMoreAfterAreExact", testMessagesMoreFlagsExact},
			{"LeavesOutDeletedMessages", testMessagesLeavesOutDeleted},
			{"DeletedMessagesAreValidCursors", testMessagesDeletedCursors},
			{"IncludesBoosts", testMessagesIncludesBoosts},
			{"EmptyRoomGivesAnEmptyPage", testMessagesEmptyRoom},
			{"NotFoundForCursorOfAnotherRoom", testMessagesNotFoundForCursorOfAnotherRoom},
			{"NotFoundForMissingCursor", testMessagesNotFoundForMissingCursor},
		}},
		{"UpdateMessage", []spec{
			{"ReplacesBodyMentionsAndSoundAndAppendsMessageUpdated", testUpdateMessageReplaces},
			{"KeepsBoosts", testUpdateMessageKeepsBoosts},
			{"NotFound", testUpdateMessageNotFound},
		}},
		{"DeleteMessage", []spec{
			{"AppendsMessageDeleted", testDeleteMessageAppendsMessageDeleted},
			{"MessageAndItsBoostsAreGoneAfterwards", testDeleteMessageGoneAfterwards},
			{"NotFound", testDeleteMessageNotFound},
		}},
	}
}

func testCreateMessageReturnsMessageAndEvent(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea, cy, dee := f.user("Bea"), f.user("Cy"), f.user("Dee")
	r := f.openRoom("Watercooler", bea.ID)
	nm := campfire.NewMessage{
		RoomID:          r.ID,
		CreatorID:       bea.ID,
		ClientMessageID: "0f8e-client-1",
		Body:            campfire.Body{Markdown: "hi **@Cy** and @Dee", HTML: "<p>hi <strong>@Cy</strong> and @Dee</p>", PlainText: "hi @Cy and @Dee"},
		Mentions:        sorted([]int64{cy.ID, dee.ID}),
		Sound:           "tada",
	}
	posted, err := s.CreateMessage(f.ctx, nm)
	m, ev, created := posted.Message, posted.Event, posted.Created
	call := "CreateMessage"
	must(t, call, err)
	if !created {
		t.Fatalf("%s of a new message reported created false", call)
	}
	if m.ID == 0 || m.RoomID != r.ID || m.Seq != 1 || m.ClientMessageID != nm.ClientMessageID {
		t.Fatalf("%s returned id %d, room %d, seq %d, client id %q; want a new id in room %d, seq 1, client id %q",
			call, m.ID, m.RoomID, m.Seq, m.ClientMessageID, r.ID, nm.ClientMessageID)
	}
	if m.Creator != bea.Ref() {
		t.Fatalf("%s returned creator %+v, want %+v", call, m.Creator, bea.Ref())
	}
	if m.Body != nm.Body || !slices.Equal(m.Mentions, nm.Mentions) || m.Sound != nm.Sound || len(m.Boosts) != 0 {
		t.Fatalf("%s returned body %+v, mentions %v, sound %q, boosts %v; want %+v, %v, %q and no boosts",
			call, m.Body, m.Mentions, m.Sound, m.Boosts, nm.Body, nm.Mentions, nm.Sound)
	}
	checkTimeSet(t, "a new message's CreatedAt", m.CreatedAt)
	checkNotBefore(t, "a new message's UpdatedAt", m.UpdatedAt, m.CreatedAt)

	checkEvent(t, call, ev, campfire.EventMessageCreated, r.ID, 1)
	data := decodeData[messageData](t, call, ev)
	if data.ID != m.ID || data.Body != nm.Body || data.Seq != 1 || data.RoomID != r.ID {
		t.Fatalf("%s: event Data is %s, want message %d with its body", call, ev.Data, m.ID)
	}
	checkDataEncodes(t, call, ev, m)
	f.checkLogged(call, ev)

	got := f.message(r.ID, m.ID)
	if got.ID != m.ID || got.Seq != 1 || got.Creator != m.Creator || got.Body != m.Body || !slices.Equal(got.Mentions, m.Mentions) ||
		got.Sound != m.Sound || got.ClientMessageID != m.ClientMessageID || got.RoomID != r.ID {
		t.Fatalf("Message after %s = %+v, want what it returned, %+v", call, got, m)
	}
	checkSameTime(t, "Message's CreatedAt", got.CreatedAt, m.CreatedAt)
}

func testCreateMessageSeqIsOneAboveLastSeq(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	r := f.openRoom("Watercooler", f.admin.ID)
	_, ev := f.post(r.ID, f.admin.ID, "one")
	checkEvent(t, "first CreateMessage", ev, campfire.EventMessageCreated, r.ID, 1)
	_, err := s.UpdateRoom(f.ctx, r.ID, campfire.RoomUpdate{Name: ptr("Kitchen")}) // seq 2
	must(t, "UpdateRoom", err)
	m, ev := f.post(r.ID, f.admin.ID, "three")
	checkEvent(t, "CreateMessage after a room update", ev, campfire.EventMessageCreated, r.ID, 3)
	if m.Seq != 3 {
		t.Fatalf("the message's Seq is %d, want its event's, 3", m.Seq)
	}
	if got := f.room(r.ID).LastSeq; got != 3 {
		t.Fatalf("the room's LastSeq is %d after its third event, want 3", got)
	}
}

func testCreateMessageMovesUpdatedAt(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	r := f.openRoom("Watercooler", f.admin.ID)
	before := f.room(r.ID)
	m, _ := f.post(r.ID, f.admin.ID, "hello")
	after := f.room(r.ID)
	checkTimeSet(t, "the room's UpdatedAt after a message", after.UpdatedAt)
	checkNotBefore(t, "the room's UpdatedAt after a message", after.UpdatedAt, before.UpdatedAt)
	checkSameTime(t, "the room's UpdatedAt after a message (moved to the message's time)", after.UpdatedAt, m.CreatedAt)
	if after.LastSeq != 1 {
		t.Fatalf("the room's LastSeq after a message is %d, want 1", after.LastSeq)
	}
}

func testCreateMessageNotFoundForMissingRoom(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	_, err := s.CreateMessage(f.ctx, campfire.NewMessage{RoomID: missingID, CreatorID: f.admin.ID, Body: body("hello?")})
	wantErr(t, "CreateMessage in a missing room", err, campfire.ErrNotFound)
}

func testCreateMessageRetryReturnsFirst(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	first, _ := f.postNew(campfire.NewMessage{RoomID: f.lobby.ID, CreatorID: f.admin.ID, ClientMessageID: "retry-me", Body: body("first try")})

	posted, err := s.CreateMessage(f.ctx, campfire.NewMessage{RoomID: f.lobby.ID, CreatorID: f.admin.ID, ClientMessageID: "retry-me", Body: body("second try")})
	again, ev, created := posted.Message, posted.Event, posted.Created
	call := "CreateMessage retried with the same client message id"
	must(t, call, err)
	if created || again.ID != first.ID {
		t.Fatalf("%s returned message %d (created %v), want message %d (created false)", call, again.ID, created, first.ID)
	}
	if again.Body != first.Body || again.Seq != first.Seq {
		t.Fatalf("%s returned body %q, seq %d; want the stored message (%q, seq %d): a retry stores nothing",
			call, again.Body.PlainText, again.Seq, first.Body.PlainText, first.Seq)
	}
	if ev.Type != "" || ev.Seq != 0 || ev.RoomID != 0 || len(ev.Data) != 0 {
		t.Fatalf("%s returned event {%s room %d seq %d}, want the zero Event", call, ev.Type, ev.RoomID, ev.Seq)
	}
	if n := len(f.events(f.lobby.ID, 0)); n != 1 {
		t.Fatalf("the room's log has %d events after a retry, want 1", n)
	}
	if got := f.room(f.lobby.ID).LastSeq; got != 1 {
		t.Fatalf("the room's LastSeq after a retry is %d, want 1", got)
	}
	if got := f.message(f.lobby.ID, first.ID); got.Body != first.Body {
		t.Fatalf("the stored message's body changed to %q after a retry", got.Body.PlainText)
	}
}

func testCreateMessageClientIDPerCreator(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea := f.user("Bea")
	a, _ := f.postNew(campfire.NewMessage{RoomID: f.lobby.ID, CreatorID: f.admin.ID, ClientMessageID: "same", Body: body("from ada")})
	b, ev := f.postNew(campfire.NewMessage{RoomID: f.lobby.ID, CreatorID: bea.ID, ClientMessageID: "same", Body: body("from bea")})
	if a.ID == b.ID || b.Creator.ID != bea.ID {
		t.Fatalf("two creators using one client message id got messages %d and %d, want two messages", a.ID, b.ID)
	}
	checkEvent(t, "CreateMessage by another creator with the same client id", ev, campfire.EventMessageCreated, f.lobby.ID, 2)
}

func testCreateMessageClientIDPerRoom(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	other := f.openRoom("Watercooler", f.admin.ID)
	a, _ := f.postNew(campfire.NewMessage{RoomID: f.lobby.ID, CreatorID: f.admin.ID, ClientMessageID: "same", Body: body("here")})
	b, ev := f.postNew(campfire.NewMessage{RoomID: other.ID, CreatorID: f.admin.ID, ClientMessageID: "same", Body: body("there")})
	if a.ID == b.ID || b.RoomID != other.ID {
		t.Fatalf("one creator using one client message id in two rooms got messages %d and %d, want two messages", a.ID, b.ID)
	}
	checkEvent(t, "CreateMessage in another room with the same client id", ev, campfire.EventMessageCreated, other.ID, 1)
}

func testCreateMessageEmptyClientIDNeverDedups(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	nm := campfire.NewMessage{RoomID: f.lobby.ID, CreatorID: f.admin.ID, Body: body("same words")}
	a, _ := f.postNew(nm)
	b, _ := f.postNew(nm)
	if a.ID == b.ID {
		t.Fatalf("two posts without a client message id got one message %d, want two", a.ID)
	}
}

func testCreateMessageConcurrentRetries(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	const n = 3
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		msgs    [n]campfire.Message
		created [n]bool
		errs    [n]error
	)
	for i := range n {
		wg.Go(func() {
			<-start
			posted, err := s.CreateMessage(f.ctx, campfire.NewMessage{
				RoomID: f.lobby.ID, CreatorID: f.admin.ID, ClientMessageID: "double-click", Body: body(fmt.Sprintf("attempt %d", i)),
			})
			msgs[i], created[i], errs[i] = posted.Message, posted.Created, err
		})
	}
	close(start)
	wg.Wait()
	creations := 0
	for i := range n {
		must(t, "concurrent CreateMessage with one client message id (a retry is not an error)", errs[i])
		if msgs[i].ID != msgs[0].ID {
			t.Fatalf("concurrent posts with one client message id returned messages %d and %d, want one message", msgs[0].ID, msgs[i].ID)
		}
		if created[i] {
			creations++
		}
	}
	if creations != 1 {
		t.Fatalf("%d concurrent posts with one client message id reported %d creations, want 1", n, creations)
	}
	if evs := f.events(f.lobby.ID, 0); len(evs) != 1 {
		t.Fatalf("the room's log has %d events, want 1 message.created", len(evs))
	}
}

func testCreateMessageConcurrentPostsGapFree(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	r := f.openRoom("Busy", f.admin.ID)
	const workers, posts = 8, 25
	users := make([]campfire.User, workers)
	for i := range users {
		users[i] = f.user(fmt.Sprintf("Poster %d", i))
	}
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		mu    sync.Mutex
		seqOf = map[int64]int64{} // message id -> seq of its returned event
		errs  []error
	)
	for w := range workers {
		wg.Go(func() {
			<-start
			for p := range posts {
				posted, err := s.CreateMessage(f.ctx, campfire.NewMessage{
					RoomID: r.ID, CreatorID: users[w].ID, ClientMessageID: fmt.Sprintf("w%d-p%d", w, p), Body: body(fmt.Sprintf("post %d of %d", p, w)),
				})
				m, ev, created := posted.Message, posted.Event, posted.Created
				mu.Lock()
				switch {
				case err != nil:
					errs = append(errs, err)
				case !created:
					errs = append(errs, fmt.Errorf("message %d reported created false", m.ID))
				case m.Seq != ev.Seq:
					errs = append(errs, fmt.Errorf("message %d has Seq %d, its event %d", m.ID, m.Seq, ev.Seq))
				default:
					seqOf[m.ID] = ev.Seq
				}
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d concurrent posts failed; the first: %v", len(errs), workers*posts, errs[0])
	}

	evs := f.events(r.ID, 0)
	if len(evs) != workers*posts {
		t.Fatalf("the room's log has %d events after %d posts, want %d", len(evs), workers*posts, workers*posts)
	}
	for i, ev := range evs {
		if ev.Seq != int64(i+1) {
			t.Fatalf("the log's event %d has seq %d, want %d: seqs are gap-free, unique and ascending", i, ev.Seq, i+1)
		}
		data := decodeData[messageData](t, "concurrent posts", ev)
		if got, ok := seqOf[data.ID]; !ok || got != ev.Seq {
			t.Fatalf("the log has message %d at seq %d, but CreateMessage returned seq %d for it", data.ID, ev.Seq, got)
		}
	}
	if got := f.room(r.ID).LastSeq; got != workers*posts {
		t.Fatalf("the room's LastSeq is %d after %d posts, want %d", got, workers*posts, workers*posts)
	}
}

func testCreateMessageSeqsArePerRoom(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	a := f.openRoom("A", f.admin.ID)
	b := f.openRoom("B", f.admin.ID)
	f.postN(a.ID, f.admin.ID, 3)
	_, ev := f.post(b.ID, f.admin.ID, "first in b")
	checkEvent(t, "first CreateMessage in a second room", ev, campfire.EventMessageCreated, b.ID, 1)
	_, ev = f.post(a.ID, f.admin.ID, "fourth in a")
	checkEvent(t, "fourth CreateMessage in the first room", ev, campfire.EventMessageCreated, a.ID, 4)
	if evs := f.events(b.ID, 0); len(evs) != 1 || evs[0].RoomID != b.ID {
		t.Fatalf("the second room's log has %d events, want only its own one", len(evs))
	}
}

func testMessageReturnsMessageWithBoosts(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea := f.user("Bea")
	m, _ := f.post(f.lobby.ID, f.admin.ID, "ship it")
	b1, _ := f.boost(f.lobby.ID, m.ID, bea.ID, "🚀")
	b2, _ := f.boost(f.lobby.ID, m.ID, f.admin.ID, "yay")

	got := f.message(f.lobby.ID, m.ID)
	if got.ID != m.ID || got.Body != m.Body || got.Creator != f.admin.Ref() {
		t.Fatalf("Message = %+v, want message %d as posted", got, m.ID)
	}
	checkSet(t, "the message's boosts", boostIDs(got.Boosts), []int64{b1.ID, b2.ID})
	for _, b := range got.Boosts {
		want := b1
		if b.ID == b2.ID {
			want = b2
		}
		if b.MessageID != m.ID || b.RoomID != f.lobby.ID || b.Content != want.Content || b.Booster != want.Booster {
			t.Fatalf("the message's boost %d is %+v, want %+v", b.ID, b, want)
		}
	}
}

func testMessageNotFoundInAnotherRoom(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	other := f.openRoom("Watercooler", f.admin.ID)
	m, _ := f.post(f.lobby.ID, f.admin.ID, "here")
	_, err := s.Message(f.ctx, other.ID, m.ID)
	wantErr(t, "Message of another room", err, campfire.ErrNotFound)
}

func testMessageNotFoundWhenMissing(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	_, err := s.Message(f.ctx, f.lobby.ID, missingID)
	wantErr(t, "Message(missing id)", err, campfire.ErrNotFound)
}

func testMessageNotFoundWhenDeleted(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	m, _ := f.post(f.lobby.ID, f.admin.ID, "oops")
	f.deleteMessage(f.lobby.ID, m.ID)
	_, err := s.Message(f.ctx, f.lobby.ID, m.ID)
	wantErr(t, "Message(deleted message)", err, campfire.ErrNotFound)
}

// page fetches a page and fails on error.
func (f *fixture) page(q campfire.MessageQuery) campfire.MessagePage {
	f.t.Helper()
	p, err := f.s.Messages(f.ctx, q)
	if err != nil {
		f.t.Fatalf("Messages(%+v): %v", q, err)
	}
	return p
}

// describe names a query for failure messages, with cursors as the test's
// message numbers (1 is the oldest posted).
func describe(q campfire.MessageQuery, posted []campfire.Message) string {
	num := func(id int64) string {
		for i, m := range posted {
			if m.ID == id {
				return fmt.Sprintf("message %d", i+1)
			}
		}
		return fmt.Sprintf("id %d", id)
	}
	switch {
	case q.Before != 0:
		return fmt.Sprintf("Messages(Before %s, Limit %d)", num(q.Before), q.Limit)
	case q.After != 0:
		return fmt.Sprintf("Messages(After %s, Limit %d)", num(q.After), q.Limit)
	case q.Around != 0:
		return fmt.Sprintf("Messages(Around %s, Limit %d)", num(q.Around), q.Limit)
	}
	return fmt.Sprintf("Messages(newest, Limit %d)", q.Limit)
}

// checkPage checks a Before, After or newest page against live, the room's
// messages that are not deleted, oldest first: the page must be exactly the
// run the query names, with exact MoreBefore and MoreAfter.
func (f *fixture) checkPage(q campfire.MessageQuery, live, posted []campfire.Message) {
	f.t.Helper()
	var lo, hi int
	switch {
	case q.Before != 0:
		hi = countIDs(live, func(id int64) bool { return id < q.Before })
		lo = max(0, hi-q.Limit)
	case q.After != 0:
		lo = countIDs(live, func(id int64) bool { return id <= q.After })
		hi = min(len(live), lo+q.Limit)
	default:
		hi = len(live)
		lo = max(0, hi-q.Limit)
	}
	f.checkRun(describe(q, posted), f.page(q), live, lo, hi)
}

func countIDs(ms []campfire.Message, keep func(int64) bool) int {
	n := 0
	for _, m := range ms {
		if keep(m.ID) {
			n++
		}
	}
	return n
}

// checkRun fails unless page holds live[lo:hi], oldest first, and says
// exactly whether messages exist before and after it. (An empty page has no
// first or last message; its flags are not checked.)
func (f *fixture) checkRun(call string, page campfire.MessagePage, live []campfire.Message, lo, hi int) {
	f.t.Helper()
	checkIDs(f.t, call+": message ids, oldest first", messageIDs(page.Messages), messageIDs(live[lo:hi]))
	for i, m := range page.Messages {
		if want := live[lo+i]; m.Body != want.Body || m.RoomID != want.RoomID || m.Creator != want.Creator {
			f.t.Fatalf("%s: message %d is %+v, want %+v", call, m.ID, m, want)
		}
	}
	if lo == hi {
		return
	}
	if page.MoreBefore != (lo > 0) || page.MoreAfter != (hi < len(live)) {
		f.t.Fatalf("%s: MoreBefore %v, MoreAfter %v; want %v, %v (%d older and %d newer messages exist)",
			call, page.MoreBefore, page.MoreAfter, lo > 0, hi < len(live), lo, len(live)-hi)
	}
}

// checkAround checks an Around page: a run of live of about q.Limit
// messages (at most Limit, at most one fewer than Limit when the room has
// that many) that includes the cursor, splits about evenly around it when
// both sides have enough, and fills from one side when the other runs out.
func (f *fixture) checkAround(q campfire.MessageQuery, live, posted []campfire.Message) {
	f.t.Helper()
	call := describe(q, posted)
	page := f.page(q)
	got := messageIDs(page.Messages)
	if len(got) == 0 {
		f.t.Fatalf("%s: empty page, want the messages around the cursor", call)
	}
	lo := slices.Index(messageIDs(live), got[0])
	if lo < 0 || lo+len(got) > len(live) {
		f.t.Fatalf("%s: got %v, want a run of the room's messages %v", call, got, messageIDs(live))
	}
	hi := lo + len(got)
	f.checkRun(call, page, live, lo, hi)
	if len(got) > q.Limit {
		f.t.Fatalf("%s: %d messages, want at most Limit", call, len(got))
	}
	if want := min(q.Limit, len(live)); len(got) < want-1 {
		f.t.Fatalf("%s: %d messages %v, want about %d (the room has %d): fill from the other side when one side runs out",
			call, len(got), got, want, len(live))
	}
	i := slices.Index(messageIDs(live), q.Around)
	if i < 0 { // a deleted cursor: the run must touch where it was
		at := countIDs(live, func(id int64) bool { return id < q.Around })
		if lo > at || hi < at {
			f.t.Fatalf("%s: got %v, want the messages around where the deleted cursor was", call, got)
		}
		return
	}
	if i < lo || i >= hi {
		f.t.Fatalf("%s: got %v, want the cursor %d among them", call, got, q.Around)
	}
	before, after := i-lo, hi-1-i
	if half := q.Limit / 2; i >= half && len(live)-1-i >= half && (before-after > 1 || after-before > 1) {
		f.t.Fatalf("%s: %d messages before the cursor and %d after, want about half on each side", call, before, after)
	}
}

func testMessagesNewest(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	posted := f.postN(f.lobby.ID, f.admin.ID, 10)
	for _, limit := range []int{1, 3, 9, 10, 11, 100} {
		f.checkPage(campfire.MessageQuery{RoomID: f.lobby.ID, Limit: limit}, posted, posted)
	}
}

func testMessagesBefore(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	posted := f.postN(f.lobby.ID, f.admin.ID, 10)
	for _, c := range []struct{ cursor, limit int }{{5, 3}, {4, 3}, {3, 3}, {10, 9}, {10, 100}, {2, 1}, {1, 5}} {
		f.checkPage(campfire.MessageQuery{RoomID: f.lobby.ID, Before: posted[c.cursor-1].ID, Limit: c.limit}, posted, posted)
	}
}

func testMessagesAfter(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	posted := f.postN(f.lobby.ID, f.admin.ID, 10)
	for _, c := range []struct{ cursor, limit int }{{5, 3}, {7, 3}, {8, 3}, {1, 9}, {1, 100}, {9, 1}, {10, 5}} {
		f.checkPage(campfire.MessageQuery{RoomID: f.lobby.ID, After: posted[c.cursor-1].ID, Limit: c.limit}, posted, posted)
	}
}

func testMessagesAroundCentres(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	posted := f.postN(f.lobby.ID, f.admin.ID, 20)
	for _, c := range []struct{ cursor, limit int }{{10, 10}, {11, 10}, {10, 5}, {10, 4}, {10, 1}, {10, 2}, {10, 100}} {
		f.checkAround(campfire.MessageQuery{RoomID: f.lobby.ID, Around: posted[c.cursor-1].ID, Limit: c.limit}, posted, posted)
	}
}

func testMessagesAroundFills(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	posted := f.postN(f.lobby.ID, f.admin.ID, 20)
	for _, c := range []struct{ cursor, limit int }{{1, 10}, {2, 10}, {3, 10}, {20, 10}, {19, 10}, {18, 10}, {2, 5}, {19, 5}} {
		f.checkAround(campfire.MessageQuery{RoomID: f.lobby.ID, Around: posted[c.cursor-1].ID, Limit: c.limit}, posted, posted)
	}
}

func testMessagesMoreFlagsExact(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	posted := f.postN(f.lobby.ID, f.admin.ID, 10)
	room := f.lobby.ID
	queries := func(live []campfire.Message) {
		t.Helper()
		f.checkPage(campfire.MessageQuery{RoomID: room, Limit: len(live)}, live, posted)
		f.checkPage(campfire.MessageQuery{RoomID: room, Limit: len(live) - 1}, live, posted)
		f.checkPage(campfire.MessageQuery{RoomID: room, Before: posted[9].ID, Limit: len(live) - 1}, live, posted)
		f.checkPage(campfire.MessageQuery{RoomID: room, Before: posted[9].ID, Limit: len(live) - 2}, live, posted)
		f.checkPage(campfire.MessageQuery{RoomID: room, After: posted[0].ID, Limit: len(live) - 1}, live, posted)
		f.checkPage(campfire.MessageQuery{RoomID: room, After: posted[0].ID, Limit: len(live) - 2}, live, posted)
		f.checkAround(campfire.MessageQuery{RoomID: room, Around: posted[4].ID, Limit: 100}, live, posted)
	}
	queries(posted)

	// Deleted messages at both ends do not count as older or newer ones.
	f.deleteMessage(room, posted[0].ID)
	f.deleteMessage(room, posted[9].ID)
	queries(posted[1:9])
}

func testMessagesLeavesOutDeleted(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	posted := f.postN(f.lobby.ID, f.admin.ID, 10)
	f.deleteMessage(f.lobby.ID, posted[4].ID)
	f.deleteMessage(f.lobby.ID, posted[5].ID)
	live := slices.Concat(posted[:4], posted[6:])
	room := f.lobby.ID
	f.checkPage(campfire.MessageQuery{RoomID: room, Limit: 100}, live, posted)
	f.checkPage(campfire.MessageQuery{RoomID: room, Limit: 5}, live, posted)
	f.checkPage(campfire.MessageQuery{RoomID: room, Before: posted[7].ID, Limit: 3}, live, posted)
	f.checkPage(campfire.MessageQuery{RoomID: room, After: posted[2].ID, Limit: 3}, live, posted)
	f.checkAround(campfire.MessageQuery{RoomID: room, Around: posted[3].ID, Limit: 4}, live, posted)
}

func testMessagesDeletedCursors(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	posted := f.postN(f.lobby.ID, f.admin.ID, 10)
	f.deleteMessage(f.lobby.ID, posted[4].ID)
	live := slices.Concat(posted[:4], posted[5:])
	room, gone := f.lobby.ID, posted[4].ID
	f.checkPage(campfire.MessageQuery{RoomID: room, Before: gone, Limit: 3}, live, posted)
	f.checkPage(campfire.MessageQuery{RoomID: room, After: gone, Limit: 3}, live, posted)
	f.checkAround(campfire.MessageQuery{RoomID: room, Around: gone, Limit: 4}, live, posted)
}

func testMessagesIncludesBoosts(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea := f.user("Bea")
	posted := f.postN(f.lobby.ID, f.admin.ID, 3)
	b1, _ := f.boost(f.lobby.ID, posted[1].ID, bea.ID, "👍")
	b2, _ := f.boost(f.lobby.ID, posted[1].ID, f.admin.ID, "nice")
	page := f.page(campfire.MessageQuery{RoomID: f.lobby.ID, Limit: 10})
	if len(page.Messages) != 3 {
		t.Fatalf("Messages returned %d messages, want 3", len(page.Messages))
	}
	for i, m := range page.Messages {
		var want []int64
		if i == 1 {
			want = []int64{b1.ID, b2.ID}
		}
		checkSet(t, fmt.Sprintf("boosts of message %d in a page", i+1), boostIDs(m.Boosts), want)
	}
	for _, b := range page.Messages[1].Boosts {
		if b.MessageID != posted[1].ID || b.Content == "" || b.Booster.ID == 0 {
			t.Fatalf("a boost in a page is %+v, want its message, content and booster", b)
		}
	}
}

func testMessagesEmptyRoom(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	page := f.page(campfire.MessageQuery{RoomID: f.lobby.ID, Limit: 50})
	if len(page.Messages) != 0 || page.MoreBefore || page.MoreAfter {
		t.Fatalf("Messages of an empty room = %+v, want no messages and no more either way", page)
	}
}

func testMessagesNotFoundForCursorOfAnotherRoom(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	other := f.openRoom("Watercooler", f.admin.ID)
	f.postN(f.lobby.ID, f.admin.ID, 3)
	elsewhere, _ := f.post(other.ID, f.admin.ID, "elsewhere")
	for _, q := range []campfire.MessageQuery{
		{RoomID: f.lobby.ID, Before: elsewhere.ID, Limit: 10},
		{RoomID: f.lobby.ID, After: elsewhere.ID, Limit: 10},
		{RoomID: f.lobby.ID, Around: elsewhere.ID, Limit: 10},
	} {
		_, err := s.Messages(f.ctx, q)
		wantErr(t, describe(q, nil)+" with a cursor of another room", err, campfire.ErrNotFound)
	}
}

func testMessagesNotFoundForMissingCursor(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	f.postN(f.lobby.ID, f.admin.ID, 3)
	for _, q := range []campfire.MessageQuery{
		{RoomID: f.lobby.ID, Before: missingID, Limit: 10},
		{RoomID: f.lobby.ID, After: missingID, Limit: 10},
		{RoomID: f.lobby.ID, Around: missingID, Limit: 10},
	} {
		_, err := s.Messages(f.ctx, q)
		wantErr(t, describe(q, nil)+" with a cursor naming no message", err, campfire.ErrNotFound)
	}
}

func testUpdateMessageReplaces(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea, cy := f.user("Bea"), f.user("Cy")
	orig, _ := f.postNew(campfire.NewMessage{RoomID: f.lobby.ID, CreatorID: bea.ID, ClientMessageID: "c1", Body: body("hi @Cy"), Mentions: []int64{cy.ID}, Sound: "tada"})
	stored := f.message(f.lobby.ID, orig.ID)

	newBody := campfire.Body{Markdown: "hi *all* @Ada", HTML: "<p>hi <em>all</em> @Ada</p>", PlainText: "hi all @Ada"}
	m, ev, err := s.UpdateMessage(f.ctx, f.lobby.ID, orig.ID, newBody, []int64{f.admin.ID}, "")
	call := "UpdateMessage"
	must(t, call, err)
	if m.ID != orig.ID || m.RoomID != f.lobby.ID || m.Body != newBody || !slices.Equal(m.Mentions, []int64{f.admin.ID}) || m.Sound != "" {
		t.Fatalf("%s returned %+v, want message %d with the new body, mentions [%d] and no sound", call, m, orig.ID, f.admin.ID)
	}
	if m.Seq != orig.Seq || m.Creator != bea.Ref() || m.ClientMessageID != "c1" {
		t.Fatalf("%s returned seq %d, creator %+v, client id %q; want them unchanged (%d, %+v, %q): Seq is the creating event's",
			call, m.Seq, m.Creator, m.ClientMessageID, orig.Seq, bea.Ref(), "c1")
	}
	checkSameTime(t, "CreatedAt after "+call, m.CreatedAt, stored.CreatedAt)
	checkNotBefore(t, "UpdatedAt after "+call, m.UpdatedAt, stored.UpdatedAt)

	checkEvent(t, call, ev, campfire.EventMessageUpdated, f.lobby.ID, 2)
	data := decodeData[messageData](t, call, ev)
	if data.ID != orig.ID || data.Body != newBody || data.Seq != orig.Seq {
		t.Fatalf("%s: event Data is %s, want the updated message", call, ev.Data)
	}
	checkDataEncodes(t, call, ev, m)
	f.checkLogged(call, ev)

	got := f.message(f.lobby.ID, orig.ID)
	if got.Body != newBody || !slices.Equal(got.Mentions, []int64{f.admin.ID}) || got.Sound != "" {
		t.Fatalf("Message after %s = %+v, want the new body, mentions and sound", call, got)
	}
	checkSameTime(t, "Message's UpdatedAt after "+call, got.UpdatedAt, m.UpdatedAt)
	if r := f.room(f.lobby.ID); r.LastSeq != 2 {
		t.Fatalf("the room's LastSeq after %s is %d, want 2", call, r.LastSeq)
	}
}

func testUpdateMessageKeepsBoosts(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	m, _ := f.post(f.lobby.ID, f.admin.ID, "ship it")
	b, _ := f.boost(f.lobby.ID, m.ID, f.admin.ID, "🚀")
	updated, ev, err := s.UpdateMessage(f.ctx, f.lobby.ID, m.ID, body("shipped"), nil, "")
	must(t, "UpdateMessage", err)
	checkSet(t, "boosts of the message UpdateMessage returned", boostIDs(updated.Boosts), []int64{b.ID})
	data := decodeData[messageData](t, "UpdateMessage", ev)
	if len(data.Boosts) != 1 || data.Boosts[0].ID != b.ID {
		t.Fatalf("message.updated Data is %s, want the message with its boost %d (clients replace the message)", ev.Data, b.ID)
	}
	checkSet(t, "boosts of the message after UpdateMessage", boostIDs(f.message(f.lobby.ID, m.ID).Boosts), []int64{b.ID})
}

func testUpdateMessageNotFound(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	other := f.openRoom("Watercooler", f.admin.ID)
	m, _ := f.post(f.lobby.ID, f.admin.ID, "here")
	gone, _ := f.post(f.lobby.ID, f.admin.ID, "gone")
	f.deleteMessage(f.lobby.ID, gone.ID)
	for _, c := range []struct {
		what     string
		room, id int64
	}{{"in another room", other.ID, m.ID}, {"missing", f.lobby.ID, missingID}, {"deleted", f.lobby.ID, gone.ID}} {
		_, _, err := s.UpdateMessage(f.ctx, c.room, c.id, body("edited"), nil, "")
		wantErr(t, "UpdateMessage of a message "+c.what, err, campfire.ErrNotFound)
	}
	if r := f.room(other.ID); r.LastSeq != 0 {
		t.Fatalf("a refused UpdateMessage appended an event (LastSeq %d)", r.LastSeq)
	}
}

func testDeleteMessageAppendsMessageDeleted(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	m, _ := f.post(f.lobby.ID, f.admin.ID, "oops")
	ev, err := s.DeleteMessage(f.ctx, f.lobby.ID, m.ID)
	call := "DeleteMessage"
	must(t, call, err)
	checkEvent(t, call, ev, campfire.EventMessageDeleted, f.lobby.ID, 2)
	checkDataEncodes(t, call, ev, campfire.IDData{ID: m.ID})
	f.checkLogged(call, ev)
	if r := f.room(f.lobby.ID); r.LastSeq != 2 {
		t.Fatalf("the room's LastSeq after %s is %d, want 2", call, r.LastSeq)
	}
}

func testDeleteMessageGoneAfterwards(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	keep, _ := f.post(f.lobby.ID, f.admin.ID, "keep")
	m, _ := f.post(f.lobby.ID, f.admin.ID, "oops")
	b, _ := f.boost(f.lobby.ID, m.ID, f.admin.ID, "lol")
	f.deleteMessage(f.lobby.ID, m.ID)

	_, err := s.Message(f.ctx, f.lobby.ID, m.ID)
	wantErr(t, "Message after DeleteMessage", err, campfire.ErrNotFound)
	_, err = s.Boost(f.ctx, f.lobby.ID, m.ID, b.ID)
	wantErr(t, "Boost of a deleted message", err, campfire.ErrNotFound)
	_, _, err = s.CreateBoost(f.ctx, f.lobby.ID, m.ID, f.admin.ID, "again")
	wantErr(t, "CreateBoost on a deleted message", err, campfire.ErrNotFound)
	_, err = s.DeleteBoost(f.ctx, f.lobby.ID, m.ID, b.ID)
	wantErr(t, "DeleteBoost of a deleted message's boost", err, campfire.ErrNotFound)
	checkIDs(t, "Messages after DeleteMessage", messageIDs(f.page(campfire.MessageQuery{RoomID: f.lobby.ID, Limit: 10}).Messages), []int64{keep.ID})
}

func testDeleteMessageNotFound(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	other := f.openRoom("Watercooler", f.admin.ID)
	m, _ := f.post(f.lobby.ID, f.admin.ID, "here")
	gone, _ := f.post(f.lobby.ID, f.admin.ID, "gone")
	f.deleteMessage(f.lobby.ID, gone.ID)
	for _, c := range []struct {
		what     string
		room, id int64
	}{{"in another room", other.ID, m.ID}, {"missing", f.lobby.ID, missingID}, {"already deleted", f.lobby.ID, gone.ID}} {
		_, err := s.DeleteMessage(f.ctx, c.room, c.id)
		wantErr(t, "DeleteMessage of a message "+c.what, err, campfire.ErrNotFound)
	}
	f.message(f.lobby.ID, m.ID) // still there
}
