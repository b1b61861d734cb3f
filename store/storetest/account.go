package storetest

import (
	"testing"

	"github.com/opencampfire/campfire"
)

func accountSpecs() []group {
	return []group{
		{"Setup", []spec{
			{"CreatesAccountAdminAndOpenRoom", testSetupCreatesAccountAdminAndOpenRoom},
			{"AdminCanBeFoundByEmailWithPasswordHash", testSetupAdminByEmail},
			{"ConflictWhenAlreadySetUp", testSetupConflictWhenAlreadySetUp},
		}},
		{"Account", []spec{
			{"NotFoundBeforeSetup", testAccountNotFoundBeforeSetup},
		}},
		{"UpdateAccount", []spec{
			{"ChangesNameAndSettings", testUpdateAccountChangesNameAndSettings},
			{"NotFoundBeforeSetup", testUpdateAccountNotFoundBeforeSetup},
		}},
		{"SetJoinCode", []spec{
			{"ReplacesTheJoinCode", testSetJoinCodeReplacesTheJoinCode},
			{"NotFoundBeforeSetup", testSetJoinCodeNotFoundBeforeSetup},
		}},
	}
}

func testSetupCreatesAccountAdminAndOpenRoom(t *testing.T, s campfire.Store) {
	ctx := t.Context()
	in := testSetup()
	acct, admin, room, err := s.Setup(ctx, in)
	must(t, "Setup", err)

	want := campfire.Account{Name: in.AccountName, JoinCode: in.JoinCode}
	if acct != want {
		t.Fatalf("Setup returned account %+v, want %+v", acct, want)
	}
	got, err := s.Account(ctx)
	must(t, "Account after Setup", err)
	if got != want {
		t.Fatalf("Account after Setup is %+v, want %+v", got, want)
	}

	if admin.ID == 0 || admin.Name != in.Admin.Name || admin.Email != in.Admin.Email {
		t.Fatalf("Setup returned admin %+v, want a stored user named %q with email %q", admin, in.Admin.Name, in.Admin.Email)
	}
	if admin.Role != campfire.RoleAdmin || admin.Status != campfire.StatusActive {
		t.Fatalf("Setup returned admin with role %q, status %q; want role admin, active", admin.Role, admin.Status)
	}
	checkTimeSet(t, "the admin's CreatedAt", admin.CreatedAt)
	stored, err := s.User(ctx, admin.ID)
	must(t, "User(admin)", err)
	if stored.Name != admin.Name || stored.Role != campfire.RoleAdmin || stored.Status != campfire.StatusActive {
		t.Fatalf("User(admin) is %+v, want the admin Setup returned (%+v)", stored, admin)
	}

	if room.ID == 0 || room.Kind != campfire.RoomOpen || room.Name != in.RoomName || room.CreatorID != admin.ID {
		t.Fatalf("Setup returned room %+v, want an open room %q created by the admin (%d)", room, in.RoomName, admin.ID)
	}
	if room.LastSeq != 0 {
		t.Fatalf("Setup's room has LastSeq %d, want 0 (no events yet)", room.LastSeq)
	}
	checkTimeSet(t, "the room's CreatedAt", room.CreatedAt)
	if r, err := s.Room(ctx, room.ID); err != nil || r.Name != in.RoomName || r.Kind != campfire.RoomOpen {
		t.Fatalf("Room(%d) after Setup = %+v, %v; want the open room %q", room.ID, r, err, in.RoomName)
	}
	m, err := s.Membership(ctx, room.ID, admin.ID)
	must(t, "Membership(room, admin) after Setup: the admin must be a member of the open room", err)
	if m.Involvement != campfire.DefaultInvolvement(campfire.RoomOpen) {
		t.Fatalf("the admin's involvement in the open room is %q, want the default %q", m.Involvement, campfire.DefaultInvolvement(campfire.RoomOpen))
	}
}

func testSetupAdminByEmail(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	u, hash, err := s.UserByEmail(f.ctx, testSetup().Admin.Email)
	must(t, "UserByEmail(admin's email)", err)
	if u.ID != f.admin.ID || hash != testSetup().Admin.PasswordHash {
		t.Fatalf("UserByEmail(admin's email) = user %d, hash %q; want user %d, hash %q", u.ID, hash, f.admin.ID, testSetup().Admin.PasswordHash)
	}
}

func testSetupConflictWhenAlreadySetUp(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	again := campfire.Setup{
		AccountName: "Other",
		JoinCode:    "zzzz-zzzz-zzzz",
		Admin:       campfire.NewUser{Name: "Eve", Email: "eve@example.com", PasswordHash: "hash-of-eve", Role: campfire.RoleAdmin},
		RoomName:    "Second Lobby",
	}
	_, _, _, err := s.Setup(f.ctx, again)
	wantErr(t, "second Setup", err, campfire.ErrConflict)

	acct, err := s.Account(f.ctx)
	must(t, "Account after a refused Setup", err)
	if acct.Name != testSetup().AccountName || acct.JoinCode != testSetup().JoinCode {
		t.Fatalf("Account after a refused Setup is %+v, want the first account unchanged", acct)
	}
	_, _, err = s.UserByEmail(f.ctx, "eve@example.com")
	wantErr(t, "UserByEmail(second Setup's admin): a refused Setup must store nothing", err, campfire.ErrNotFound)
	checkIDs(t, "RoomsForUser(admin) after a refused Setup (no second room)", f.roomIDsOf(f.admin.ID), []int64{f.lobby.ID})
}

func testAccountNotFoundBeforeSetup(t *testing.T, s campfire.Store) {
	_, err := s.Account(t.Context())
	wantErr(t, "Account on a new store", err, campfire.ErrNotFound)
}

func testUpdateAccountChangesNameAndSettings(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	settings := campfire.AccountSettings{RestrictRoomCreationToAdmins: true}
	acct, err := s.UpdateAccount(f.ctx, "Acme Rockets", settings)
	must(t, "UpdateAccount", err)
	want := campfire.Account{Name: "Acme Rockets", JoinCode: testSetup().JoinCode, Settings: settings}
	if acct != want {
		t.Fatalf("UpdateAccount returned %+v, want %+v (the join code unchanged)", acct, want)
	}
	got, err := s.Account(f.ctx)
	must(t, "Account after UpdateAccount", err)
	if got != want {
		t.Fatalf("Account after UpdateAccount is %+v, want %+v", got, want)
	}

	acct, err = s.UpdateAccount(f.ctx, "Acme", campfire.AccountSettings{})
	must(t, "UpdateAccount back", err)
	if acct.Settings.RestrictRoomCreationToAdmins {
		t.Fatalf("UpdateAccount with zero settings left RestrictRoomCreationToAdmins set")
	}
}

func testUpdateAccountNotFoundBeforeSetup(t *testing.T, s campfire.Store) {
	_, err := s.UpdateAccount(t.Context(), "Acme", campfire.AccountSettings{})
	wantErr(t, "UpdateAccount on a new store", err, campfire.ErrNotFound)
}

func testSetJoinCodeReplacesTheJoinCode(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	must(t, "SetJoinCode", s.SetJoinCode(f.ctx, "wxyz-2345-6789"))
	acct, err := s.Account(f.ctx)
	must(t, "Account after SetJoinCode", err)
	want := campfire.Account{Name: testSetup().AccountName, JoinCode: "wxyz-2345-6789"}
	if acct != want {
		t.Fatalf("Account after SetJoinCode is %+v, want %+v", acct, want)
	}
}

func testSetJoinCodeNotFoundBeforeSetup(t *testing.T, s campfire.Store) {
	wantErr(t, "SetJoinCode on a new store", s.SetJoinCode(t.Context(), "wxyz-2345-6789"), campfire.ErrNotFound)
}
