package storetest

import (
	"cmp"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/opencampfire/campfire"
)

func roomSpecs() []group {
	return []group{
		{"CreateRoom", []spec{
			{"OpenRoomTakesEveryActiveUser", testCreateRoomOpenTakesEveryActiveUser},
			{"ClosedRoomTakesCreatorAndListedUsers", testCreateRoomClosedTakesCreatorAndListed},
			{"ClosedRoomSkipsMissingAndDeactivatedUsers", testCreateRoomClosedSkipsMissingAndDeactivated},
			{"NotFoundForMissingCreator", testCreateRoomNotFoundForMissingCreator},
		}},
		{"DirectRoom", []spec{
			{"CreatesTheRoomOfTheSet", testDirectRoomCreatesTheRoomOfTheSet},
			{"ReturnsTheSameRoomForTheSameSet", testDirectRoomSameSetSameRoom},
			{"DifferentSetsGetDifferentRooms", testDirectRoomDifferentSets},
			{"NotFoundForMissingUser", testDirectRoomNotFoundForMissingUser},
			{"ConcurrentCallsShareOneRoom", testDirectRoomConcurrent},
			{"DeletedRoomIsNotReturned", testDirectRoomDeletedIsNotReturned},
		}},
		{"Room", []spec{
			{"ReturnsTheRoom", testRoomReturnsTheRoom},
			{"NotFound", testRoomNotFound},
			{"NotFoundWhenDeleted", testRoomNotFoundWhenDeleted},
		}},
		{"Membership", []spec{
			{"ReturnsTheMembership", testMembershipReturnsTheMembership},
			{"NotFoundForNonMember", testMembershipNotFoundForNonMember},
			{"NotFoundForMissingRoom", testMembershipNotFoundForMissingRoom},
		}},
		{"RoomForUser", []spec{
			{"ReturnsTheRoomAndMembershipLikeRoomAndMembership", testRoomForUser},
			{"NotFoundForNonMemberMissingOrDeletedRoom", testRoomForUserNotFound},
		}},
		{"RoomsForUser", []spec{
			{"ListsTheUsersRoomsByIDWithMemberships", testRoomsForUser},
		}},
		{"Members", []spec{
			{"ListsMembersByIDWithInvolvement", testMembersByIDWithInvolvement},
			{"NotFoundForMissingRoom", testMembersNotFoundForMissingRoom},
		}},
		{"UpdateRoom", []spec{
			{"RenamesAndAppendsRoomUpdated", testUpdateRoomRenames},
			{"ChangesOnlyTheGivenFields", testUpdateRoomChangesOnlyTheGivenFields},
			{"ConvertingToOpenAddsEveryActiveUser", testUpdateRoomToOpen},
			{"ConvertingToClosedKeepsTheMembers", testUpdateRoomToClosed},
			{"UserIDsSetTheMembersOfAClosedRoom", testUpdateRoomUserIDs},
			{"NotFound", testUpdateRoomNotFound},
		}},
		{"DeleteRoom", []spec{
			{"AppendsRoomDeletedAndListsFormerMembers", testDeleteRoomAppendsRoomDeleted},
			{"RoomIsGoneAfterwards", testDeleteRoomRoomIsGone},
			{"NotFound", testDeleteRoomNotFound},
		}},
		{"SetInvolvement", []spec{
			{"ChangesTheMembersInvolvement", testSetInvolvementChanges},
			{"NotFoundForNonMember", testSetInvolvementNotFound},
		}},
		{"MarkUnread", []spec{
			{"MarksVisibleMembersExceptTheExcluded", testMarkUnreadMarksVisibleMembers},
			{"KeepsTheFirstUnreadTimeAndReturnsMembersAlreadyUnread", testMarkUnreadKeepsFirstTime},
		}},
		{"MarkRead", []spec{
			{"ClearsTheUnreadMark", testMarkReadClears},
			{"NotFoundForNonMember", testMarkReadNotFoundForNonMember},
		}},
	}
}

// checkMembers fails unless the room's members are exactly ids (Members
// lists them by id) and each has involvement inv.
func (f *fixture) checkMembers(what string, roomID int64, ids []int64, inv campfire.Involvement) {
	f.t.Helper()
	ms, err := f.s.Members(f.ctx, roomID)
	if err != nil {
		f.t.Fatalf("Members(%d): %v", roomID, err)
	}
	got := make([]int64, len(ms))
	for i, m := range ms {
		got[i] = m.ID
	}
	checkIDs(f.t, what+": Members by id", got, sorted(ids))
	for _, m := range ms {
		if m.Involvement != inv {
			f.t.Fatalf("%s: member %d has involvement %q, want %q", what, m.ID, m.Involvement, inv)
		}
	}
}

func testCreateRoomOpenTakesEveryActiveUser(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea, cy, dee := f.user("Bea"), f.user("Cy"), f.user("Dee")
	f.deactivate(dee.ID)

	r, err := s.CreateRoom(f.ctx, campfire.NewRoom{Kind: campfire.RoomOpen, Name: "Watercooler", CreatorID: bea.ID, UserIDs: []int64{cy.ID}})
	must(t, "CreateRoom(open)", err)
	if r.ID == 0 || r.ID == f.lobby.ID || r.Kind != campfire.RoomOpen || r.Name != "Watercooler" || r.CreatorID != bea.ID {
		t.Fatalf("CreateRoom(open) returned %+v, want a new open room \"Watercooler\" created by %d", r, bea.ID)
	}
	if r.LastSeq != 0 || len(r.UserIDs) != 0 {
		t.Fatalf("CreateRoom(open) returned LastSeq %d, UserIDs %v; want 0 and none", r.LastSeq, r.UserIDs)
	}
	checkTimeSet(t, "a new room's CreatedAt", r.CreatedAt)
	// UserIDs are ignored for open rooms: every active user is a member.
	f.checkMembers("open room", r.ID, []int64{f.admin.ID, bea.ID, cy.ID}, campfire.DefaultInvolvement(campfire.RoomOpen))
}

func testCreateRoomClosedTakesCreatorAndListed(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea, cy, _ := f.user("Bea"), f.user("Cy"), f.user("Dee")
	r := f.closedRoom("Secret", bea.ID, cy.ID, bea.ID) // the creator listed too: still one membership
	if r.Kind != campfire.RoomClosed || r.Name != "Secret" || r.CreatorID != bea.ID || len(r.UserIDs) != 0 {
		t.Fatalf("CreateRoom(closed) returned %+v, want closed room \"Secret\" by %d with no UserIDs (they are for direct rooms)", r, bea.ID)
	}
	f.checkMembers("closed room", r.ID, []int64{bea.ID, cy.ID}, campfire.DefaultInvolvement(campfire.RoomClosed))
}

func testCreateRoomClosedSkipsMissingAndDeactivated(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea, cy := f.user("Bea"), f.user("Cy")
	f.deactivate(cy.ID)
	r := f.closedRoom("Secret", f.admin.ID, bea.ID, cy.ID, missingID)
	f.checkMembers("closed room listing a deactivated and a missing user", r.ID, []int64{f.admin.ID, bea.ID}, campfire.InvolvementMentions)
}

func testCreateRoomNotFoundForMissingCreator(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	for _, k := range []campfire.RoomKind{campfire.RoomOpen, campfire.RoomClosed} {
		_, err := s.CreateRoom(f.ctx, campfire.NewRoom{Kind: k, Name: "Orphan", CreatorID: missingID})
		wantErr(t, "CreateRoom("+string(k)+") with a missing creator", err, campfire.ErrNotFound)
	}
}

func testDirectRoomCreatesTheRoomOfTheSet(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea, cy := f.user("Bea"), f.user("Cy")
	set := sorted([]int64{f.admin.ID, bea.ID, cy.ID})
	r, created, err := s.DirectRoom(f.ctx, bea.ID, set)
	must(t, "DirectRoom", err)
	if !created {
		t.Fatal("DirectRoom for a new set reported created false")
	}
	if r.ID == 0 || r.Kind != campfire.RoomDirect || r.CreatorID != bea.ID || r.LastSeq != 0 {
		t.Fatalf("DirectRoom returned %+v, want a new direct room created by %d", r, bea.ID)
	}
	checkIDs(t, "the direct room's UserIDs", r.UserIDs, set)
	checkIDs(t, "Room(direct).UserIDs", f.room(r.ID).UserIDs, set)
	f.checkMembers("direct room", r.ID, set, campfire.DefaultInvolvement(campfire.RoomDirect))

	self, created, err := s.DirectRoom(f.ctx, cy.ID, []int64{cy.ID})
	must(t, "DirectRoom of one user (notes to self)", err)
	if !created || self.ID == r.ID {
		t.Fatalf("DirectRoom of one user returned room %d (created %v), want a new room", self.ID, created)
	}
	checkIDs(t, "UserIDs of a one-user direct room", self.UserIDs, []int64{cy.ID})
}

func testDirectRoomSameSetSameRoom(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea := f.user("Bea")
	set := sorted([]int64{f.admin.ID, bea.ID})
	first, _, err := s.DirectRoom(f.ctx, f.admin.ID, set)
	must(t, "DirectRoom", err)
	again, created, err := s.DirectRoom(f.ctx, f.admin.ID, set)
	must(t, "DirectRoom again", err)
	if created || again.ID != first.ID {
		t.Fatalf("DirectRoom again for the same set returned room %d (created %v), want room %d (created false)", again.ID, created, first.ID)
	}
	fromOther, created, err := s.DirectRoom(f.ctx, bea.ID, set)
	must(t, "DirectRoom by the other member", err)
	if created || fromOther.ID != first.ID || fromOther.CreatorID != f.admin.ID {
		t.Fatalf("DirectRoom by the other member returned room %d (created %v, creator %d), want room %d as created by %d",
			fromOther.ID, created, fromOther.CreatorID, first.ID, f.admin.ID)
	}
	checkIDs(t, "UserIDs of the returned direct room", fromOther.UserIDs, set)
}

func testDirectRoomDifferentSets(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	a, b, c := f.admin.ID, f.user("Bea").ID, f.user("Cy").ID
	seen := map[int64][]int64{}
	for _, set := range [][]int64{{a, b}, {a, c}, {b, c}, {a, b, c}, {a}, {b}} {
		set = sorted(set)
		r, created, err := s.DirectRoom(f.ctx, set[0], set)
		must(t, "DirectRoom", err)
		if !created {
			t.Fatalf("DirectRoom(%v) reported created false, but no room has exactly these members", set)
		}
		if prev, ok := seen[r.ID]; ok {
			t.Fatalf("DirectRoom(%v) returned room %d, already the room of %v", set, r.ID, prev)
		}
		seen[r.ID] = set
		checkIDs(t, "UserIDs of the direct room", r.UserIDs, set)
	}
}

func testDirectRoomNotFoundForMissingUser(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	_, _, err := s.DirectRoom(f.ctx, f.admin.ID, sorted([]int64{f.admin.ID, missingID}))
	wantErr(t, "DirectRoom with a missing user", err, campfire.ErrNotFound)
}

func testDirectRoomConcurrent(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea := f.user("Bea")
	set := sorted([]int64{f.admin.ID, bea.ID})
	const n = 4
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		rooms   [n]campfire.Room
		created [n]bool
		errs    [n]error
	)
	for i := range n {
		wg.Go(func() {
			<-start
			rooms[i], created[i], errs[i] = s.DirectRoom(f.ctx, set[i%2], set)
		})
	}
	close(start)
	wg.Wait()
	creations := 0
	for i := range n {
		must(t, "concurrent DirectRoom", errs[i])
		if rooms[i].ID != rooms[0].ID {
			t.Fatalf("concurrent DirectRoom calls for one set returned rooms %d and %d, want one room", rooms[0].ID, rooms[i].ID)
		}
		if created[i] {
			creations++
		}
	}
	if creations != 1 {
		t.Fatalf("%d concurrent DirectRoom calls for one set reported %d creations, want 1", n, creations)
	}
}

func testDirectRoomDeletedIsNotReturned(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea := f.user("Bea")
	set := sorted([]int64{f.admin.ID, bea.ID})
	old := f.directRoom(set...)
	f.deleteRoom(old.ID)
	r, created, err := s.DirectRoom(f.ctx, bea.ID, set)
	must(t, "DirectRoom after the set's room was deleted", err)
	if !created || r.ID == old.ID {
		t.Fatalf("DirectRoom after deleting the set's room returned room %d (created %v), want a new room", r.ID, created)
	}
	f.checkMembers("the new direct room", r.ID, set, campfire.InvolvementEverything)
}

func testRoomReturnsTheRoom(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea := f.user("Bea")
	for _, want := range []campfire.Room{f.lobby, f.closedRoom("Secret", bea.ID), f.directRoom(f.admin.ID, bea.ID)} {
		got := f.room(want.ID)
		if got.ID != want.ID || got.Kind != want.Kind || got.Name != want.Name || got.CreatorID != want.CreatorID ||
			got.LastSeq != want.LastSeq || !slices.Equal(got.UserIDs, want.UserIDs) {
			t.Fatalf("Room(%d) = %+v, want the room as created, %+v", want.ID, got, want)
		}
		checkSameTime(t, "Room's CreatedAt", got.CreatedAt, want.CreatedAt)
	}
}

func testRoomNotFound(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	_, err := s.Room(f.ctx, missingID)
	wantErr(t, "Room(missing id)", err, campfire.ErrNotFound)
}

func testRoomNotFoundWhenDeleted(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	r := f.openRoom("Doomed", f.admin.ID)
	f.deleteRoom(r.ID)
	_, err := s.Room(f.ctx, r.ID)
	wantErr(t, "Room(deleted room)", err, campfire.ErrNotFound)
}

func testMembershipReturnsTheMembership(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea := f.user("Bea")
	direct := f.directRoom(f.admin.ID, bea.ID)
	for _, c := range []struct {
		room campfire.Room
		inv  campfire.Involvement
	}{{f.lobby, campfire.InvolvementMentions}, {direct, campfire.InvolvementEverything}} {
		m := f.membership(c.room.ID, bea.ID)
		if m.RoomID != c.room.ID || m.UserID != bea.ID || m.Involvement != c.inv {
			t.Fatalf("Membership(%s room %d, user %d) = %+v, want involvement %q", c.room.Kind, c.room.ID, bea.ID, m, c.inv)
		}
		if m.UnreadAt != nil || m.Unread() {
			t.Fatalf("a new membership has UnreadAt %v, want nil (read)", m.UnreadAt)
		}
		checkTimeSet(t, "a membership's CreatedAt", m.CreatedAt)
	}
}

func testMembershipNotFoundForNonMember(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea := f.user("Bea")
	closed := f.closedRoom("Secret", f.admin.ID)
	_, err := s.Membership(f.ctx, closed.ID, bea.ID)
	wantErr(t, "Membership of a non-member", err, campfire.ErrNotFound)
	_, err = s.Membership(f.ctx, f.lobby.ID, missingID)
	wantErr(t, "Membership of a missing user", err, campfire.ErrNotFound)
}

func testMembershipNotFoundForMissingRoom(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	_, err := s.Membership(f.ctx, missingID, f.admin.ID)
	wantErr(t, "Membership of a missing room", err, campfire.ErrNotFound)
}

func testRoomForUser(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea, cy := f.user("Bea"), f.user("Cy")
	closed := f.closedRoom("Secret", cy.ID, bea.ID)
	direct := f.directRoom(bea.ID, cy.ID)
	f.post(closed.ID, cy.ID, "unread for Bea")
	_, err := s.MarkUnread(f.ctx, closed.ID, []int64{cy.ID}, at(10, 0))
	must(t, "MarkUnread", err)
	for _, r := range []campfire.Room{f.lobby, closed, direct} {
		got, err := s.RoomForUser(f.ctx, r.ID, bea.ID)
		must(t, "RoomForUser", err)
		room, err := s.Room(f.ctx, r.ID)
		must(t, "Room", err)
		m := f.membership(r.ID, bea.ID)
		if !reflect.DeepEqual(got.Room, room) {
			t.Fatalf("RoomForUser(%s room).Room = %+v, want what Room returns, %+v", r.Kind, got.Room, room)
		}
		if !reflect.DeepEqual(got.Membership, m) {
			t.Fatalf("RoomForUser(%s room).Membership = %+v, want what Membership returns, %+v", r.Kind, got.Membership, m)
		}
	}
}

func testRoomForUserNotFound(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea, cy := f.user("Bea"), f.user("Cy")
	closed := f.closedRoom("Secret", cy.ID)
	_, err := s.RoomForUser(f.ctx, closed.ID, bea.ID)
	wantErr(t, "RoomForUser of a non-member", err, campfire.ErrNotFound)
	_, err = s.RoomForUser(f.ctx, missingID, bea.ID)
	wantErr(t, "RoomForUser of a missing room", err, campfire.ErrNotFound)
	gone := f.closedRoom("Gone", cy.ID, bea.ID)
	_, err = s.DeleteRoom(f.ctx, gone.ID)
	must(t, "DeleteRoom", err)
	_, err = s.RoomForUser(f.ctx, gone.ID, bea.ID)
	wantErr(t, "RoomForUser of a deleted room", err, campfire.ErrNotFound)
}

func testRoomsForUser(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea, cy := f.user("Bea"), f.user("Cy")
	// Bea joins the first closed room last, so an order by membership
	// rather than by room id shows.
	joinedLast := f.closedRoom("Joined last", f.admin.ID)
	f.closedRoom("Not hers", cy.ID)
	open := f.openRoom("Watercooler", cy.ID)
	closed := f.closedRoom("Secret", cy.ID, bea.ID)
	direct := f.directRoom(bea.ID, cy.ID)
	_, err := s.UpdateRoom(f.ctx, joinedLast.ID, campfire.RoomUpdate{UserIDs: &[]int64{bea.ID}})
	must(t, "UpdateRoom(UserIDs)", err)

	rs, err := s.RoomsForUser(f.ctx, bea.ID)
	must(t, "RoomsForUser", err)
	want := []campfire.Room{f.lobby, joinedLast, open, closed, direct}
	slices.SortFunc(want, func(a, b campfire.Room) int { return cmp.Compare(a.ID, b.ID) })
	got := make([]int64, len(rs))
	for i, r := range rs {
		got[i] = r.ID
	}
	wantIDs := make([]int64, len(want))
	for i, r := range want {
		wantIDs[i] = r.ID
	}
	checkIDs(t, "RoomsForUser (the user's rooms, by id)", got, wantIDs)
	for i, r := range rs {
		if r.Kind != want[i].Kind || r.Name != want[i].Name {
			t.Fatalf("RoomsForUser lists room %d as %s %q, want %s %q", r.ID, r.Kind, r.Name, want[i].Kind, want[i].Name)
		}
		m := r.Membership
		if m.RoomID != r.ID || m.UserID != bea.ID || m.Involvement != campfire.DefaultInvolvement(r.Kind) {
			t.Fatalf("RoomsForUser gives room %d the membership %+v, want bea's (%d) with involvement %q",
				r.ID, m, bea.ID, campfire.DefaultInvolvement(r.Kind))
		}
	}
	for _, r := range rs {
		if r.ID == direct.ID {
			checkIDs(t, "UserIDs of a direct room in RoomsForUser", r.UserIDs, sorted([]int64{bea.ID, cy.ID}))
		}
	}
}

func testMembersByIDWithInvolvement(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea, cy := f.user("Bea"), f.user("Cy")
	r := f.closedRoom("Secret", cy.ID, bea.ID, f.admin.ID)
	_, err := s.SetInvolvement(f.ctx, r.ID, bea.ID, campfire.InvolvementInvisible)
	must(t, "SetInvolvement", err)

	ms, err := s.Members(f.ctx, r.ID)
	must(t, "Members", err)
	type member struct {
		u   campfire.User
		inv campfire.Involvement
	}
	want := []member{{f.admin, campfire.InvolvementMentions}, {bea, campfire.InvolvementInvisible}, {cy, campfire.InvolvementMentions}}
	slices.SortFunc(want, func(a, b member) int { return cmp.Compare(a.u.ID, b.u.ID) })
	if len(ms) != len(want) {
		t.Fatalf("Members lists %d members, want %d", len(ms), len(want))
	}
	for i, m := range ms {
		w := want[i]
		if m.ID != w.u.ID || m.Name != w.u.Name || m.Role != w.u.Role || m.Involvement != w.inv {
			t.Fatalf("Members[%d] = user %d %q (%s) with %q, want user %d %q (%s) with %q (members by id)",
				i, m.ID, m.Name, m.Role, m.Involvement, w.u.ID, w.u.Name, w.u.Role, w.inv)
		}
	}
}

func testMembersNotFoundForMissingRoom(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	_, err := s.Members(f.ctx, missingID)
	wantErr(t, "Members(missing room)", err, campfire.ErrNotFound)
}

func testUpdateRoomRenames(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	r := f.openRoom("Watercooler", f.admin.ID)
	f.postN(r.ID, f.admin.ID, 2)

	ch, err := s.UpdateRoom(f.ctx, r.ID, campfire.RoomUpdate{Name: ptr("Kitchen")})
	must(t, "UpdateRoom(Name)", err)
	call := "UpdateRoom(Name)"
	if ch.Room.ID != r.ID || ch.Room.Name != "Kitchen" || ch.Room.Kind != campfire.RoomOpen || ch.Room.LastSeq != 3 {
		t.Fatalf("%s returned room %+v, want room %d named \"Kitchen\" with LastSeq 3", call, ch.Room, r.ID)
	}
	if len(ch.Added) != 0 || len(ch.Removed) != 0 {
		t.Fatalf("%s reported Added %v, Removed %v; a rename changes no membership", call, ch.Added, ch.Removed)
	}
	checkEvent(t, call, ch.Event, campfire.EventRoomUpdated, r.ID, 3)
	data := decodeData[roomData](t, call, ch.Event)
	if data.ID != r.ID || data.Name != "Kitchen" || data.Kind != campfire.RoomOpen {
		t.Fatalf("%s: event Data is %s, want the updated room", call, ch.Event.Data)
	}
	checkDataEncodes(t, call, ch.Event, ch.Room)
	f.checkLogged(call, ch.Event)
	if got := f.room(r.ID); got.Name != "Kitchen" || got.LastSeq != 3 {
		t.Fatalf("Room after %s is %q with LastSeq %d, want \"Kitchen\" with LastSeq 3", call, got.Name, got.LastSeq)
	}
}

func testUpdateRoomChangesOnlyTheGivenFields(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea, cy := f.user("Bea"), f.user("Cy")
	r := f.closedRoom("Secret", f.admin.ID, bea.ID)

	ch, err := s.UpdateRoom(f.ctx, r.ID, campfire.RoomUpdate{UserIDs: &[]int64{bea.ID, cy.ID}})
	must(t, "UpdateRoom(UserIDs)", err)
	if ch.Room.Name != "Secret" || ch.Room.Kind != campfire.RoomClosed {
		t.Fatalf("UpdateRoom(UserIDs) left the room %s %q, want closed \"Secret\"", ch.Room.Kind, ch.Room.Name)
	}
	checkEvent(t, "UpdateRoom(UserIDs)", ch.Event, campfire.EventRoomUpdated, r.ID, 1)

	ch, err = s.UpdateRoom(f.ctx, r.ID, campfire.RoomUpdate{Name: ptr("Renamed")})
	must(t, "UpdateRoom(Name)", err)
	if ch.Room.Kind != campfire.RoomClosed {
		t.Fatalf("UpdateRoom(Name) changed the kind to %s", ch.Room.Kind)
	}
	checkEvent(t, "UpdateRoom(Name)", ch.Event, campfire.EventRoomUpdated, r.ID, 2)
	f.checkMembers("a closed room after a rename", r.ID, []int64{f.admin.ID, bea.ID, cy.ID}, campfire.InvolvementMentions)
}

func testUpdateRoomToOpen(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea, cy, dee, eve := f.user("Bea"), f.user("Cy"), f.user("Dee"), f.user("Eve")
	f.deactivate(eve.ID)
	r := f.closedRoom("Secret", bea.ID, cy.ID)
	_, err := s.SetInvolvement(f.ctx, r.ID, cy.ID, campfire.InvolvementNothing)
	must(t, "SetInvolvement", err)

	ch, err := s.UpdateRoom(f.ctx, r.ID, campfire.RoomUpdate{Kind: ptr(campfire.RoomOpen)})
	call := "UpdateRoom(Kind open)"
	must(t, call, err)
	if ch.Room.Kind != campfire.RoomOpen {
		t.Fatalf("%s returned kind %s", call, ch.Room.Kind)
	}
	checkSet(t, call+": Added (every active user not yet a member)", ch.Added, []int64{f.admin.ID, dee.ID})
	checkSet(t, call+": Removed", ch.Removed, nil)
	checkEvent(t, call, ch.Event, campfire.EventRoomUpdated, r.ID, 1)
	if data := decodeData[roomData](t, call, ch.Event); data.Kind != campfire.RoomOpen {
		t.Fatalf("%s: event Data has kind %q, want open", call, data.Kind)
	}
	checkIDs(t, "members after "+call, f.memberIDs(r.ID), sorted([]int64{f.admin.ID, bea.ID, cy.ID, dee.ID}))
	if inv := f.membership(r.ID, dee.ID).Involvement; inv != campfire.InvolvementMentions {
		t.Fatalf("an added member's involvement is %q, want the default %q", inv, campfire.InvolvementMentions)
	}
	if inv := f.membership(r.ID, cy.ID).Involvement; inv != campfire.InvolvementNothing {
		t.Fatalf("an existing member's involvement became %q after %s, want it kept (%q)", inv, call, campfire.InvolvementNothing)
	}
	if fay := f.user("Fay"); !f.isMember(r.ID, fay.ID) {
		t.Fatal("a user created after the room became open did not join it")
	}
}

func testUpdateRoomToClosed(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea := f.user("Bea")
	r := f.openRoom("Watercooler", bea.ID)
	ch, err := s.UpdateRoom(f.ctx, r.ID, campfire.RoomUpdate{Kind: ptr(campfire.RoomClosed)})
	call := "UpdateRoom(Kind closed)"
	must(t, call, err)
	if ch.Room.Kind != campfire.RoomClosed || len(ch.Added) != 0 || len(ch.Removed) != 0 {
		t.Fatalf("%s returned kind %s, Added %v, Removed %v; want closed with no membership change", call, ch.Room.Kind, ch.Added, ch.Removed)
	}
	checkEvent(t, call, ch.Event, campfire.EventRoomUpdated, r.ID, 1)
	checkIDs(t, "members after "+call, f.memberIDs(r.ID), sorted([]int64{f.admin.ID, bea.ID}))
	if cy := f.user("Cy"); f.isMember(r.ID, cy.ID) {
		t.Fatal("a user created after the room became closed joined it")
	}
}

func testUpdateRoomUserIDs(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea, cy, dee := f.user("Bea"), f.user("Cy"), f.user("Dee")
	r := f.closedRoom("Secret", f.admin.ID, bea.ID, cy.ID)

	// The creator (admin) is not listed, and stays a member.
	ch, err := s.UpdateRoom(f.ctx, r.ID, campfire.RoomUpdate{UserIDs: &[]int64{cy.ID, dee.ID}})
	call := "UpdateRoom(UserIDs)"
	must(t, call, err)
	checkSet(t, call+": Added", ch.Added, []int64{dee.ID})
	checkSet(t, call+": Removed", ch.Removed, []int64{bea.ID})
	// The removal comes first in the log: the removed member's streams end
	// there, before the change.
	checkEvent(t, call+": Revoked", ch.Revoked, campfire.EventMembersRemoved, r.ID, 1)
	checkIDs(t, call+": Revoked's user_ids", decodeData[campfire.UserIDsData](t, call, ch.Revoked).UserIDs, []int64{bea.ID})
	f.checkLogged(call+": Revoked", ch.Revoked)
	checkEvent(t, call, ch.Event, campfire.EventRoomUpdated, r.ID, 2)
	checkDataEncodes(t, call, ch.Event, ch.Room)
	f.checkLogged(call, ch.Event)
	f.checkMembers("members after "+call+" (the creator stays one)", r.ID, []int64{f.admin.ID, cy.ID, dee.ID}, campfire.InvolvementMentions)
	if f.isMember(r.ID, bea.ID) {
		t.Fatal("Membership of a user no longer listed still exists")
	}
}

func testUpdateRoomNotFound(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	_, err := s.UpdateRoom(f.ctx, missingID, campfire.RoomUpdate{Name: ptr("Nowhere")})
	wantErr(t, "UpdateRoom(missing room)", err, campfire.ErrNotFound)
	r := f.openRoom("Doomed", f.admin.ID)
	f.deleteRoom(r.ID)
	_, err = s.UpdateRoom(f.ctx, r.ID, campfire.RoomUpdate{Name: ptr("Revived")})
	wantErr(t, "UpdateRoom(deleted room)", err, campfire.ErrNotFound)
}

func testDeleteRoomAppendsRoomDeleted(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea, cy := f.user("Bea"), f.user("Cy")
	r := f.closedRoom("Secret", bea.ID, cy.ID)
	f.postN(r.ID, bea.ID, 2)

	ch, err := s.DeleteRoom(f.ctx, r.ID)
	must(t, "DeleteRoom", err)
	checkEvent(t, "DeleteRoom", ch.Event, campfire.EventRoomDeleted, r.ID, 3)
	checkDataEncodes(t, "DeleteRoom", ch.Event, campfire.IDData{ID: r.ID})
	checkSet(t, "DeleteRoom: Removed (the former members)", ch.Removed, []int64{bea.ID, cy.ID})
	if len(ch.Added) != 0 {
		t.Fatalf("DeleteRoom reported Added %v", ch.Added)
	}
}

func testDeleteRoomRoomIsGone(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea := f.user("Bea")
	r := f.openRoom("Doomed", bea.ID)
	keep := f.openRoom("Kept", bea.ID)
	m, _ := f.post(r.ID, bea.ID, "last words")
	f.deleteRoom(r.ID)

	_, err := s.Room(f.ctx, r.ID)
	wantErr(t, "Room after DeleteRoom", err, campfire.ErrNotFound)
	_, err = s.Membership(f.ctx, r.ID, bea.ID)
	wantErr(t, "Membership after DeleteRoom", err, campfire.ErrNotFound)
	_, err = s.Members(f.ctx, r.ID)
	wantErr(t, "Members after DeleteRoom", err, campfire.ErrNotFound)
	_, err = s.Message(f.ctx, r.ID, m.ID)
	wantErr(t, "Message of a deleted room", err, campfire.ErrNotFound)
	_, err = s.CreateMessage(f.ctx, campfire.NewMessage{RoomID: r.ID, CreatorID: bea.ID, Body: body("anyone?")})
	wantErr(t, "CreateMessage in a deleted room", err, campfire.ErrNotFound)
	_, err = s.DeleteRoom(f.ctx, r.ID)
	wantErr(t, "DeleteRoom again", err, campfire.ErrNotFound)
	checkIDs(t, "RoomsForUser after DeleteRoom", f.roomIDsOf(bea.ID), sorted([]int64{f.lobby.ID, keep.ID}))
}

func testDeleteRoomNotFound(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	_, err := s.DeleteRoom(f.ctx, missingID)
	wantErr(t, "DeleteRoom(missing room)", err, campfire.ErrNotFound)
}

func testSetInvolvementChanges(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea := f.user("Bea")
	for _, inv := range []campfire.Involvement{campfire.InvolvementEverything, campfire.InvolvementNothing, campfire.InvolvementInvisible, campfire.InvolvementMentions} {
		m, err := s.SetInvolvement(f.ctx, f.lobby.ID, bea.ID, inv)
		must(t, "SetInvolvement", err)
		if m.RoomID != f.lobby.ID || m.UserID != bea.ID || m.Involvement != inv {
			t.Fatalf("SetInvolvement(%q) returned %+v", inv, m)
		}
		if got := f.membership(f.lobby.ID, bea.ID).Involvement; got != inv {
			t.Fatalf("Membership after SetInvolvement(%q) has %q", inv, got)
		}
		if got := f.membership(f.lobby.ID, f.admin.ID).Involvement; got != campfire.InvolvementMentions {
			t.Fatalf("SetInvolvement for one member changed another's to %q", got)
		}
	}
}

func testSetInvolvementNotFound(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea := f.user("Bea")
	closed := f.closedRoom("Secret", f.admin.ID)
	_, err := s.SetInvolvement(f.ctx, closed.ID, bea.ID, campfire.InvolvementEverything)
	wantErr(t, "SetInvolvement for a non-member", err, campfire.ErrNotFound)
	_, err = s.SetInvolvement(f.ctx, missingID, bea.ID, campfire.InvolvementEverything)
	wantErr(t, "SetInvolvement in a missing room", err, campfire.ErrNotFound)
	if f.isMember(closed.ID, bea.ID) {
		t.Fatal("SetInvolvement for a non-member made them a member")
	}
}

// unreadFixture is a closed room whose members hear it at every level.
func unreadFixture(t *testing.T, s campfire.Store) (f *fixture, room campfire.Room, everything, mentions, nothing, invisible campfire.User) {
	t.Helper()
	f = setUp(t, s)
	everything, mentions, nothing, invisible = f.user("Eve"), f.user("Mo"), f.user("Ned"), f.user("Ivy")
	room = f.closedRoom("Secret", mentions.ID, everything.ID, nothing.ID, invisible.ID)
	for u, inv := range map[int64]campfire.Involvement{
		everything.ID: campfire.InvolvementEverything,
		nothing.ID:    campfire.InvolvementNothing,
		invisible.ID:  campfire.InvolvementInvisible,
	} {
		if _, err := s.SetInvolvement(f.ctx, room.ID, u, inv); err != nil {
			t.Fatalf("SetInvolvement(%q): %v", inv, err)
		}
	}
	return
}

// isUnread reports whether userID's membership of roomID is marked unread.
func (f *fixture) isUnread(roomID, userID int64) bool {
	f.t.Helper()
	return f.membership(roomID, userID).Unread()
}

// checkUnreadAt fails unless userID's membership of roomID is unread since want.
func (f *fixture) checkUnreadAt(what string, roomID, userID int64, want time.Time) {
	f.t.Helper()
	m := f.membership(roomID, userID)
	if m.UnreadAt == nil {
		f.t.Fatalf("%s: user %d's membership is read, want unread since %v", what, userID, want)
	}
	checkExactTime(f.t, what+": UnreadAt", *m.UnreadAt, want)
}

func testMarkUnreadMarksVisibleMembers(t *testing.T, s campfire.Store) {
	f, room, everything, mentions, nothing, invisible := unreadFixture(t, s)

	marked, err := s.MarkUnread(f.ctx, room.ID, []int64{mentions.ID}, at(10, 0))
	must(t, "MarkUnread", err)
	checkIDs(t, "MarkUnread except the poster (visible members, ascending)", marked, sorted([]int64{everything.ID, nothing.ID}))
	for _, u := range []campfire.User{everything, nothing} {
		f.checkUnreadAt("a visible member after MarkUnread", room.ID, u.ID, at(10, 0))
	}
	if f.isUnread(room.ID, mentions.ID) {
		t.Fatal("MarkUnread marked a member it was told to leave out")
	}
	if f.isUnread(room.ID, invisible.ID) {
		t.Fatal("MarkUnread marked an invisible member; invisible rooms are never marked unread")
	}
	if f.isUnread(f.lobby.ID, everything.ID) {
		t.Fatal("MarkUnread of one room marked another room unread")
	}

	rs, err := s.RoomsForUser(f.ctx, nothing.ID)
	must(t, "RoomsForUser", err)
	for _, r := range rs {
		if r.ID == room.ID && !r.Membership.Unread() {
			t.Fatal("RoomsForUser shows the room read after MarkUnread")
		}
	}

	marked, err = s.MarkUnread(f.ctx, room.ID, nil, at(10, 5))
	must(t, "MarkUnread(no exceptions)", err)
	checkIDs(t, "MarkUnread with no exceptions", marked, sorted([]int64{everything.ID, mentions.ID, nothing.ID}))
}

// The unread marks CreateMessage makes with MarkUnread: the same members
// as MarkUnread(room, Present + creator, CreatedAt), the same first-time
// rule, in the same transaction as the message.
func testCreateMessageMarkUnread(t *testing.T, s campfire.Store) {
	f, room, everything, mentions, nothing, invisible := unreadFixture(t, s)
	p, err := s.CreateMessage(f.ctx, campfire.NewMessage{RoomID: room.ID, CreatorID: mentions.ID, Body: body("first"), MarkUnread: true})
	must(t, "CreateMessage(MarkUnread)", err)
	checkIDs(t, "CreateMessage(MarkUnread).Unread (visible members but the creator, ascending)", p.Unread, sorted([]int64{everything.ID, nothing.ID}))
	for _, u := range []campfire.User{everything, nothing} {
		f.checkUnreadAt("a visible member after CreateMessage(MarkUnread)", room.ID, u.ID, p.Message.CreatedAt)
	}
	if f.isUnread(room.ID, mentions.ID) || f.isUnread(room.ID, invisible.ID) {
		t.Fatal("CreateMessage(MarkUnread) marked the creator or an invisible member")
	}
	// Present members are left read; those already unread are listed again
	// and keep their first time.
	first := p.Message.CreatedAt
	p, err = s.CreateMessage(f.ctx, campfire.NewMessage{RoomID: room.ID, CreatorID: everything.ID, Body: body("second"),
		MarkUnread: true, Present: []int64{nothing.ID, missingID}})
	must(t, "CreateMessage(MarkUnread, Present)", err)
	checkIDs(t, "CreateMessage(MarkUnread, Present).Unread", p.Unread, []int64{mentions.ID})
	f.checkUnreadAt("the member marked by the second message", room.ID, mentions.ID, p.Message.CreatedAt)
	f.checkUnreadAt("a member already unread (the first time is kept)", room.ID, nothing.ID, first)
	p, err = s.CreateMessage(f.ctx, campfire.NewMessage{RoomID: room.ID, CreatorID: everything.ID, Body: body("third"), MarkUnread: true})
	must(t, "CreateMessage(MarkUnread) again", err)
	checkIDs(t, "CreateMessage(MarkUnread).Unread with members already unread", p.Unread, sorted([]int64{mentions.ID, nothing.ID}))
}

func testCreateMessageMarkUnreadRetry(t *testing.T, s campfire.Store) {
	f, room, everything, mentions, nothing, _ := unreadFixture(t, s)
	nm := campfire.NewMessage{RoomID: room.ID, CreatorID: mentions.ID, ClientMessageID: "once", Body: body("hi")}
	_, err := s.CreateMessage(f.ctx, nm)
	must(t, "CreateMessage", err)
	nm.MarkUnread = true
	p, err := s.CreateMessage(f.ctx, nm)
	must(t, "CreateMessage retried with MarkUnread", err)
	if p.Created || p.Unread != nil {
		t.Fatalf("a retry reported Created %v, Unread %v; want false and nil", p.Created, p.Unread)
	}
	if f.isUnread(room.ID, everything.ID) || f.isUnread(room.ID, nothing.ID) {
		t.Fatal("a retry that stored nothing marked the room unread")
	}
}

func testCreateMessageWithoutMarkUnread(t *testing.T, s campfire.Store) {
	f, room, everything, mentions, nothing, _ := unreadFixture(t, s)
	p, err := s.CreateMessage(f.ctx, campfire.NewMessage{RoomID: room.ID, CreatorID: mentions.ID, Body: body("hi")})
	must(t, "CreateMessage", err)
	if p.Unread != nil || f.isUnread(room.ID, everything.ID) || f.isUnread(room.ID, nothing.ID) {
		t.Fatalf("CreateMessage without MarkUnread marked the room unread (Unread %v)", p.Unread)
	}
}

func testMarkUnreadKeepsFirstTime(t *testing.T, s campfire.Store) {
	f, room, everything, mentions, nothing, _ := unreadFixture(t, s)
	_, err := s.MarkUnread(f.ctx, room.ID, []int64{mentions.ID}, at(10, 0))
	must(t, "MarkUnread", err)
	marked, err := s.MarkUnread(f.ctx, room.ID, []int64{everything.ID}, at(11, 0))
	must(t, "MarkUnread again", err)
	checkIDs(t, "MarkUnread again (members already unread included)", marked, sorted([]int64{mentions.ID, nothing.ID}))
	f.checkUnreadAt("a member marked twice (the first time is kept)", room.ID, nothing.ID, at(10, 0))
	f.checkUnreadAt("a member marked once, the second time", room.ID, mentions.ID, at(11, 0))
	f.checkUnreadAt("a member left out the second time", room.ID, everything.ID, at(10, 0))
}

func testMarkReadClears(t *testing.T, s campfire.Store) {
	f, room, everything, mentions, nothing, _ := unreadFixture(t, s)
	_, err := s.MarkUnread(f.ctx, room.ID, []int64{mentions.ID}, at(10, 0))
	must(t, "MarkUnread", err)
	must(t, "MarkRead", s.MarkRead(f.ctx, room.ID, everything.ID))
	if m := f.membership(room.ID, everything.ID); m.UnreadAt != nil {
		t.Fatalf("UnreadAt after MarkRead is %v, want nil", m.UnreadAt)
	}
	f.checkUnreadAt("another member after MarkRead", room.ID, nothing.ID, at(10, 0))
	must(t, "MarkRead of a read room", s.MarkRead(f.ctx, room.ID, everything.ID))

	_, err = s.MarkUnread(f.ctx, room.ID, nil, at(12, 0))
	must(t, "MarkUnread after MarkRead", err)
	f.checkUnreadAt("a member marked unread again after reading", room.ID, everything.ID, at(12, 0))
}

func testMarkReadNotFoundForNonMember(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea := f.user("Bea")
	closed := f.closedRoom("Secret", f.admin.ID)
	wantErr(t, "MarkRead by a non-member", s.MarkRead(f.ctx, closed.ID, bea.ID), campfire.ErrNotFound)
	wantErr(t, "MarkRead of a missing room", s.MarkRead(f.ctx, missingID, bea.ID), campfire.ErrNotFound)
}
