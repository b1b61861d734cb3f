package storetest

import (
	"bytes"
	"crypto/sha256"
	"testing"

	"github.com/opencampfire/campfire"
)

func sessionSpecs() []group {
	return []group{
		{"CreateSession", []spec{
			{"NotFoundForMissingUser", testCreateSessionNotFoundForMissingUser},
		}},
		{"Session", []spec{
			{"ReturnsTheSessionAndItsUser", testSessionReturnsSessionAndUser},
			{"ReturnsTheUserAsItNowIs", testSessionReturnsCurrentUser},
			{"NotFound", testSessionNotFound},
		}},
		{"TouchSession", []spec{
			{"SetsLastActiveAt", testTouchSessionSetsLastActiveAt},
			{"NotFound", testTouchSessionNotFound},
		}},
		{"DeleteSession", []spec{
			{"RemovesTheSession", testDeleteSessionRemovesTheSession},
			{"KeepsOtherSessions", testDeleteSessionKeepsOtherSessions},
			{"MissingSessionIsNoError", testDeleteSessionMissingIsNoError},
		}},
		{"DeleteUserSessions", []spec{
			{"RemovesTheUsersOthersAndSaysWhich", testDeleteUserSessions},
			{"NilKeepRemovesAll", testDeleteUserSessionsKeepNone},
		}},
	}
}

// tokenHash is the stored form of a token, as the engine computes it: 32
// binary bytes, which may include zero bytes and invalid UTF-8.
func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func (f *fixture) createSession(hash []byte, userID int64) campfire.Session {
	f.t.Helper()
	sess := campfire.Session{
		TokenHash:    hash,
		UserID:       userID,
		UserAgent:    "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
		IP:           "192.0.2.7",
		CreatedAt:    at(9, 0),
		LastActiveAt: at(9, 5),
	}
	if err := f.s.CreateSession(f.ctx, sess); err != nil {
		f.t.Fatalf("CreateSession(user %d): %v", userID, err)
	}
	return sess
}

func testSessionReturnsSessionAndUser(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea := f.user("Bea")
	// A hash with a zero byte catches stores that treat it as a C string.
	hash := append([]byte{0, 0xff}, tokenHash("bea")[2:]...)
	want := f.createSession(hash, bea.ID)
	f.createSession(tokenHash("other"), f.admin.ID)

	got, u, err := s.Session(f.ctx, hash)
	must(t, "Session", err)
	if !bytes.Equal(got.TokenHash, want.TokenHash) || got.UserID != want.UserID || got.UserAgent != want.UserAgent || got.IP != want.IP {
		t.Fatalf("Session = %+v, want the stored %+v", got, want)
	}
	checkExactTime(t, "Session's CreatedAt", got.CreatedAt, want.CreatedAt)
	checkExactTime(t, "Session's LastActiveAt", got.LastActiveAt, want.LastActiveAt)
	if u.ID != bea.ID || u.Name != bea.Name || u.Email != bea.Email || u.Role != bea.Role || u.Status != bea.Status {
		t.Fatalf("Session's user is %+v, want %+v", u, bea)
	}
}

func testCreateSessionNotFoundForMissingUser(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	err := s.CreateSession(f.ctx, campfire.Session{TokenHash: tokenHash("ghost"), UserID: missingID, CreatedAt: at(9, 0), LastActiveAt: at(9, 0)})
	wantErr(t, "CreateSession for a missing user", err, campfire.ErrNotFound)
}

func testSessionReturnsCurrentUser(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea := f.user("Bea")
	f.createSession(tokenHash("bea"), bea.ID)
	_, err := s.UpdateUser(f.ctx, bea.ID, campfire.UserUpdate{Name: ptr("Beatrice"), Role: ptr(campfire.RoleAdmin)})
	must(t, "UpdateUser", err)
	_, u, err := s.Session(f.ctx, tokenHash("bea"))
	must(t, "Session", err)
	if u.Name != "Beatrice" || u.Role != campfire.RoleAdmin {
		t.Fatalf("Session's user after UpdateUser is %q (%s), want %q (admin): the user as it now is", u.Name, u.Role, "Beatrice")
	}
}

func testSessionNotFound(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	f.createSession(tokenHash("bea"), f.admin.ID)
	_, _, err := s.Session(f.ctx, tokenHash("nobody"))
	wantErr(t, "Session(unknown hash)", err, campfire.ErrNotFound)
	_, _, err = s.Session(f.ctx, tokenHash("bea")[:16])
	wantErr(t, "Session(a prefix of a stored hash)", err, campfire.ErrNotFound)
}

func testTouchSessionSetsLastActiveAt(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	want := f.createSession(tokenHash("bea"), f.admin.ID)
	other := f.createSession(tokenHash("other"), f.admin.ID)
	must(t, "TouchSession", s.TouchSession(f.ctx, tokenHash("bea"), at(17, 30)))

	got, _, err := s.Session(f.ctx, tokenHash("bea"))
	must(t, "Session after TouchSession", err)
	checkExactTime(t, "LastActiveAt after TouchSession", got.LastActiveAt, at(17, 30))
	checkExactTime(t, "CreatedAt after TouchSession", got.CreatedAt, want.CreatedAt)
	got, _, err = s.Session(f.ctx, tokenHash("other"))
	must(t, "Session(other)", err)
	checkExactTime(t, "another session's LastActiveAt after TouchSession", got.LastActiveAt, other.LastActiveAt)
}

func testTouchSessionNotFound(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	wantErr(t, "TouchSession(unknown hash)", s.TouchSession(f.ctx, tokenHash("nobody"), at(10, 0)), campfire.ErrNotFound)
}

func testDeleteSessionRemovesTheSession(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	f.createSession(tokenHash("bea"), f.admin.ID)
	must(t, "DeleteSession", s.DeleteSession(f.ctx, tokenHash("bea")))
	_, _, err := s.Session(f.ctx, tokenHash("bea"))
	wantErr(t, "Session after DeleteSession", err, campfire.ErrNotFound)
	must(t, "DeleteSession again (deleting a deleted session is no error)", s.DeleteSession(f.ctx, tokenHash("bea")))
}

func testDeleteSessionKeepsOtherSessions(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	f.createSession(tokenHash("laptop"), f.admin.ID)
	f.createSession(tokenHash("phone"), f.admin.ID)
	must(t, "DeleteSession(laptop)", s.DeleteSession(f.ctx, tokenHash("laptop")))
	_, _, err := s.Session(f.ctx, tokenHash("phone"))
	must(t, "Session(phone) after deleting the user's other session", err)
}

func testDeleteUserSessions(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea := f.user("Bea")
	f.createSession(tokenHash("laptop"), f.admin.ID)
	f.createSession(tokenHash("phone"), f.admin.ID)
	f.createSession(tokenHash("tablet"), f.admin.ID)
	f.createSession(tokenHash("bea"), bea.ID)
	removed, err := s.DeleteUserSessions(f.ctx, f.admin.ID, tokenHash("laptop"))
	must(t, "DeleteUserSessions(admin, keep laptop)", err)
	got := map[string]bool{}
	for _, h := range removed {
		got[string(h)] = true
	}
	if len(removed) != 2 || !got[string(tokenHash("phone"))] || !got[string(tokenHash("tablet"))] {
		t.Fatalf("DeleteUserSessions returned %d hashes; want exactly the phone's and the tablet's", len(removed))
	}
	for _, gone := range []string{"phone", "tablet"} {
		_, _, err := s.Session(f.ctx, tokenHash(gone))
		wantErr(t, "Session("+gone+") after DeleteUserSessions", err, campfire.ErrNotFound)
	}
	for _, kept := range []string{"laptop", "bea"} {
		_, _, err := s.Session(f.ctx, tokenHash(kept))
		must(t, "Session("+kept+") after DeleteUserSessions (the kept one, and another user's)", err)
	}
}

func testDeleteUserSessionsKeepNone(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	f.createSession(tokenHash("laptop"), f.admin.ID)
	removed, err := s.DeleteUserSessions(f.ctx, f.admin.ID, nil)
	must(t, "DeleteUserSessions(admin, nil)", err)
	if len(removed) != 1 {
		t.Fatalf("DeleteUserSessions(nil) removed %d sessions, want 1", len(removed))
	}
	_, _, err = s.Session(f.ctx, tokenHash("laptop"))
	wantErr(t, "Session after DeleteUserSessions(nil)", err, campfire.ErrNotFound)
}

func testDeleteSessionMissingIsNoError(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	must(t, "DeleteSession(never stored)", s.DeleteSession(f.ctx, tokenHash("never")))
}
