package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opencampfire/campfire"
)

// missingID names nothing: stores hand out small ids, and the suite never
// creates anywhere near 2^40 rows.
const missingID int64 = 1 << 40

// fixture is a store that has been set up, with the helpers most specs use.
// Its helpers fail the test when the store returns an error, so that specs
// read as the story they check.
type fixture struct {
	t     *testing.T
	s     campfire.Store
	ctx   context.Context
	admin campfire.User
	lobby campfire.Room // the open room Setup creates
}

// testSetup is the Setup every fixture starts from.
func testSetup() campfire.Setup {
	return campfire.Setup{
		AccountName: "Acme",
		JoinCode:    "abcd-efgh-jkmn",
		Admin: campfire.NewUser{
			Name:         "Ada Admin",
			Email:        "ada@example.com",
			PasswordHash: "hash-of-ada",
			Role:         campfire.RoleAdmin,
		},
		RoomName: "All Talk",
	}
}

// setUp runs Setup on s and returns the fixture.
func setUp(t *testing.T, s campfire.Store) *fixture {
	t.Helper()
	ctx := t.Context()
	_, admin, lobby, err := s.Setup(ctx, testSetup())
	if err != nil {
		t.Fatalf("Setup on a new store: %v", err)
	}
	return &fixture{t: t, s: s, ctx: ctx, admin: admin, lobby: lobby}
}

// emailOf is the email the fixture gives a user named name.
func emailOf(name string) string {
	return strings.ToLower(strings.NewReplacer(" ", ".", "%", "pct", "_", "-").Replace(name)) + "@example.com"
}

// user creates an active member named name, with an email and a password hash.
func (f *fixture) user(name string) campfire.User {
	f.t.Helper()
	return f.createUser(campfire.NewUser{
		Name:         name,
		Email:        emailOf(name),
		PasswordHash: "hash-of-" + name,
		Role:         campfire.RoleMember,
	})
}

func (f *fixture) createUser(nu campfire.NewUser) campfire.User {
	f.t.Helper()
	u, err := f.s.CreateUser(f.ctx, nu)
	if err != nil {
		f.t.Fatalf("CreateUser(%q): %v", nu.Name, err)
	}
	return u
}

func (f *fixture) deactivate(userID int64) {
	f.t.Helper()
	st := campfire.StatusDeactivated
	if _, err := f.s.UpdateUser(f.ctx, userID, campfire.UserUpdate{Status: &st}); err != nil {
		f.t.Fatalf("UpdateUser(%d, Status deactivated): %v", userID, err)
	}
}

func (f *fixture) openRoom(name string, creatorID int64) campfire.Room {
	f.t.Helper()
	r, err := f.s.CreateRoom(f.ctx, campfire.NewRoom{Kind: campfire.RoomOpen, Name: name, CreatorID: creatorID})
	if err != nil {
		f.t.Fatalf("CreateRoom(open %q): %v", name, err)
	}
	return r
}

func (f *fixture) closedRoom(name string, creatorID int64, userIDs ...int64) campfire.Room {
	f.t.Helper()
	r, err := f.s.CreateRoom(f.ctx, campfire.NewRoom{Kind: campfire.RoomClosed, Name: name, CreatorID: creatorID, UserIDs: userIDs})
	if err != nil {
		f.t.Fatalf("CreateRoom(closed %q): %v", name, err)
	}
	return r
}

// directRoom returns the direct room of the users, created by the first.
func (f *fixture) directRoom(userIDs ...int64) campfire.Room {
	f.t.Helper()
	set := sorted(userIDs)
	r, _, err := f.s.DirectRoom(f.ctx, userIDs[0], set)
	if err != nil {
		f.t.Fatalf("DirectRoom(%v): %v", set, err)
	}
	return r
}

func (f *fixture) room(id int64) campfire.Room {
	f.t.Helper()
	r, err := f.s.Room(f.ctx, id)
	if err != nil {
		f.t.Fatalf("Room(%d): %v", id, err)
	}
	return r
}

func (f *fixture) membership(roomID, userID int64) campfire.Membership {
	f.t.Helper()
	m, err := f.s.Membership(f.ctx, roomID, userID)
	if err != nil {
		f.t.Fatalf("Membership(room %d, user %d): %v", roomID, userID, err)
	}
	return m
}

// isMember reports whether userID is a member of roomID, failing on errors
// other than ErrNotFound.
func (f *fixture) isMember(roomID, userID int64) bool {
	f.t.Helper()
	_, err := f.s.Membership(f.ctx, roomID, userID)
	switch {
	case err == nil:
		return true
	case errors.Is(err, campfire.ErrNotFound):
		return false
	}
	f.t.Fatalf("Membership(room %d, user %d): %v", roomID, userID, err)
	return false
}

func (f *fixture) memberIDs(roomID int64) []int64 {
	f.t.Helper()
	ms, err := f.s.Members(f.ctx, roomID)
	if err != nil {
		f.t.Fatalf("Members(%d): %v", roomID, err)
	}
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

// roomIDsOf returns the ids of the rooms RoomsForUser lists, in its order.
func (f *fixture) roomIDsOf(userID int64) []int64 {
	f.t.Helper()
	rs, err := f.s.RoomsForUser(f.ctx, userID)
	if err != nil {
		f.t.Fatalf("RoomsForUser(%d): %v", userID, err)
	}
	ids := make([]int64, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return ids
}

// body is a rendered body whose three forms all carry text.
func body(text string) campfire.Body {
	return campfire.Body{Markdown: text, HTML: "<p>" + text + "</p>", PlainText: text}
}

// post creates a message with text and no client message id.
func (f *fixture) post(roomID, creatorID int64, text string) (campfire.Message, campfire.Event) {
	f.t.Helper()
	return f.postNew(campfire.NewMessage{RoomID: roomID, CreatorID: creatorID, Body: body(text)})
}

func (f *fixture) postNew(nm campfire.NewMessage) (campfire.Message, campfire.Event) {
	f.t.Helper()
	posted, err := f.s.CreateMessage(f.ctx, nm)
	m, ev, created := posted.Message, posted.Event, posted.Created
	if err != nil {
		f.t.Fatalf("CreateMessage(room %d, %q): %v", nm.RoomID, nm.Body.PlainText, err)
	}
	if !created {
		f.t.Fatalf("CreateMessage(room %d, %q) reported created false for a new message", nm.RoomID, nm.Body.PlainText)
	}
	return m, ev
}

// postN posts n messages "message 1" to "message n", oldest first.
func (f *fixture) postN(roomID, creatorID int64, n int) []campfire.Message {
	f.t.Helper()
	ms := make([]campfire.Message, n)
	for i := range ms {
		ms[i], _ = f.post(roomID, creatorID, fmt.Sprintf("message %d", i+1))
	}
	return ms
}

func (f *fixture) message(roomID, id int64) campfire.Message {
	f.t.Helper()
	m, err := f.s.Message(f.ctx, roomID, id)
	if err != nil {
		f.t.Fatalf("Message(room %d, %d): %v", roomID, id, err)
	}
	return m
}

func (f *fixture) deleteMessage(roomID, id int64) campfire.Event {
	f.t.Helper()
	ev, err := f.s.DeleteMessage(f.ctx, roomID, id)
	if err != nil {
		f.t.Fatalf("DeleteMessage(room %d, %d): %v", roomID, id, err)
	}
	return ev
}

func (f *fixture) boost(roomID, messageID, boosterID int64, content string) (campfire.Boost, campfire.Event) {
	f.t.Helper()
	b, ev, err := f.s.CreateBoost(f.ctx, roomID, messageID, boosterID, content)
	if err != nil {
		f.t.Fatalf("CreateBoost(room %d, message %d, %q): %v", roomID, messageID, content, err)
	}
	return b, ev
}

func (f *fixture) deleteRoom(id int64) campfire.RoomChange {
	f.t.Helper()
	ch, err := f.s.DeleteRoom(f.ctx, id)
	if err != nil {
		f.t.Fatalf("DeleteRoom(%d): %v", id, err)
	}
	return ch
}

func (f *fixture) events(roomID, since int64) []campfire.Event {
	f.t.Helper()
	evs, err := f.s.Events(f.ctx, roomID, since, 0)
	if err != nil {
		f.t.Fatalf("Events(room %d, since %d): %v", roomID, since, err)
	}
	return evs
}

func (f *fixture) search(userID int64, query string, limit int) []int64 {
	f.t.Helper()
	ms, err := f.s.Search(f.ctx, userID, query, limit)
	if err != nil {
		f.t.Fatalf("Search(user %d, %q, %d): %v", userID, query, limit, err)
	}
	return messageIDs(ms)
}

// checkEvent checks an event's envelope.
func checkEvent(t *testing.T, call string, ev campfire.Event, typ campfire.EventType, roomID, seq int64) {
	t.Helper()
	if ev.Type != typ || ev.RoomID != roomID || ev.Seq != seq {
		t.Fatalf("%s: event is {%s room %d seq %d}, want {%s room %d seq %d}",
			call, ev.Type, ev.RoomID, ev.Seq, typ, roomID, seq)
	}
	if !json.Valid(ev.Data) {
		t.Fatalf("%s: event Data is not JSON: %q", call, ev.Data)
	}
}

// checkLogged checks that ev is in its room's log exactly as returned: a
// replay must send the bytes that were sent live.
func (f *fixture) checkLogged(call string, ev campfire.Event) {
	f.t.Helper()
	evs, err := f.s.Events(f.ctx, ev.RoomID, ev.Seq-1, 1)
	if err != nil {
		f.t.Fatalf("%s: Events(room %d, since %d, 1): %v", call, ev.RoomID, ev.Seq-1, err)
	}
	if len(evs) != 1 {
		f.t.Fatalf("%s: the room's log has %d events after seq %d, want the returned event", call, len(evs), ev.Seq-1)
	}
	got := evs[0]
	if got.Type != ev.Type || got.RoomID != ev.RoomID || got.Seq != ev.Seq || !bytes.Equal(got.Data, ev.Data) {
		f.t.Fatalf("%s: the stored event differs from the returned one:\nstored   {%s room %d seq %d} %s\nreturned {%s room %d seq %d} %s",
			call, got.Type, got.RoomID, got.Seq, got.Data, ev.Type, ev.RoomID, ev.Seq, ev.Data)
	}
}

// checkDataEncodes checks that the event's Data is v encoded, as NewEvent
// does: what clients receive live is the resource the call returned.
func checkDataEncodes(t *testing.T, call string, ev campfire.Event, v any) {
	t.Helper()
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("%s: encoding the returned %T: %v", call, v, err)
	}
	if !sameJSON(ev.Data, want) {
		t.Fatalf("%s: event Data is not the returned %T encoded:\ndata %s\nwant %s", call, v, ev.Data, want)
	}
}

// decodeData decodes an event's Data into a T.
func decodeData[T any](t *testing.T, call string, ev campfire.Event) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(ev.Data, &v); err != nil {
		t.Fatalf("%s: decoding event Data %s: %v", call, ev.Data, err)
	}
	return v
}

// sameJSON reports whether a and b encode the same value.
func sameJSON(a, b []byte) bool {
	decode := func(b []byte) (any, error) {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var v any
		err := d.Decode(&v)
		return v, err
	}
	va, errA := decode(a)
	vb, errB := decode(b)
	return errA == nil && errB == nil && reflect.DeepEqual(va, vb)
}

// messageData is the part of a Message's wire shape the suite reads.
type messageData struct {
	ID       int64         `json:"id"`
	RoomID   int64         `json:"room_id"`
	Seq      int64         `json:"seq"`
	Body     campfire.Body `json:"body"`
	Mentions []int64       `json:"mentions"`
	Boosts   []struct {
		ID int64 `json:"id"`
	} `json:"boosts"`
}

// roomData is the part of a Room's wire shape the suite reads.
type roomData struct {
	ID      int64             `json:"id"`
	Kind    campfire.RoomKind `json:"kind"`
	Name    string            `json:"name"`
	LastSeq int64             `json:"last_seq"`
}

// wantErr fails unless err matches target.
func wantErr(t *testing.T, call string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want one matching %v", call, err, target)
	}
}

// must fails if err is not nil.
func must(t *testing.T, call string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", call, err)
	}
}

// checkSet fails unless got and want hold the same ids, in any order.
func checkSet(t *testing.T, what string, got, want []int64) {
	t.Helper()
	if !slices.Equal(sorted(got), sorted(want)) {
		t.Fatalf("%s: got %v, want %v (in any order)", what, sorted(got), sorted(want))
	}
}

// checkIDs fails unless got and want hold the same ids in the same order.
func checkIDs(t *testing.T, what string, got, want []int64) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

func sorted(ids []int64) []int64 {
	s := slices.Clone(ids)
	slices.Sort(s)
	return slices.Compact(s)
}

func messageIDs(ms []campfire.Message) []int64 {
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

func userIDs(us []campfire.User) []int64 {
	ids := make([]int64, len(us))
	for i, u := range us {
		ids[i] = u.ID
	}
	return ids
}

func boostIDs(bs []campfire.Boost) []int64 {
	ids := make([]int64, len(bs))
	for i, b := range bs {
		ids[i] = b.ID
	}
	return ids
}

// checkTimeSet fails if a time the store assigns was left zero.
func checkTimeSet(t *testing.T, what string, tm time.Time) {
	t.Helper()
	if tm.IsZero() {
		t.Fatalf("%s is the zero time, want the time the store assigned", what)
	}
}

// checkSameTime fails unless two readings of one stored time agree within
// a second (stores may keep less precision than time.Time has).
func checkSameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if d := got.Sub(want).Abs(); d >= time.Second {
		t.Fatalf("%s is %v, want %v (the same stored time)", what, got, want)
	}
}

// checkNotBefore fails if later is before earlier by more than the
// precision a store may drop.
func checkNotBefore(t *testing.T, what string, later, earlier time.Time) {
	t.Helper()
	if later.Before(earlier.Add(-time.Second)) {
		t.Fatalf("%s is %v, want it not before %v", what, later, earlier)
	}
}

// checkExactTime fails unless a time the caller passed in came back as it
// was (the suite passes whole seconds).
func checkExactTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Fatalf("%s is %v, want %v as it was passed in", what, got, want)
	}
}

// at is a whole-second UTC time for values the suite passes in.
func at(hour, min int) time.Time {
	return time.Date(2025, time.March, 14, hour, min, 0, 0, time.UTC)
}

func ptr[T any](v T) *T { return &v }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
