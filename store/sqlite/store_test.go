package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/matryer/is"
	"github.com/opencampfire/campfire"
	"github.com/opencampfire/campfire/store/sqlite"
)

// quiet keeps migration notes out of test output.
var quiet = slog.New(slog.DiscardHandler)

// openStore opens a store on a file in a fresh temp dir, closed when the
// test ends. The store does not take ":memory:", so tests use a file.
func openStore(tb testing.TB, opts *sqlite.Options) (*sqlite.Store, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "campfire.db")
	return reopen(tb, path, opts), path
}

// reopen opens the store at path, closed when the test ends.
func reopen(tb testing.TB, path string, opts *sqlite.Options) *sqlite.Store {
	tb.Helper()
	if opts == nil {
		opts = &sqlite.Options{}
	}
	opts.Logger = quiet
	s, err := sqlite.Open(context.Background(), path, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// fixture is an installation with an admin, a member and the first open room.
type fixture struct {
	s      *sqlite.Store
	admin  campfire.User
	member campfire.User
	room   campfire.Room
}

func setUp(tb testing.TB, s *sqlite.Store) fixture {
	tb.Helper()
	ctx := context.Background()
	_, admin, room, err := s.Setup(ctx, campfire.Setup{
		AccountName: "Acme", JoinCode: "abcd-efgh-jkmn", RoomName: "All Talk",
		Admin: campfire.NewUser{Name: "Ada", Email: "Ada@Example.com", PasswordHash: "hash"},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return fixture{s: s, admin: admin, member: f(tb, s).user("Bob", "bob@example.com"), room: room}
}

// f wraps a store with helpers that fail the test on error.
func f(tb testing.TB, s *sqlite.Store) helper { return helper{tb, s} }

type helper struct {
	tb testing.TB
	s  *sqlite.Store
}

func (h helper) user(name, email string) campfire.User {
	h.tb.Helper()
	u, err := h.s.CreateUser(context.Background(), campfire.NewUser{Name: name, Email: email, Role: campfire.RoleMember})
	if err != nil {
		h.tb.Fatal(err)
	}
	return u
}

func (h helper) post(roomID, creatorID int64, text string) campfire.Message {
	h.tb.Helper()
	posted, err := h.s.CreateMessage(context.Background(), campfire.NewMessage{
		RoomID: roomID, CreatorID: creatorID,
		Body: campfire.Body{Markdown: text, HTML: "<p>" + text + "</p>", PlainText: text},
	})
	m := posted.Message
	if err != nil {
		h.tb.Fatal(err)
	}
	return m
}

func (h helper) closedRoom(creatorID int64, name string, members ...int64) campfire.Room {
	h.tb.Helper()
	r, err := h.s.CreateRoom(context.Background(), campfire.NewRoom{Kind: campfire.RoomClosed, Name: name, CreatorID: creatorID, UserIDs: members})
	if err != nil {
		h.tb.Fatal(err)
	}
	return r
}

func (h helper) roomIDs(userID int64) []int64 {
	h.tb.Helper()
	rooms, err := h.s.RoomsForUser(context.Background(), userID)
	if err != nil {
		h.tb.Fatal(err)
	}
	var ids []int64
	for _, r := range rooms {
		ids = append(ids, r.ID)
	}
	return ids
}

func ids(msgs []campfire.Message) []int64 {
	var ids []int64
	for _, m := range msgs {
		ids = append(ids, m.ID)
	}
	return ids
}

func TestOpenRefusesMemory(t *testing.T) {
	_, err := sqlite.Open(context.Background(), ":memory:", nil)
	is.New(t).True(err != nil)
}

func TestOpenRefusesUnknownSynchronous(t *testing.T) {
	_, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "x.db"), &sqlite.Options{Synchronous: "SOMETIMES"})
	is.New(t).True(err != nil)
}

func TestMigrationsApplyOnce(t *testing.T) {
	is := is.New(t)
	s, path := openStore(t, nil)
	setUp(t, s)
	is.NoErr(s.Close())
	for range 2 {
		s := reopen(t, path, nil)
		_, err := s.Account(context.Background())
		is.NoErr(err)
		is.NoErr(s.Close())
	}

	db, err := sql.Open("sqlite", path)
	is.NoErr(err)
	defer db.Close()
	var n int
	is.NoErr(db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n))
	steps, err := filepath.Glob("migrations/*.sql")
	is.NoErr(err)
	is.Equal(n, len(steps)) // each migration applied once over three opens

	// A database migrated by a newer build is refused, not misread.
	_, err = db.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)`)
	is.NoErr(err)
	_, err = sqlite.Open(context.Background(), path, &sqlite.Options{Logger: quiet})
	is.True(err != nil)
}

func TestDataSurvivesReopen(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	s, path := openStore(t, nil)
	fx := setUp(t, s)
	m := f(t, s).post(fx.room.ID, fx.member.ID, "kept across restarts")
	_, _, err := s.CreateBoost(ctx, fx.room.ID, m.ID, fx.admin.ID, "👍")
	is.NoErr(err)
	m, err = s.Message(ctx, fx.room.ID, m.ID)
	is.NoErr(err)
	events, err := s.Events(ctx, fx.room.ID, 0, 0)
	is.NoErr(err)
	is.NoErr(s.Close())

	s = reopen(t, path, nil)
	got, err := s.Message(ctx, fx.room.ID, m.ID)
	is.NoErr(err)
	is.Equal(got, m)
	gotEvents, err := s.Events(ctx, fx.room.ID, 0, 0)
	is.NoErr(err)
	is.Equal(gotEvents, events)
	found, err := s.Search(ctx, fx.admin.ID, "restarts", 10)
	is.NoErr(err)
	is.Equal(ids(found), []int64{m.ID})
	acct, err := s.Account(ctx)
	is.NoErr(err)
	is.Equal(acct.Name, "Acme")
}

func TestTimesRoundTripExactly(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	now := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.FixedZone("CET", 3600))
	s, _ := openStore(t, &sqlite.Options{Now: func() time.Time { return now }})
	fx := setUp(t, s)
	is.Equal(fx.member.CreatedAt, now.UTC())
	is.Equal(fx.member.CreatedAt.Location(), time.UTC)
	m := f(t, s).post(fx.room.ID, fx.member.ID, "hi")
	got, err := s.Message(ctx, fx.room.ID, m.ID)
	is.NoErr(err)
	is.Equal(got.CreatedAt, now.UTC())
	is.Equal(got, m)

	sess := campfire.Session{TokenHash: []byte{1, 2, 3}, UserID: fx.member.ID, CreatedAt: now, LastActiveAt: now.Add(time.Nanosecond)}
	is.NoErr(s.CreateSession(ctx, sess))
	gotSess, _, err := s.Session(ctx, sess.TokenHash)
	is.NoErr(err)
	is.Equal(gotSess.LastActiveAt, now.Add(time.Nanosecond).UTC())
}

func TestCreateMessageConcurrentRetriesStoreOne(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	s, _ := openStore(t, nil)
	fx := setUp(t, s)

	const tries = 3
	var (
		wg      sync.WaitGroup
		msgs    [tries]campfire.Message
		created [tries]bool
		errs    [tries]error
	)
	for i := range tries {
		wg.Go(func() {
			posted, err := s.CreateMessage(ctx, campfire.NewMessage{
				RoomID: fx.room.ID, CreatorID: fx.member.ID, ClientMessageID: "c-1",
				Body: campfire.Body{Markdown: "once", HTML: "<p>once</p>", PlainText: "once"},
			})
			msgs[i], created[i], errs[i] = posted.Message, posted.Created, err
		})
	}
	wg.Wait()
	n := 0
	for i := range tries {
		is.NoErr(errs[i])
		is.Equal(msgs[i], msgs[0])
		if created[i] {
			n++
		}
	}
	is.Equal(n, 1)
	page, err := s.Messages(ctx, campfire.MessageQuery{RoomID: fx.room.ID, Limit: 10})
	is.NoErr(err)
	is.Equal(len(page.Messages), 1)

	// The client id is per creator: another user's post with it is new.
	posted, err := s.CreateMessage(ctx, campfire.NewMessage{RoomID: fx.room.ID, CreatorID: fx.admin.ID, ClientMessageID: "c-1"})
	created[0] = posted.Created
	is.NoErr(err)
	is.True(created[0])
}

func TestSeqsAreGapFreeUnderConcurrentPosts(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	s, _ := openStore(t, nil)
	fx := setUp(t, s)

	const writers, posts = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers*posts)
	for range writers {
		wg.Go(func() {
			for range posts {
				posted, err := s.CreateMessage(ctx, campfire.NewMessage{RoomID: fx.room.ID, CreatorID: fx.member.ID,
					Body: campfire.Body{PlainText: "x"}})
				ev := posted.Event
				if err == nil && ev.Seq == 0 {
					err = errors.New("no seq")
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	// Readers run meanwhile: they must never wait for or block the writer.
	for range 2 {
		wg.Go(func() {
			for range 50 {
				if _, err := s.Messages(ctx, campfire.MessageQuery{RoomID: fx.room.ID, Limit: 20}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	events, err := s.Events(ctx, fx.room.ID, 0, 0)
	is.NoErr(err)
	is.Equal(len(events), writers*posts)
	for i, ev := range events {
		is.Equal(ev.Seq, int64(i+1))
		var m struct{ ID, Seq int64 }
		is.NoErr(json.Unmarshal(ev.Data, &m))
		is.Equal(m.Seq, ev.Seq) // the message carries its own event's seq
	}
	room, err := s.Room(ctx, fx.room.ID)
	is.NoErr(err)
	is.Equal(room.LastSeq, int64(writers*posts))
}

func TestSearch(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	s, _ := openStore(t, nil)
	fx := setUp(t, s)
	h := f(t, s)
	secret := h.closedRoom(fx.admin.ID, "Secret")
	running := h.post(fx.room.ID, fx.member.ID, "we were running late")
	later := h.post(fx.room.ID, fx.admin.ID, "Running again, later")
	h.post(secret.ID, fx.admin.ID, "running in secret")

	search := func(userID int64, q string, limit int) []int64 {
		t.Helper()
		found, err := s.Search(ctx, userID, q, limit)
		is.NoErr(err)
		return ids(found)
	}
	is.Equal(search(fx.member.ID, "run", 10), []int64{later.ID, running.ID}) // stems, prefix, newest first, no closed room
	is.Equal(search(fx.member.ID, "RUNS were", 10), []int64{running.ID})     // every word is required
	is.Equal(search(fx.member.ID, "run", 1), []int64{later.ID})
	is.Equal(len(search(fx.admin.ID, "running", 10)), 3)

	for _, q := range []string{`AND OR NOT " * ( ) NEAR`, `"`, `*`, `running"`, `NEAR(a b)`, `col:running`, `^running`, "", "  "} {
		_, err := s.Search(ctx, fx.member.ID, q, 10)
		is.NoErr(err) // a query is never an FTS syntax error
	}
	is.Equal(len(search(fx.member.ID, "( ) *", 10)), 0) // no words, nothing found

	_, err := s.DeleteMessage(ctx, fx.room.ID, running.ID)
	is.NoErr(err)
	_, _, err = s.UpdateMessage(ctx, fx.room.ID, later.ID, campfire.Body{PlainText: "edited away"}, nil, "")
	is.NoErr(err)
	is.Equal(len(search(fx.member.ID, "running", 10)), 0)
	is.Equal(search(fx.member.ID, "edited", 10), []int64{later.ID})

	_, err = s.DeleteRoom(ctx, secret.ID)
	is.NoErr(err)
	is.Equal(len(search(fx.admin.ID, "secret", 10)), 0)
}

func TestMessagesPaging(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	s, _ := openStore(t, nil)
	fx := setUp(t, s)
	h := f(t, s)
	var all []int64 // live message ids, oldest first
	for i := range 10 {
		m := h.post(fx.room.ID, fx.member.ID, "m")
		if i == 4 {
			_, err := s.DeleteMessage(ctx, fx.room.ID, m.ID)
			is.NoErr(err)
			defer func(deleted int64) { // a deleted message is still a cursor
				page, err := s.Messages(ctx, campfire.MessageQuery{RoomID: fx.room.ID, Around: deleted, Limit: 4})
				is.NoErr(err)
				is.Equal(ids(page.Messages), all[2:6])
			}(m.ID)
			continue
		}
		all = append(all, m.ID)
	}
	other := h.post(h.closedRoom(fx.admin.ID, "Other").ID, fx.admin.ID, "elsewhere")

	page := func(q campfire.MessageQuery) campfire.MessagePage {
		t.Helper()
		q.RoomID = fx.room.ID
		p, err := s.Messages(ctx, q)
		is.NoErr(err)
		return p
	}
	check := func(p campfire.MessagePage, want []int64, before, after bool) {
		t.Helper()
		is.Equal(ids(p.Messages), want)
		is.Equal(p.MoreBefore, before)
		is.Equal(p.MoreAfter, after)
	}
	check(page(campfire.MessageQuery{Limit: 3}), all[6:], true, false)
	check(page(campfire.MessageQuery{Limit: 9}), all, false, false)
	check(page(campfire.MessageQuery{Limit: 100}), all, false, false)
	check(page(campfire.MessageQuery{Before: all[6], Limit: 3}), all[3:6], true, true)
	check(page(campfire.MessageQuery{Before: all[3], Limit: 3}), all[:3], false, true)
	check(page(campfire.MessageQuery{Before: all[0], Limit: 3}), nil, false, true)
	check(page(campfire.MessageQuery{After: all[2], Limit: 3}), all[3:6], true, true)
	check(page(campfire.MessageQuery{After: all[5], Limit: 3}), all[6:], true, false)
	check(page(campfire.MessageQuery{After: all[8], Limit: 3}), nil, true, false)
	check(page(campfire.MessageQuery{Around: all[4], Limit: 5}), all[2:7], true, true)
	check(page(campfire.MessageQuery{Around: all[4], Limit: 1}), all[4:5], true, true)
	check(page(campfire.MessageQuery{Around: all[1], Limit: 5}), all[:5], false, true) // short before: filled after
	check(page(campfire.MessageQuery{Around: all[8], Limit: 5}), all[4:], true, false) // short after: filled before
	check(page(campfire.MessageQuery{Around: all[4], Limit: 20}), all, false, false)

	_, err := s.Messages(ctx, campfire.MessageQuery{RoomID: fx.room.ID, Before: other.ID, Limit: 3})
	is.True(errors.Is(err, campfire.ErrNotFound)) // a cursor from another room
	_, err = s.Messages(ctx, campfire.MessageQuery{RoomID: fx.room.ID, After: 9999, Limit: 3})
	is.True(errors.Is(err, campfire.ErrNotFound))
}

func TestMessagesCarryBoosts(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	s, _ := openStore(t, nil)
	fx := setUp(t, s)
	m := f(t, s).post(fx.room.ID, fx.member.ID, "boost me")
	b, ev, err := s.CreateBoost(ctx, fx.room.ID, m.ID, fx.admin.ID, "🎉")
	is.NoErr(err)
	is.Equal(b.Booster, fx.admin.Ref())
	is.Equal(b.RoomID, fx.room.ID)
	is.Equal(ev.Type, campfire.EventBoostCreated)
	got, err := s.Boost(ctx, fx.room.ID, m.ID, b.ID)
	is.NoErr(err)
	is.Equal(got, b)

	page, err := s.Messages(ctx, campfire.MessageQuery{RoomID: fx.room.ID, Limit: 10})
	is.NoErr(err)
	is.Equal(page.Messages[0].Boosts, []campfire.Boost{b})

	ev, err = s.DeleteBoost(ctx, fx.room.ID, m.ID, b.ID)
	is.NoErr(err)
	is.Equal(string(ev.Data), `{"id":`+itoa(b.ID)+`,"message_id":`+itoa(m.ID)+`}`)
	_, err = s.Boost(ctx, fx.room.ID, m.ID, b.ID)
	is.True(errors.Is(err, campfire.ErrNotFound))
	_, err = s.DeleteBoost(ctx, fx.room.ID, m.ID, b.ID)
	is.True(errors.Is(err, campfire.ErrNotFound))
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestEventsAfterPrune(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s, _ := openStore(t, &sqlite.Options{Now: func() time.Time { return now }})
	fx := setUp(t, s)
	h := f(t, s)
	quietRoom := h.closedRoom(fx.admin.ID, "Quiet")
	h.post(quietRoom.ID, fx.admin.ID, "the only event here")
	for i := range 5 {
		now = now.Add(time.Minute)
		h.post(fx.room.ID, fx.member.ID, "m"+itoa(int64(i)))
	}
	// seq 1..5 stored at minutes 1..5; forget those before minute 4.
	is.NoErr(s.PruneEvents(ctx, now.Add(-90*time.Second)))

	_, err := s.Events(ctx, fx.room.ID, 0, 0)
	is.True(errors.Is(err, campfire.ErrResync))
	_, err = s.Events(ctx, fx.room.ID, 2, 0)
	is.True(errors.Is(err, campfire.ErrResync))
	events, err := s.Events(ctx, fx.room.ID, 3, 0)
	is.NoErr(err)
	is.Equal(len(events), 2)
	events, err = s.Events(ctx, fx.room.ID, 3, 1)
	is.NoErr(err)
	is.Equal(events[0].Seq, int64(4))
	events, err = s.Events(ctx, fx.room.ID, 5, 0)
	is.NoErr(err)
	is.Equal(len(events), 0)

	// Each room keeps its latest event, however old.
	is.NoErr(s.PruneEvents(ctx, now.Add(time.Hour)))
	events, err = s.Events(ctx, quietRoom.ID, 0, 0)
	is.NoErr(err)
	is.Equal(len(events), 1)
	_, err = s.Events(ctx, fx.room.ID, 3, 0)
	is.True(errors.Is(err, campfire.ErrResync))
	events, err = s.Events(ctx, fx.room.ID, 4, 0)
	is.NoErr(err)
	is.Equal(events[0].Seq, int64(5))

	_, err = s.Events(ctx, 9999, 0, 0)
	is.True(errors.Is(err, campfire.ErrNotFound))
}

func TestDeactivationAndReactivation(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	s, _ := openStore(t, nil)
	fx := setUp(t, s)
	h := f(t, s)
	closed := h.closedRoom(fx.admin.ID, "Closed", fx.member.ID)
	direct, created, err := s.DirectRoom(ctx, fx.admin.ID, []int64{fx.admin.ID, fx.member.ID})
	is.NoErr(err)
	is.True(created)
	is.NoErr(s.CreateSession(ctx, campfire.Session{TokenHash: []byte("t"), UserID: fx.member.ID}))
	is.Equal(h.roomIDs(fx.member.ID), []int64{fx.room.ID, closed.ID, direct.ID})

	off, on := campfire.StatusDeactivated, campfire.StatusActive
	u, err := s.UpdateUser(ctx, fx.member.ID, campfire.UserUpdate{Status: &off})
	is.NoErr(err)
	is.Equal(u.Status, off)
	is.Equal(h.roomIDs(fx.member.ID), []int64{direct.ID})
	_, _, err = s.Session(ctx, []byte("t"))
	is.True(errors.Is(err, campfire.ErrNotFound))

	// A new open room takes active users only.
	open, err := s.CreateRoom(ctx, campfire.NewRoom{Kind: campfire.RoomOpen, Name: "New", CreatorID: fx.admin.ID})
	is.NoErr(err)
	_, err = s.Membership(ctx, open.ID, fx.member.ID)
	is.True(errors.Is(err, campfire.ErrNotFound))

	_, err = s.UpdateUser(ctx, fx.member.ID, campfire.UserUpdate{Status: &on})
	is.NoErr(err)
	is.Equal(h.roomIDs(fx.member.ID), []int64{fx.room.ID, direct.ID, open.ID}) // open rooms again, not the closed one
}

func TestUsersAreUnique(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	s, _ := openStore(t, nil)
	fx := setUp(t, s)

	_, err := s.CreateUser(ctx, campfire.NewUser{Name: "Imposter", Email: "BOB@example.com", Role: campfire.RoleMember})
	is.True(errors.Is(err, campfire.ErrConflict))
	email := "ada@EXAMPLE.com"
	_, err = s.UpdateUser(ctx, fx.member.ID, campfire.UserUpdate{Email: &email})
	is.True(errors.Is(err, campfire.ErrConflict))

	// Empty emails and external ids are not values that collide.
	for range 2 {
		_, err = s.CreateUser(ctx, campfire.NewUser{Name: "Bot", Role: campfire.RoleBot})
		is.NoErr(err)
	}
	_, err = s.CreateUser(ctx, campfire.NewUser{Name: "Host", ExternalID: "h-1", Role: campfire.RoleMember})
	is.NoErr(err)
	_, err = s.CreateUser(ctx, campfire.NewUser{Name: "Host again", ExternalID: "h-1", Role: campfire.RoleMember})
	is.True(errors.Is(err, campfire.ErrConflict))

	u, hash, err := s.UserByEmail(ctx, "BOB@EXAMPLE.COM")
	is.NoErr(err)
	is.Equal(u, fx.member)
	is.Equal(hash, "")
	_, _, err = s.UserByEmail(ctx, "")
	is.True(errors.Is(err, campfire.ErrNotFound))

	_, _, _, err = s.Setup(ctx, campfire.Setup{AccountName: "Again", Admin: campfire.NewUser{Name: "Eve"}})
	is.True(errors.Is(err, campfire.ErrConflict))
}

func TestUsersQuery(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	s, _ := openStore(t, nil)
	fx := setUp(t, s)
	h := f(t, s)
	emil := h.user("Émile", "emile@example.com")
	anna := h.user("anna", "anna@example.com")
	closed := h.closedRoom(fx.admin.ID, "Closed", emil.ID)

	names := func(q campfire.UserQuery) []string {
		t.Helper()
		users, err := s.Users(ctx, q)
		is.NoErr(err)
		var names []string
		for _, u := range users {
			names = append(names, u.Name)
		}
		return names
	}
	is.Equal(names(campfire.UserQuery{}), []string{"Ada", "anna", "Bob", "Émile"})
	is.Equal(names(campfire.UserQuery{Query: "ÉMI"}), []string{"Émile"})
	is.Equal(names(campfire.UserQuery{Query: "a", Limit: 2}), []string{"Ada", "anna"})
	is.Equal(names(campfire.UserQuery{RoomID: closed.ID}), []string{"Ada", "Émile"})
	off := campfire.StatusDeactivated
	_, err := s.UpdateUser(ctx, anna.ID, campfire.UserUpdate{Status: &off})
	is.NoErr(err)
	is.Equal(names(campfire.UserQuery{ActiveOnly: true}), []string{"Ada", "Bob", "Émile"})
}

func TestDirectRoom(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	s, _ := openStore(t, nil)
	fx := setUp(t, s)
	pair := []int64{fx.admin.ID, fx.member.ID}

	room, created, err := s.DirectRoom(ctx, fx.member.ID, pair)
	is.NoErr(err)
	is.True(created)
	is.Equal(room.Kind, campfire.RoomDirect)
	is.Equal(room.UserIDs, pair)
	again, created, err := s.DirectRoom(ctx, fx.admin.ID, pair)
	is.NoErr(err)
	is.True(!created)
	is.Equal(again, room)
	m, err := s.Membership(ctx, room.ID, fx.admin.ID)
	is.NoErr(err)
	is.Equal(m.Involvement, campfire.InvolvementEverything)

	self, created, err := s.DirectRoom(ctx, fx.admin.ID, []int64{fx.admin.ID})
	is.NoErr(err)
	is.True(created && self.ID != room.ID)

	_, _, err = s.DirectRoom(ctx, fx.admin.ID, []int64{fx.admin.ID, 9999})
	is.True(errors.Is(err, campfire.ErrNotFound))

	_, err = s.DeleteRoom(ctx, room.ID)
	is.NoErr(err)
	fresh, created, err := s.DirectRoom(ctx, fx.admin.ID, pair)
	is.NoErr(err)
	is.True(created && fresh.ID != room.ID)
}

func TestUpdateAndDeleteRoom(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	s, _ := openStore(t, nil)
	fx := setUp(t, s)
	h := f(t, s)
	carol := h.user("Carol", "carol@example.com")
	room := h.closedRoom(fx.admin.ID, "Plans", fx.member.ID)

	name := "Plans B"
	c, err := s.UpdateRoom(ctx, room.ID, campfire.RoomUpdate{Name: &name, UserIDs: &[]int64{carol.ID}})
	is.NoErr(err)
	is.Equal(c.Added, []int64{carol.ID})
	is.Equal(c.Removed, []int64{fx.member.ID})
	is.Equal(c.Room.Name, name)
	is.Equal(c.Revoked.Type, campfire.EventMembersRemoved) // seq 1, before the change
	is.Equal(c.Room.LastSeq, int64(2))
	is.Equal(c.Event.Type, campfire.EventRoomUpdated)
	want, err := json.Marshal(c.Room)
	is.NoErr(err)
	is.Equal(string(c.Event.Data), string(want))

	open := campfire.RoomOpen
	c, err = s.UpdateRoom(ctx, room.ID, campfire.RoomUpdate{Kind: &open})
	is.NoErr(err)
	is.Equal(c.Added, []int64{fx.member.ID})
	is.Equal(c.Room.Kind, open)

	direct, _, err := s.DirectRoom(ctx, fx.admin.ID, []int64{fx.admin.ID, carol.ID})
	is.NoErr(err)
	_, err = s.UpdateRoom(ctx, direct.ID, campfire.RoomUpdate{Kind: &open})
	is.True(errors.Is(err, campfire.ErrInvalid))

	c, err = s.DeleteRoom(ctx, room.ID)
	is.NoErr(err)
	is.Equal(c.Removed, []int64{fx.admin.ID, fx.member.ID, carol.ID})
	is.Equal(c.Event.Seq, int64(4))
	is.Equal(string(c.Event.Data), `{"id":`+itoa(room.ID)+`}`)
	_, err = s.Room(ctx, room.ID)
	is.True(errors.Is(err, campfire.ErrNotFound))
	_, err = s.DeleteRoom(ctx, room.ID)
	is.True(errors.Is(err, campfire.ErrNotFound))
	events, err := s.Events(ctx, room.ID, 3, 0) // a resuming client learns of the deletion
	is.NoErr(err)
	is.Equal(events[0].Type, campfire.EventRoomDeleted)
	_, err = s.CreateMessage(ctx, campfire.NewMessage{RoomID: room.ID, CreatorID: fx.admin.ID})
	is.True(errors.Is(err, campfire.ErrNotFound))
	_, err = s.Messages(ctx, campfire.MessageQuery{RoomID: room.ID, Limit: 10})
	is.True(errors.Is(err, campfire.ErrNotFound))
}

func TestUnreadMarks(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	s, _ := openStore(t, nil)
	fx := setUp(t, s)
	h := f(t, s)
	carol := h.user("Carol", "carol@example.com")
	_, err := s.SetInvolvement(ctx, fx.room.ID, carol.ID, campfire.InvolvementInvisible)
	is.NoErr(err)

	first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	marked, err := s.MarkUnread(ctx, fx.room.ID, []int64{fx.admin.ID}, first)
	is.NoErr(err)
	is.Equal(marked, []int64{fx.member.ID})
	marked, err = s.MarkUnread(ctx, fx.room.ID, nil, first.Add(time.Hour))
	is.NoErr(err)
	is.Equal(marked, []int64{fx.admin.ID, fx.member.ID})

	m, err := s.Membership(ctx, fx.room.ID, fx.member.ID)
	is.NoErr(err)
	is.Equal(*m.UnreadAt, first) // the first mark since the last read counts
	is.NoErr(s.MarkRead(ctx, fx.room.ID, fx.member.ID))
	m, err = s.Membership(ctx, fx.room.ID, fx.member.ID)
	is.NoErr(err)
	is.True(!m.Unread())
	is.True(errors.Is(s.MarkRead(ctx, 9999, fx.member.ID), campfire.ErrNotFound))
}
