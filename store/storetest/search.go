package storetest

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/opencampfire/campfire"
)

func searchSpecs() []group {
	return []group{
		{"Search", []spec{
			{"FindsWordsCaseInsensitively", testSearchFindsWords},
			{"OnlyInTheUsersRooms", testSearchOnlyInTheUsersRooms},
			{"NewestFirst", testSearchNewestFirst},
			{"LimitCapsTheResult", testSearchLimit},
			{"LeavesOutDeletedMessages", testSearchLeavesOutDeletedMessages},
			{"LeavesOutDeletedRooms", testSearchLeavesOutDeletedRooms},
			{"FindsTheEditedTextOnly", testSearchFindsEditedText},
			{"HostileQueriesAreNoErrors", testSearchHostileQueries},
			{"QueryWithoutWordsFindsNothing", testSearchQueryWithoutWords},
		}},
	}
}

func testSearchFindsWords(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea := f.user("Bea")
	m, _ := f.post(f.lobby.ID, bea.ID, "Deploying the Release tonight")
	f.post(f.lobby.ID, bea.ID, "lunch anyone?")
	for _, q := range []string{"release", "RELEASE", "Release", "tonight", "Deploying"} {
		checkIDs(t, "Search("+q+")", f.search(f.admin.ID, q, 10), []int64{m.ID})
	}
	checkIDs(t, "Search(a word no message has)", f.search(f.admin.ID, "xylophone", 10), nil)

	ms, err := s.Search(f.ctx, f.admin.ID, "release", 10)
	must(t, "Search", err)
	if got := ms[0]; got.RoomID != f.lobby.ID || got.Body != m.Body || got.Creator != bea.Ref() || got.Seq != m.Seq {
		t.Fatalf("Search returned %+v, want the whole message %+v", got, m)
	}
}

func testSearchOnlyInTheUsersRooms(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea, cy := f.user("Bea"), f.user("Cy")
	closed := f.closedRoom("Secret", cy.ID, f.admin.ID)
	direct := f.directRoom(bea.ID, cy.ID)
	inLobby, _ := f.post(f.lobby.ID, cy.ID, "pineapple pizza")
	inClosed, _ := f.post(closed.ID, cy.ID, "pineapple plans")
	inDirect, _ := f.post(direct.ID, cy.ID, "pineapple secret")

	checkIDs(t, "Search by a user not in the closed room", f.search(bea.ID, "pineapple", 10), []int64{inDirect.ID, inLobby.ID})
	checkIDs(t, "Search by a member of every room", f.search(cy.ID, "pineapple", 10), []int64{inDirect.ID, inClosed.ID, inLobby.ID})
	checkIDs(t, "Search by a user not in the direct room", f.search(f.admin.ID, "pineapple", 10), []int64{inClosed.ID, inLobby.ID})

	_, err := s.UpdateRoom(f.ctx, closed.ID, campfire.RoomUpdate{UserIDs: &[]int64{}})
	must(t, "UpdateRoom(UserIDs: none)", err)
	checkIDs(t, "Search by a user removed from the closed room", f.search(f.admin.ID, "pineapple", 10), []int64{inLobby.ID})
}

func testSearchNewestFirst(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	other := f.openRoom("Watercooler", f.admin.ID)
	var want []int64
	for i, room := range []int64{f.lobby.ID, other.ID, f.lobby.ID, other.ID, f.lobby.ID} {
		m, _ := f.post(room, f.admin.ID, "standup notes")
		want = append(want, m.ID)
		if i%2 == 0 {
			f.post(room, f.admin.ID, "unrelated chatter")
		}
	}
	slices.Reverse(want)
	checkIDs(t, "Search (newest first)", f.search(f.admin.ID, "standup", 10), want)
}

func testSearchLimit(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	var ids []int64
	for range 5 {
		m, _ := f.post(f.lobby.ID, f.admin.ID, "retro agenda")
		ids = append(ids, m.ID)
	}
	checkIDs(t, "Search(limit 2)", f.search(f.admin.ID, "agenda", 2), []int64{ids[4], ids[3]})
}

func testSearchLeavesOutDeletedMessages(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	keep, _ := f.post(f.lobby.ID, f.admin.ID, "quarterly numbers")
	gone, _ := f.post(f.lobby.ID, f.admin.ID, "quarterly typo")
	f.deleteMessage(f.lobby.ID, gone.ID)
	checkIDs(t, "Search after DeleteMessage", f.search(f.admin.ID, "quarterly", 10), []int64{keep.ID})
	checkIDs(t, "Search for a word only the deleted message had", f.search(f.admin.ID, "typo", 10), nil)
}

func testSearchLeavesOutDeletedRooms(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	doomed := f.openRoom("Doomed", f.admin.ID)
	keep, _ := f.post(f.lobby.ID, f.admin.ID, "offsite venue")
	f.post(doomed.ID, f.admin.ID, "offsite budget")
	f.deleteRoom(doomed.ID)
	checkIDs(t, "Search after DeleteRoom", f.search(f.admin.ID, "offsite", 10), []int64{keep.ID})
}

func testSearchFindsEditedText(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	m, _ := f.post(f.lobby.ID, f.admin.ID, "meeting on tuesday")
	_, _, err := s.UpdateMessage(f.ctx, f.lobby.ID, m.ID, body("meeting on wednesday"), nil, "")
	must(t, "UpdateMessage", err)
	checkIDs(t, "Search for a word the edit added", f.search(f.admin.ID, "wednesday", 10), []int64{m.ID})
	checkIDs(t, "Search for a word the edit removed", f.search(f.admin.ID, "tuesday", 10), nil)
}

// hostileQueries are what people (and attackers) type into a search box:
// full-text and SQL syntax that a store must treat as plain text.
func hostileQueries() []string {
	return []string{
		`"`, `""`, `"unterminated`, `*`, `release*`, `AND OR NOT`, `NOT`, `OR`, `release AND`,
		`(`, `)`, `(release`, `NEAR(`, `NEAR(release tonight)`, `-`, `-release`, `+`, `:`,
		`body:release`, `^release`, `{release}`, `[`, `'`, `'; DROP TABLE messages; --`,
		`%`, `_`, `\`, `release"tonight`, `~`, `@`, `#`, `$`, `&&`, `||`, `!`,
		``, ` `, "\t\n", "\x00", `release  tonight`,
	}
}

// hasWord reports whether q has a letter or digit, so that the query has a
// word to look for.
func hasWord(q string) bool {
	return strings.ContainsFunc(q, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) })
}

func testSearchHostileQueries(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	m, _ := f.post(f.lobby.ID, f.admin.ID, "Deploying the release tonight: (really) \"soon\" - 100% * sure")
	for _, q := range hostileQueries() {
		_, err := s.Search(f.ctx, f.admin.ID, q, 10)
		must(t, "Search("+strconv.Quote(q)+"): a query is text, never syntax", err)
	}
	checkIDs(t, "Search(release) after the hostile queries (the store still works)", f.search(f.admin.ID, "release", 10), []int64{m.ID})
}

func testSearchQueryWithoutWords(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	f.post(f.lobby.ID, f.admin.ID, "punctuation galore: \" * ( ) - : % _ ' ! ~")
	for _, q := range hostileQueries() {
		if hasWord(q) {
			continue
		}
		ms, err := s.Search(f.ctx, f.admin.ID, q, 10)
		must(t, "Search("+strconv.Quote(q)+")", err)
		if len(ms) != 0 {
			t.Fatalf("Search(%s) returned %d messages, want none: a query with no words finds nothing", strconv.Quote(q), len(ms))
		}
	}
}
