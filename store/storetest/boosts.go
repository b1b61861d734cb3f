package storetest

import (
	"testing"

	"github.com/opencampfire/campfire"
)

func boostSpecs() []group {
	return []group{
		{"CreateBoost", []spec{
			{"ReturnsTheBoostAndAppendsBoostCreated", testCreateBoostReturnsBoostAndEvent},
			{"NotFoundForMessageOfAnotherRoom", testCreateBoostNotFoundInAnotherRoom},
			{"NotFoundForMissingOrDeletedMessage", testCreateBoostNotFoundForMissingMessage},
		}},
		{"Boost", []spec{
			{"ReturnsTheBoost", testBoostReturnsTheBoost},
			{"NotFoundUnderAnotherMessageOrRoom", testBoostNotFound},
		}},
		{"DeleteBoost", []spec{
			{"AppendsBoostDeletedAndRemovesTheBoost", testDeleteBoostAppendsAndRemoves},
			{"NotFound", testDeleteBoostNotFound},
		}},
	}
}

func testCreateBoostReturnsBoostAndEvent(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea := f.user("Bea")
	m, _ := f.post(f.lobby.ID, f.admin.ID, "ship it")

	b, ev, err := s.CreateBoost(f.ctx, f.lobby.ID, m.ID, bea.ID, "🚀 nice")
	call := "CreateBoost"
	must(t, call, err)
	if b.ID == 0 || b.MessageID != m.ID || b.RoomID != f.lobby.ID || b.Content != "🚀 nice" || b.Booster != bea.Ref() {
		t.Fatalf("%s returned %+v, want a new boost of message %d in room %d with content %q by %+v",
			call, b, m.ID, f.lobby.ID, "🚀 nice", bea.Ref())
	}
	checkTimeSet(t, "a new boost's CreatedAt", b.CreatedAt)

	checkEvent(t, call, ev, campfire.EventBoostCreated, f.lobby.ID, 2)
	data := decodeData[struct {
		ID        int64  `json:"id"`
		MessageID int64  `json:"message_id"`
		Content   string `json:"content"`
	}](t, call, ev)
	if data.ID != b.ID || data.MessageID != m.ID || data.Content != b.Content {
		t.Fatalf("%s: event Data is %s, want boost %d of message %d", call, ev.Data, b.ID, m.ID)
	}
	checkDataEncodes(t, call, ev, b)
	f.checkLogged(call, ev)
	if r := f.room(f.lobby.ID); r.LastSeq != 2 {
		t.Fatalf("the room's LastSeq after %s is %d, want 2", call, r.LastSeq)
	}
	checkSet(t, "the message's boosts after "+call, boostIDs(f.message(f.lobby.ID, m.ID).Boosts), []int64{b.ID})
}

func testCreateBoostNotFoundInAnotherRoom(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	other := f.openRoom("Watercooler", f.admin.ID)
	m, _ := f.post(f.lobby.ID, f.admin.ID, "here")
	_, _, err := s.CreateBoost(f.ctx, other.ID, m.ID, f.admin.ID, "👍")
	wantErr(t, "CreateBoost naming a message of another room", err, campfire.ErrNotFound)
	if r := f.room(other.ID); r.LastSeq != 0 {
		t.Fatalf("a refused CreateBoost appended an event to the room it named (LastSeq %d)", r.LastSeq)
	}
	if got := f.message(f.lobby.ID, m.ID); len(got.Boosts) != 0 {
		t.Fatalf("a refused CreateBoost boosted the message: %+v", got.Boosts)
	}
}

func testCreateBoostNotFoundForMissingMessage(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	_, _, err := s.CreateBoost(f.ctx, f.lobby.ID, missingID, f.admin.ID, "👍")
	wantErr(t, "CreateBoost of a missing message", err, campfire.ErrNotFound)
	gone, _ := f.post(f.lobby.ID, f.admin.ID, "gone")
	f.deleteMessage(f.lobby.ID, gone.ID)
	_, _, err = s.CreateBoost(f.ctx, f.lobby.ID, gone.ID, f.admin.ID, "👍")
	wantErr(t, "CreateBoost of a deleted message", err, campfire.ErrNotFound)
}

func testBoostReturnsTheBoost(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea := f.user("Bea")
	m, _ := f.post(f.lobby.ID, f.admin.ID, "ship it")
	f.boost(f.lobby.ID, m.ID, f.admin.ID, "first")
	want, _ := f.boost(f.lobby.ID, m.ID, bea.ID, "second")
	got, err := s.Boost(f.ctx, f.lobby.ID, m.ID, want.ID)
	must(t, "Boost", err)
	if got.ID != want.ID || got.MessageID != m.ID || got.RoomID != f.lobby.ID || got.Content != "second" || got.Booster != bea.Ref() {
		t.Fatalf("Boost = %+v, want %+v", got, want)
	}
	checkSameTime(t, "Boost's CreatedAt", got.CreatedAt, want.CreatedAt)
}

func testBoostNotFound(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	other := f.openRoom("Watercooler", f.admin.ID)
	m, _ := f.post(f.lobby.ID, f.admin.ID, "boosted")
	sibling, _ := f.post(f.lobby.ID, f.admin.ID, "not boosted")
	b, _ := f.boost(f.lobby.ID, m.ID, f.admin.ID, "👍")
	for _, c := range []struct {
		what                 string
		room, message, boost int64
	}{
		{"under another message", f.lobby.ID, sibling.ID, b.ID},
		{"in another room", other.ID, m.ID, b.ID},
		{"that is missing", f.lobby.ID, m.ID, missingID},
	} {
		_, err := s.Boost(f.ctx, c.room, c.message, c.boost)
		wantErr(t, "Boost "+c.what, err, campfire.ErrNotFound)
	}
}

func testDeleteBoostAppendsAndRemoves(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	m, _ := f.post(f.lobby.ID, f.admin.ID, "ship it")
	b, _ := f.boost(f.lobby.ID, m.ID, f.admin.ID, "🚀")
	kept, _ := f.boost(f.lobby.ID, m.ID, f.admin.ID, "🎉")

	ev, err := s.DeleteBoost(f.ctx, f.lobby.ID, m.ID, b.ID)
	call := "DeleteBoost"
	must(t, call, err)
	checkEvent(t, call, ev, campfire.EventBoostDeleted, f.lobby.ID, 4)
	checkDataEncodes(t, call, ev, campfire.IDData{ID: b.ID, MessageID: m.ID})
	f.checkLogged(call, ev)

	_, err = s.Boost(f.ctx, f.lobby.ID, m.ID, b.ID)
	wantErr(t, "Boost after DeleteBoost", err, campfire.ErrNotFound)
	checkSet(t, "the message's boosts after "+call, boostIDs(f.message(f.lobby.ID, m.ID).Boosts), []int64{kept.ID})
	if r := f.room(f.lobby.ID); r.LastSeq != 4 {
		t.Fatalf("the room's LastSeq after %s is %d, want 4", call, r.LastSeq)
	}
}

func testDeleteBoostNotFound(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	other := f.openRoom("Watercooler", f.admin.ID)
	m, _ := f.post(f.lobby.ID, f.admin.ID, "boosted")
	sibling, _ := f.post(f.lobby.ID, f.admin.ID, "not boosted")
	b, _ := f.boost(f.lobby.ID, m.ID, f.admin.ID, "👍")
	gone, _ := f.boost(f.lobby.ID, m.ID, f.admin.ID, "👎")
	_, err := s.DeleteBoost(f.ctx, f.lobby.ID, m.ID, gone.ID)
	must(t, "DeleteBoost", err)
	for _, c := range []struct {
		what                 string
		room, message, boost int64
	}{
		{"under another message", f.lobby.ID, sibling.ID, b.ID},
		{"in another room", other.ID, m.ID, b.ID},
		{"that is missing", f.lobby.ID, m.ID, missingID},
		{"already deleted", f.lobby.ID, m.ID, gone.ID},
	} {
		_, err := s.DeleteBoost(f.ctx, c.room, c.message, c.boost)
		wantErr(t, "DeleteBoost of a boost "+c.what, err, campfire.ErrNotFound)
	}
	if _, err := s.Boost(f.ctx, f.lobby.ID, m.ID, b.ID); err != nil {
		t.Fatalf("a refused DeleteBoost deleted the boost: Boost = %v", err)
	}
}
