package storetest

import (
	"cmp"
	"slices"
	"strings"
	"testing"

	"github.com/opencampfire/campfire"
)

func userSpecs() []group {
	return []group{
		{"CreateUser", []spec{
			{"ReturnsAnActiveUser", testCreateUserReturnsAnActiveUser},
			{"JoinsEveryOpenRoomButNoOther", testCreateUserJoinsEveryOpenRoom},
			{"ConflictOnTakenEmail", testCreateUserConflictOnTakenEmail},
			{"ConflictOnTakenExternalID", testCreateUserConflictOnTakenExternalID},
			{"EmptyEmailsAndExternalIDsNeverConflict", testCreateUserEmptyEmailsNeverConflict},
			{"StoresABotsKeyHashAndWebhookURL", testCreateUserStoresBotKeyHashAndWebhookURL},
		}},
		{"User", []spec{
			{"ReturnsTheUser", testUserReturnsTheUser},
			{"NotFound", testUserNotFound},
		}},
		{"UserByEmail", []spec{
			{"ReturnsTheUserAndPasswordHash", testUserByEmailReturnsUserAndHash},
			{"NotFound", testUserByEmailNotFound},
			{"EmptyEmailMatchesNobody", testUserByEmailEmptyMatchesNobody},
		}},
		{"UserByExternalID", []spec{
			{"ReturnsTheUser", testUserByExternalIDReturnsTheUser},
			{"NotFound", testUserByExternalIDNotFound},
			{"EmptyIDMatchesNobody", testUserByExternalIDEmptyMatchesNobody},
		}},
		{"UpdateUser", []spec{
			{"ChangesOnlyTheGivenFields", testUpdateUserChangesOnlyTheGivenFields},
			{"ConflictOnTakenEmail", testUpdateUserConflictOnTakenEmail},
			{"KeepingTheSameEmailIsNoConflict", testUpdateUserSameEmailIsNoConflict},
			{"NotFound", testUpdateUserNotFound},
			{"DeactivationDeletesSessions", testUpdateUserDeactivationDeletesSessions},
			{"DeactivationLeavesOpenAndClosedRooms", testUpdateUserDeactivationLeavesSharedRooms},
			{"DeactivationKeepsDirectRooms", testUpdateUserDeactivationKeepsDirectRooms},
			{"DeactivationEndsAccessInEveryRoomsLog", testUpdateUserDeactivationLogsMembersRemoved},
			{"ReactivationRejoinsEveryOpenRoom", testUpdateUserReactivationRejoinsOpenRooms},
			{"ChangesTheBotKeyHashAndWebhookURL", testUpdateUserChangesBotKeyHashAndWebhookURL},
		}},
		{"Users", []spec{
			{"OrdersByNameCaseInsensitivelyThenID", testUsersOrder},
			{"QueryKeepsNamesContainingItCaseInsensitively", testUsersQuery},
			{"QueryIsLiteralText", testUsersQueryIsLiteral},
			{"RoomIDKeepsMembersOfThatRoom", testUsersRoomID},
			{"ActiveOnlyDropsDeactivatedUsers", testUsersActiveOnly},
			{"LimitCapsTheResult", testUsersLimit},
			{"FiltersCombine", testUsersFiltersCombine},
		}},
		{"BotKey", []spec{
			{"ReturnsTheBotAndItsKeyHash", testBotKeyReturnsTheBotAndItsKeyHash},
			{"EmptyHashWithoutAKey", testBotKeyEmptyWithoutKey},
			{"NotFoundForPeopleAndMissingUsers", testBotKeyNotFoundForPeopleAndMissingUsers},
			{"ReturnsDeactivatedBotsWithTheirStatus", testBotKeyReturnsDeactivatedBots},
		}},
	}
}

func testCreateUserReturnsAnActiveUser(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	in := campfire.NewUser{Name: "Bea", Email: "bea@example.com", PasswordHash: "hash-of-bea", Role: campfire.RoleMember, ExternalID: "ext-bea"}
	u, err := s.CreateUser(f.ctx, in)
	must(t, "CreateUser", err)
	if u.ID == 0 || u.ID == f.admin.ID {
		t.Fatalf("CreateUser returned id %d, want a new id", u.ID)
	}
	if u.Name != in.Name || u.Email != in.Email || u.Role != in.Role || u.ExternalID != in.ExternalID || u.Bio != "" {
		t.Fatalf("CreateUser returned %+v, want the fields of %+v and an empty bio", u, in)
	}
	if u.Status != campfire.StatusActive {
		t.Fatalf("CreateUser returned status %q, want active", u.Status)
	}
	checkTimeSet(t, "the new user's CreatedAt", u.CreatedAt)

	bot := f.createUser(campfire.NewUser{Name: "Robo", Role: campfire.RoleBot})
	if bot.Role != campfire.RoleBot || bot.Email != "" || bot.Status != campfire.StatusActive {
		t.Fatalf("CreateUser(bot without email) returned %+v, want an active bot with no email", bot)
	}
}

func testCreateUserJoinsEveryOpenRoom(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea := f.user("Bea")
	open := f.openRoom("Watercooler", f.admin.ID)
	closed := f.closedRoom("Secret", f.admin.ID, bea.ID)
	direct := f.directRoom(f.admin.ID, bea.ID)

	cy := f.user("Cy")
	for _, r := range []campfire.Room{f.lobby, open} {
		m, err := s.Membership(f.ctx, r.ID, cy.ID)
		must(t, "Membership of a new user in an open room (CreateUser must join every open room)", err)
		if m.Involvement != campfire.DefaultInvolvement(campfire.RoomOpen) {
			t.Fatalf("a new user's involvement in open room %d is %q, want the default %q", r.ID, m.Involvement, campfire.DefaultInvolvement(campfire.RoomOpen))
		}
	}
	if f.isMember(closed.ID, cy.ID) {
		t.Fatal("a new user became a member of a closed room; CreateUser joins open rooms only")
	}
	if f.isMember(direct.ID, cy.ID) {
		t.Fatal("a new user became a member of a direct room; CreateUser joins open rooms only")
	}
	checkIDs(t, "RoomsForUser(new user)", f.roomIDsOf(cy.ID), sorted([]int64{f.lobby.ID, open.ID}))
}

func testCreateUserConflictOnTakenEmail(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	f.user("Bea")
	_, err := s.CreateUser(f.ctx, campfire.NewUser{Name: "Other Bea", Email: emailOf("Bea"), Role: campfire.RoleMember})
	wantErr(t, "CreateUser with a taken email", err, campfire.ErrConflict)
	_, err = s.CreateUser(f.ctx, campfire.NewUser{Name: "Fake Ada", Email: testSetup().Admin.Email, Role: campfire.RoleMember})
	wantErr(t, "CreateUser with the admin's email", err, campfire.ErrConflict)

	us, err := s.Users(f.ctx, campfire.UserQuery{})
	must(t, "Users", err)
	if len(us) != 2 {
		t.Fatalf("Users after refused CreateUsers lists %d users, want 2: a refused CreateUser stores nothing", len(us))
	}
}

func testCreateUserConflictOnTakenExternalID(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	f.createUser(campfire.NewUser{Name: "Bea", Email: "bea@example.com", Role: campfire.RoleMember, ExternalID: "host-42"})
	_, err := s.CreateUser(f.ctx, campfire.NewUser{Name: "Bea Again", Email: "bea2@example.com", Role: campfire.RoleMember, ExternalID: "host-42"})
	wantErr(t, "CreateUser with a taken external id", err, campfire.ErrConflict)
}

func testCreateUserEmptyEmailsNeverConflict(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	a := f.createUser(campfire.NewUser{Name: "Bot One", Role: campfire.RoleBot})
	b := f.createUser(campfire.NewUser{Name: "Bot Two", Role: campfire.RoleBot})
	if a.ID == b.ID {
		t.Fatalf("two users without email got the same id %d", a.ID)
	}
	// Built-in accounts have no external id; many of them must coexist.
	f.user("Bea")
	f.user("Cy")
}

func testUserReturnsTheUser(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea := f.createUser(campfire.NewUser{Name: "Bea", Email: "bea@example.com", PasswordHash: "h", Role: campfire.RoleBot, ExternalID: "ext-1"})
	got, err := s.User(f.ctx, bea.ID)
	must(t, "User", err)
	if got.ID != bea.ID || got.Name != bea.Name || got.Email != bea.Email || got.Role != bea.Role ||
		got.Status != bea.Status || got.Bio != bea.Bio || got.ExternalID != bea.ExternalID {
		t.Fatalf("User(%d) = %+v, want what CreateUser returned, %+v", bea.ID, got, bea)
	}
	checkSameTime(t, "User's CreatedAt", got.CreatedAt, bea.CreatedAt)
}

func testUserNotFound(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	_, err := s.User(f.ctx, missingID)
	wantErr(t, "User(missing id)", err, campfire.ErrNotFound)
}

func testUserByEmailReturnsUserAndHash(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea := f.user("Bea")
	f.user("Cy")
	u, hash, err := s.UserByEmail(f.ctx, "bea@example.com")
	must(t, "UserByEmail", err)
	if u.ID != bea.ID || u.Email != "bea@example.com" || hash != "hash-of-Bea" {
		t.Fatalf("UserByEmail = user %d (%q), hash %q; want user %d, hash %q", u.ID, u.Email, hash, bea.ID, "hash-of-Bea")
	}
}

func testUserByEmailNotFound(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	f.user("Bea")
	_, _, err := s.UserByEmail(f.ctx, "nobody@example.com")
	wantErr(t, "UserByEmail(unknown email)", err, campfire.ErrNotFound)
}

func testUserByEmailEmptyMatchesNobody(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	f.createUser(campfire.NewUser{Name: "Robo", Role: campfire.RoleBot})
	_, _, err := s.UserByEmail(f.ctx, "")
	wantErr(t, "UserByEmail(\"\") with a user without email: an empty email is no email", err, campfire.ErrNotFound)
}

func testUserByExternalIDReturnsTheUser(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	f.createUser(campfire.NewUser{Name: "Bea", Role: campfire.RoleMember, ExternalID: "host-1"})
	cy := f.createUser(campfire.NewUser{Name: "Cy", Role: campfire.RoleMember, ExternalID: "host-2"})
	u, err := s.UserByExternalID(f.ctx, "host-2")
	must(t, "UserByExternalID", err)
	if u.ID != cy.ID || u.ExternalID != "host-2" {
		t.Fatalf("UserByExternalID(host-2) = %+v, want user %d", u, cy.ID)
	}
}

func testUserByExternalIDNotFound(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	f.createUser(campfire.NewUser{Name: "Bea", Role: campfire.RoleMember, ExternalID: "host-1"})
	_, err := s.UserByExternalID(f.ctx, "host-9")
	wantErr(t, "UserByExternalID(unknown id)", err, campfire.ErrNotFound)
}

func testUserByExternalIDEmptyMatchesNobody(t *testing.T, s campfire.Store) {
	f := setUp(t, s) // the admin is a built-in account: no external id
	_, err := s.UserByExternalID(f.ctx, "")
	wantErr(t, "UserByExternalID(\"\") with built-in accounts: an empty id is no id", err, campfire.ErrNotFound)
}

func testUpdateUserChangesOnlyTheGivenFields(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	orig := f.createUser(campfire.NewUser{Name: "Bea", Email: "bea@example.com", PasswordHash: "hash-1", Role: campfire.RoleMember, ExternalID: "host-1"})

	want := orig
	steps := []struct {
		name   string
		update campfire.UserUpdate
		apply  func(*campfire.User)
	}{
		{"Name", campfire.UserUpdate{Name: ptr("Beatrice")}, func(u *campfire.User) { u.Name = "Beatrice" }},
		{"Email", campfire.UserUpdate{Email: ptr("beatrice@example.com")}, func(u *campfire.User) { u.Email = "beatrice@example.com" }},
		{"Bio", campfire.UserUpdate{Bio: ptr("Ships things.")}, func(u *campfire.User) { u.Bio = "Ships things." }},
		{"PasswordHash", campfire.UserUpdate{PasswordHash: ptr("hash-2")}, func(*campfire.User) {}},
		{"Role", campfire.UserUpdate{Role: ptr(campfire.RoleAdmin)}, func(u *campfire.User) { u.Role = campfire.RoleAdmin }},
		{"Status", campfire.UserUpdate{Status: ptr(campfire.StatusDeactivated)}, func(u *campfire.User) { u.Status = campfire.StatusDeactivated }},
		{"nothing", campfire.UserUpdate{}, func(*campfire.User) {}},
	}
	for _, st := range steps {
		st.apply(&want)
		call := "UpdateUser(" + st.name + ")"
		got, err := s.UpdateUser(f.ctx, orig.ID, st.update)
		must(t, call, err)
		for _, u := range []struct {
			from string
			u    campfire.User
		}{{"returned", got}, {"stored", mustUser(t, s, orig.ID)}} {
			if u.u.ID != want.ID || u.u.Name != want.Name || u.u.Email != want.Email || u.u.Bio != want.Bio ||
				u.u.Role != want.Role || u.u.Status != want.Status || u.u.ExternalID != want.ExternalID {
				t.Fatalf("after %s the %s user is %+v, want %+v: only the non-nil fields change", call, u.from, u.u, want)
			}
			checkSameTime(t, "CreatedAt after "+call, u.u.CreatedAt, orig.CreatedAt)
		}
	}
	_, hash, err := s.UserByEmail(f.ctx, "beatrice@example.com")
	must(t, "UserByEmail(new email)", err)
	if hash != "hash-2" {
		t.Fatalf("password hash after UpdateUser(PasswordHash) is %q, want %q", hash, "hash-2")
	}
	_, _, err = s.UserByEmail(f.ctx, "bea@example.com")
	wantErr(t, "UserByEmail(old email) after the email changed", err, campfire.ErrNotFound)
}

func mustUser(t *testing.T, s campfire.Store, id int64) campfire.User {
	t.Helper()
	u, err := s.User(t.Context(), id)
	must(t, "User", err)
	return u
}

func testUpdateUserConflictOnTakenEmail(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea := f.user("Bea")
	f.user("Cy")
	_, err := s.UpdateUser(f.ctx, bea.ID, campfire.UserUpdate{Email: ptr(emailOf("Cy"))})
	wantErr(t, "UpdateUser(Email: another user's email)", err, campfire.ErrConflict)
	if got := mustUser(t, s, bea.ID); got.Email != emailOf("Bea") {
		t.Fatalf("email after a refused UpdateUser is %q, want it unchanged (%q)", got.Email, emailOf("Bea"))
	}
}

func testUpdateUserSameEmailIsNoConflict(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea := f.user("Bea")
	_, err := s.UpdateUser(f.ctx, bea.ID, campfire.UserUpdate{Name: ptr("Bea B"), Email: ptr(bea.Email)})
	must(t, "UpdateUser(Email: the user's own email): an email is taken only by another user", err)
}

func testUpdateUserNotFound(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	_, err := s.UpdateUser(f.ctx, missingID, campfire.UserUpdate{Name: ptr("Ghost")})
	wantErr(t, "UpdateUser(missing id)", err, campfire.ErrNotFound)
}

func testUpdateUserDeactivationDeletesSessions(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea, cy := f.user("Bea"), f.user("Cy")
	f.createSession(tokenHash("bea-laptop"), bea.ID)
	f.createSession(tokenHash("bea-phone"), bea.ID)
	f.createSession(tokenHash("cy-laptop"), cy.ID)

	u, err := s.UpdateUser(f.ctx, bea.ID, campfire.UserUpdate{Status: ptr(campfire.StatusDeactivated)})
	must(t, "UpdateUser(Status deactivated)", err)
	if u.Status != campfire.StatusDeactivated || u.Active() {
		t.Fatalf("UpdateUser(Status deactivated) returned status %q", u.Status)
	}
	for _, tok := range []string{"bea-laptop", "bea-phone"} {
		_, _, err := s.Session(f.ctx, tokenHash(tok))
		wantErr(t, "Session of a deactivated user ("+tok+")", err, campfire.ErrNotFound)
	}
	_, _, err = s.Session(f.ctx, tokenHash("cy-laptop"))
	must(t, "Session of another user after a deactivation (it must survive)", err)
}

func testUpdateUserDeactivationLeavesSharedRooms(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea, cy := f.user("Bea"), f.user("Cy")
	open := f.openRoom("Watercooler", bea.ID)
	closed := f.closedRoom("Secret", f.admin.ID, bea.ID, cy.ID)

	f.deactivate(bea.ID)
	for _, r := range []campfire.Room{f.lobby, open, closed} {
		_, err := s.Membership(f.ctx, r.ID, bea.ID)
		wantErr(t, "Membership of a deactivated user in a "+string(r.Kind)+" room", err, campfire.ErrNotFound)
		if slices.Contains(f.memberIDs(r.ID), bea.ID) {
			t.Fatalf("Members(%s room %d) still lists the deactivated user", r.Kind, r.ID)
		}
	}
	checkIDs(t, "RoomsForUser(deactivated user without direct rooms)", f.roomIDsOf(bea.ID), nil)
	if !f.isMember(closed.ID, cy.ID) {
		t.Fatal("deactivating one user removed another user from a closed room")
	}
	later := f.openRoom("Later", f.admin.ID)
	if f.isMember(later.ID, bea.ID) {
		t.Fatal("a deactivated user became a member of a new open room; open rooms take active users only")
	}
}

func testUpdateUserDeactivationKeepsDirectRooms(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea := f.user("Bea")
	direct := f.directRoom(f.admin.ID, bea.ID)
	f.deactivate(bea.ID)
	if !f.isMember(direct.ID, bea.ID) {
		t.Fatal("deactivation removed the user from a direct room; direct rooms keep their members")
	}
	checkIDs(t, "RoomsForUser(deactivated user)", f.roomIDsOf(bea.ID), []int64{direct.ID})
	checkIDs(t, "the direct room's members after a deactivation", f.memberIDs(direct.ID), sorted([]int64{f.admin.ID, bea.ID}))
}

func testUpdateUserReactivationRejoinsOpenRooms(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea := f.user("Bea")
	open := f.openRoom("Watercooler", f.admin.ID)
	closed := f.closedRoom("Secret", f.admin.ID, bea.ID)
	direct := f.directRoom(f.admin.ID, bea.ID)
	f.deactivate(bea.ID)
	openedWhileAway := f.openRoom("Opened while away", f.admin.ID)

	u, err := s.UpdateUser(f.ctx, bea.ID, campfire.UserUpdate{Status: ptr(campfire.StatusActive)})
	must(t, "UpdateUser(Status active)", err)
	if !u.Active() {
		t.Fatalf("UpdateUser(Status active) returned status %q", u.Status)
	}
	for _, r := range []campfire.Room{f.lobby, open, openedWhileAway} {
		m, err := s.Membership(f.ctx, r.ID, bea.ID)
		must(t, "Membership of a reactivated user in an open room (reactivation rejoins every open room)", err)
		if m.Involvement != campfire.InvolvementMentions {
			t.Fatalf("a reactivated user's involvement in open room %d is %q, want the default %q", r.ID, m.Involvement, campfire.InvolvementMentions)
		}
	}
	if f.isMember(closed.ID, bea.ID) {
		t.Fatal("reactivation rejoined a closed room; only open rooms are rejoined")
	}
	checkIDs(t, "RoomsForUser(reactivated user)", f.roomIDsOf(bea.ID), sorted([]int64{f.lobby.ID, open.ID, openedWhileAway.ID, direct.ID}))
}

// usersFixture creates users whose names test ordering and matching:
// "alice" and "Alice" tie case-insensitively and must then go by id.
func usersFixture(t *testing.T, s campfire.Store) (*fixture, map[string]campfire.User) {
	t.Helper()
	f := setUp(t, s)
	us := map[string]campfire.User{"Ada Admin": f.admin}
	for _, name := range []string{"bob", "alice", "Carol", "Alice", "Oliver", "BOB JR", "Dee_Dee", "100% Ed"} {
		email := emailOf(name)
		if name == "Alice" || name == "BOB JR" {
			email = strings.ReplaceAll(email, "@", "2@")
		}
		us[name] = f.createUser(campfire.NewUser{Name: name, Email: email, Role: campfire.RoleMember})
	}
	return f, us
}

// byNameThenID is the order Users promises.
func byNameThenID(us []campfire.User) []int64 {
	us = slices.Clone(us)
	slices.SortFunc(us, func(a, b campfire.User) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.ID, b.ID))
	})
	return userIDs(us)
}

func pick(us map[string]campfire.User, names ...string) []campfire.User {
	out := make([]campfire.User, len(names))
	for i, n := range names {
		out[i] = us[n]
	}
	return out
}

func (f *fixture) users(q campfire.UserQuery) []int64 {
	f.t.Helper()
	us, err := f.s.Users(f.ctx, q)
	if err != nil {
		f.t.Fatalf("Users(%+v): %v", q, err)
	}
	return userIDs(us)
}

func testUsersOrder(t *testing.T, s campfire.Store) {
	f, us := usersFixture(t, s)
	var all []campfire.User
	for _, u := range us {
		all = append(all, u)
	}
	checkIDs(t, "Users() (by name case-insensitively, then id)", f.users(campfire.UserQuery{}), byNameThenID(all))
}

func testUsersQuery(t *testing.T, s campfire.Store) {
	f, us := usersFixture(t, s)
	checkIDs(t, `Users(Query "LI")`, f.users(campfire.UserQuery{Query: "LI"}), byNameThenID(pick(us, "alice", "Alice", "Oliver")))
	checkIDs(t, `Users(Query "bob")`, f.users(campfire.UserQuery{Query: "bob"}), byNameThenID(pick(us, "bob", "BOB JR")))
	checkIDs(t, `Users(Query "b j")`, f.users(campfire.UserQuery{Query: "b j"}), byNameThenID(pick(us, "BOB JR")))
	checkIDs(t, `Users(Query "zzz")`, f.users(campfire.UserQuery{Query: "zzz"}), nil)
}

func testUsersQueryIsLiteral(t *testing.T, s campfire.Store) {
	f, us := usersFixture(t, s)
	checkIDs(t, `Users(Query "_"): "_" is a character, not a wildcard`, f.users(campfire.UserQuery{Query: "_"}), byNameThenID(pick(us, "Dee_Dee")))
	checkIDs(t, `Users(Query "%"): "%" is a character, not a wildcard`, f.users(campfire.UserQuery{Query: "%"}), byNameThenID(pick(us, "100% Ed")))
	checkIDs(t, `Users(Query "*")`, f.users(campfire.UserQuery{Query: "*"}), nil)
	checkIDs(t, `Users(Query "'")`, f.users(campfire.UserQuery{Query: "'"}), nil)
}

func testUsersRoomID(t *testing.T, s campfire.Store) {
	f, us := usersFixture(t, s)
	closed := f.closedRoom("Secret", us["Carol"].ID, us["bob"].ID, us["Alice"].ID)
	checkIDs(t, "Users(RoomID: closed room)", f.users(campfire.UserQuery{RoomID: closed.ID}), byNameThenID(pick(us, "Carol", "bob", "Alice")))
	direct := f.directRoom(us["Oliver"].ID, us["alice"].ID)
	checkIDs(t, "Users(RoomID: direct room)", f.users(campfire.UserQuery{RoomID: direct.ID}), byNameThenID(pick(us, "Oliver", "alice")))
}

func testUsersActiveOnly(t *testing.T, s campfire.Store) {
	f, us := usersFixture(t, s)
	f.deactivate(us["Carol"].ID)
	var all, active []campfire.User
	for name, u := range us {
		all = append(all, u)
		if name != "Carol" {
			active = append(active, u)
		}
	}
	checkIDs(t, "Users(ActiveOnly)", f.users(campfire.UserQuery{ActiveOnly: true}), byNameThenID(active))
	checkIDs(t, "Users() with a deactivated user (still listed without ActiveOnly)", f.users(campfire.UserQuery{}), byNameThenID(all))
	listed, err := s.Users(f.ctx, campfire.UserQuery{Query: "carol"})
	must(t, "Users(Query carol)", err)
	if len(listed) != 1 || listed[0].Status != campfire.StatusDeactivated {
		t.Fatalf("Users(Query carol) = %+v, want Carol with status deactivated", listed)
	}
}

func testUsersLimit(t *testing.T, s campfire.Store) {
	f, us := usersFixture(t, s)
	var all []campfire.User
	for _, u := range us {
		all = append(all, u)
	}
	want := byNameThenID(all)
	checkIDs(t, "Users(Limit 3)", f.users(campfire.UserQuery{Limit: 3}), want[:3])
	checkIDs(t, "Users(Limit 0): no cap", f.users(campfire.UserQuery{Limit: 0}), want)
	checkIDs(t, "Users(Limit above the count)", f.users(campfire.UserQuery{Limit: 100}), want)
}

func testUsersFiltersCombine(t *testing.T, s campfire.Store) {
	f, us := usersFixture(t, s)
	f.deactivate(us["Alice"].ID)
	// Deactivation removed Alice from the open room, so ActiveOnly and
	// RoomID agree; Query narrows further.
	q := campfire.UserQuery{Query: "Li", RoomID: f.lobby.ID, ActiveOnly: true, Limit: 1}
	checkIDs(t, "Users(Query, RoomID, ActiveOnly, Limit)", f.users(q), byNameThenID(pick(us, "alice", "Oliver"))[:1])
	q.Limit = 0
	checkIDs(t, "Users(Query, RoomID, ActiveOnly)", f.users(q), byNameThenID(pick(us, "alice", "Oliver")))
}

// A deactivation ends the user's access in the log of every live room they
// were in, direct ones included, so that streams that never hear of it
// otherwise (another node, a lost broker message) still stop there. A
// second deactivation adds nothing.
func testUpdateUserDeactivationLogsMembersRemoved(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea, cy := f.user("Bea"), f.user("Cy")
	open := f.openRoom("Watercooler", bea.ID)
	closed := f.closedRoom("Secret", f.admin.ID, bea.ID, cy.ID)
	direct := f.directRoom(f.admin.ID, bea.ID)
	elsewhere := f.closedRoom("Elsewhere", f.admin.ID, cy.ID)
	gone := f.closedRoom("Gone", f.admin.ID, bea.ID)
	_, err := s.DeleteRoom(f.ctx, gone.ID)
	must(t, "DeleteRoom", err)
	before := map[int64]int64{}
	for _, r := range []campfire.Room{f.lobby, open, closed, direct, elsewhere} {
		before[r.ID] = f.room(r.ID).LastSeq
	}

	f.deactivate(bea.ID)
	for _, r := range []campfire.Room{f.lobby, open, closed, direct} {
		evs := f.events(r.ID, before[r.ID])
		call := "Events of a " + string(r.Kind) + " room after deactivating a member"
		if len(evs) != 1 {
			t.Fatalf("%s: %d events, want one members.removed", call, len(evs))
		}
		checkEvent(t, call, evs[0], campfire.EventMembersRemoved, r.ID, before[r.ID]+1)
		checkIDs(t, call+": user_ids", decodeData[campfire.UserIDsData](t, call, evs[0]).UserIDs, []int64{bea.ID})
	}
	if evs := f.events(elsewhere.ID, before[elsewhere.ID]); len(evs) != 0 {
		t.Fatalf("deactivating a user appended %d events to a room they were not in", len(evs))
	}
	f.deactivate(bea.ID)
	if evs := f.events(direct.ID, before[direct.ID]+1); len(evs) != 0 {
		t.Fatalf("deactivating a deactivated user appended %d more events", len(evs))
	}
}
