package campfire_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencampfire/campfire"
)

func TestSetup(t *testing.T) {
	t.Run("FirstRunCreatesAdminAndAllTalk", func(t *testing.T) {
		ts, _ := newServer(t, campfire.Config{})
		c := newClient(t, ts.URL)
		if got := c.must(200, "GET", "/api/v1/setup", nil); got["needed"] != true {
			t.Fatalf("setup needed = %v before first run", got["needed"])
		}
		res := c.do("POST", "/api/v1/setup", map[string]any{"name": "Ada", "email": "Ada@Example.com", "password": testPassword})
		if res.status != 201 {
			t.Fatalf("setup: %d %s", res.status, res.body)
		}
		u := res.json(t)["user"].(map[string]any)
		if u["role"] != "admin" || u["email"] != "ada@example.com" || u["status"] != "active" {
			t.Fatalf("admin = %v", u)
		}
		cookie := res.header.Get("Set-Cookie")
		for _, attr := range []string{"HttpOnly", "SameSite=Lax", "Path=/"} {
			if !strings.Contains(cookie, attr) {
				t.Fatalf("session cookie %q lacks %s", cookie, attr)
			}
		}
		rooms := c.must(200, "GET", "/api/v1/rooms", nil)["rooms"].([]any)
		if len(rooms) != 1 || rooms[0].(map[string]any)["name"] != "All Talk" || rooms[0].(map[string]any)["kind"] != "open" {
			t.Fatalf("rooms after setup = %v", rooms)
		}
		if got := c.must(200, "GET", "/api/v1/setup", nil); got["needed"] != false {
			t.Fatalf("setup still needed after first run")
		}
	})
	t.Run("ConflictOnceSetUp", func(t *testing.T) {
		w := newWorld(t)
		newClient(t, w.ts.URL).do("POST", "/api/v1/setup", map[string]any{"name": "Eve", "email": "eve@example.com", "password": testPassword}).
			wantError(t, 409, "conflict")
	})
	t.Run("Validation", func(t *testing.T) {
		ts, _ := newServer(t, campfire.Config{})
		c := newClient(t, ts.URL)
		for _, tc := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"name": "", "email": "a@example.com", "password": testPassword}, "name"},
			{map[string]any{"name": "A", "email": "not-an-email", "password": testPassword}, "email"},
			{map[string]any{"name": "A", "email": "a@example.com", "password": "short"}, "password"},
			{map[string]any{"name": "A", "email": "a@example.com", "password": strings.Repeat("x", 300)}, "password"},
			{map[string]any{"name": strings.Repeat("n", 81), "email": "a@example.com", "password": testPassword}, "name"},
			{map[string]any{"name": "<script>", "email": "a@example.com", "password": testPassword}, "name"},
		} {
			e := c.do("POST", "/api/v1/setup", tc.body).wantError(t, 422, "invalid")
			if e["field"] != tc.field {
				t.Errorf("%v: field %v, want %s", tc.body, e["field"], tc.field)
			}
		}
		if got := c.must(200, "GET", "/api/v1/setup", nil); got["needed"] != true {
			t.Fatal("a refused setup must leave setup needed")
		}
	})
}

func TestRequestBodies(t *testing.T) {
	ts, _ := newServer(t, campfire.Config{MaxBodyBytes: 4096})
	c := newClient(t, ts.URL)
	t.Run("WrongContentTypeIs415", func(t *testing.T) {
		c.do("POST", "/api/v1/setup", `{"name":"a"}`, func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }).
			wantError(t, 415, "unsupported_media_type")
	})
	t.Run("MalformedJSONIs400", func(t *testing.T) {
		for _, body := range []string{`{`, `[]`, `{"name": 5}`, `{} {}`, ``, `null x`} {
			c.do("POST", "/api/v1/setup", body).wantError(t, 400, "invalid_json")
		}
	})
	t.Run("OversizedBodyIs413", func(t *testing.T) {
		c.do("POST", "/api/v1/setup", `{"name":"`+strings.Repeat("a", 5000)+`"}`).wantError(t, 413, "too_large")
	})
	t.Run("UnknownEndpointIsJSON404", func(t *testing.T) {
		c.do("GET", "/api/v1/nope", nil).wantError(t, 404, "not_found")
	})
	t.Run("WrongMethodIsJSON405", func(t *testing.T) {
		c.do("PUT", "/api/v1/setup", nil).wantError(t, 405, "method_not_allowed")
	})
	t.Run("CrossSiteUnsafeRequestIs403", func(t *testing.T) {
		c.do("POST", "/api/v1/setup", map[string]any{}, func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") }).
			wantError(t, 403, "forbidden")
		c.do("POST", "/api/v1/setup", map[string]any{}, func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") }).
			wantError(t, 403, "forbidden")
	})
}

func TestSessions(t *testing.T) {
	w := newWorld(t)
	t.Run("SignIn", func(t *testing.T) {
		c := newClient(t, w.ts.URL)
		c.do("GET", "/api/v1/session", nil).wantError(t, 401, "unauthenticated")
		u := c.must(200, "POST", "/api/v1/session", map[string]any{"email": "BOB@example.com", "password": testPassword})["user"].(map[string]any)
		if id(u) != w.bobID || u["email"] != "bob@example.com" {
			t.Fatalf("signed in as %v", u)
		}
		if got := id(c.must(200, "GET", "/api/v1/session", nil)["user"]); got != w.bobID {
			t.Fatalf("session user %d", got)
		}
	})
	t.Run("WrongPasswordAndUnknownEmailAnswerAlike", func(t *testing.T) {
		c := newClient(t, w.ts.URL)
		wrong := c.do("POST", "/api/v1/session", map[string]any{"email": "carol@example.com", "password": "wrong password"})
		unknown := c.do("POST", "/api/v1/session", map[string]any{"email": "nobody@example.com", "password": "wrong password"})
		wrong.wantError(t, 401, "invalid_credentials")
		unknown.wantError(t, 401, "invalid_credentials")
		if string(wrong.body) != string(unknown.body) {
			t.Fatalf("answers differ: %s vs %s", wrong.body, unknown.body)
		}
	})
	t.Run("SignOutEndsTheSession", func(t *testing.T) {
		c := newClient(t, w.ts.URL)
		c.must(200, "POST", "/api/v1/session", map[string]any{"email": "carol@example.com", "password": testPassword})
		c.must(204, "DELETE", "/api/v1/session", nil)
		c.do("GET", "/api/v1/rooms", nil).wantError(t, 401, "unauthenticated")
		c.do("DELETE", "/api/v1/session", nil).wantError(t, 401, "unauthenticated")
	})
	t.Run("SignOutEndsTheSessionEverywhereItIsUsed", func(t *testing.T) {
		c := newClient(t, w.ts.URL)
		c.must(200, "POST", "/api/v1/session", map[string]any{"email": "carol@example.com", "password": testPassword})
		copyJar := newClient(t, w.ts.URL)
		u := mustURL(t, w.ts.URL)
		copyJar.http.Jar.SetCookies(u, c.http.Jar.Cookies(u))
		copyJar.must(200, "GET", "/api/v1/session", nil)
		c.must(204, "DELETE", "/api/v1/session", nil)
		copyJar.do("GET", "/api/v1/session", nil).wantError(t, 401, "unauthenticated")
	})
	t.Run("BearerTokenWorksForNonBrowserClients", func(t *testing.T) {
		c := newClient(t, w.ts.URL)
		c.must(200, "POST", "/api/v1/session", map[string]any{"email": "carol@example.com", "password": testPassword})
		token := c.http.Jar.Cookies(mustURL(t, w.ts.URL))[0].Value
		bare := newClient(t, w.ts.URL)
		r := bare.do("GET", "/api/v1/session", nil, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) })
		if r.status != 200 {
			t.Fatalf("bearer: %d %s", r.status, r.body)
		}
	})
	t.Run("LoginIsThrottledPerAccountAndPerAddress", func(t *testing.T) {
		// The clock stands still: on a busy machine the guesses (argon2
		// each) can take longer than the 18 s that refill a try.
		stopped := time.Now()
		w := newWorld(t, campfire.Config{
			ClientIP: func(r *http.Request) string { return r.Header.Get("X-Test-IP") },
			Now:      func() time.Time { return stopped },
		})
		from := func(ip string) func(*http.Request) { return func(r *http.Request) { r.Header.Set("X-Test-IP", ip) } }
		c := newClient(t, w.ts.URL)
		// Ten wrong guesses at one account from one address: the eleventh
		// try from there is refused even with the right password; from
		// another address the owner gets in (a stranger cannot lock them
		// out: TestLoginStrangersCannotLockTheOwnerOut).
		for range 10 {
			c.do("POST", "/api/v1/session", map[string]any{"email": "carol@example.com", "password": "wrong password"}, from("10.0.0.1")).
				wantError(t, 401, "invalid_credentials")
		}
		last := c.do("POST", "/api/v1/session", map[string]any{"email": "carol@example.com", "password": testPassword}, from("10.0.0.1"))
		last.wantError(t, 429, "rate_limited")
		if last.header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
		newClient(t, w.ts.URL).must(200, "POST", "/api/v1/session", map[string]any{"email": "carol@example.com", "password": testPassword})
		// Ten guesses from one address at ten accounts, known or not: the
		// address is refused, and so unknown emails are not told apart.
		for i := range 10 {
			c.do("POST", "/api/v1/session", map[string]any{"email": fmt.Sprintf("u%d@example.com", i), "password": "x"}, from("10.0.2.1")).
				wantError(t, 401, "invalid_credentials")
		}
		c.do("POST", "/api/v1/session", map[string]any{"email": "bob@example.com", "password": testPassword}, from("10.0.2.1")).
			wantError(t, 429, "rate_limited")
		// Others are not affected.
		c.must(200, "POST", "/api/v1/session", map[string]any{"email": "bob@example.com", "password": testPassword})
	})
}

func TestJoin(t *testing.T) {
	w := newWorld(t)
	t.Run("JoinsEveryOpenRoom", func(t *testing.T) {
		rooms := w.carol.must(200, "GET", "/api/v1/rooms", nil)["rooms"].([]any)
		if len(rooms) != 1 || id(rooms[0]) != w.allTalk {
			t.Fatalf("carol's rooms = %v, want All Talk only", rooms)
		}
	})
	t.Run("CodeWithoutDashesOrInUpperCaseWorks", func(t *testing.T) {
		code := strings.ToUpper(strings.ReplaceAll(w.joinCode, "-", ""))
		newClient(t, w.ts.URL).must(201, "POST", "/api/v1/join/"+code, map[string]any{"name": "Dan", "email": "dan@example.com", "password": testPassword})
	})
	t.Run("WrongCodeIs404", func(t *testing.T) {
		newClient(t, w.ts.URL).do("POST", "/api/v1/join/aaaa-bbbb-cccc", map[string]any{"name": "Eve", "email": "eve@example.com", "password": testPassword}).
			wantError(t, 404, "not_found")
	})
	t.Run("TakenEmailIs409", func(t *testing.T) {
		newClient(t, w.ts.URL).do("POST", "/api/v1/join/"+w.joinCode, map[string]any{"name": "Bob 2", "email": "Bob@Example.com", "password": testPassword}).
			wantError(t, 409, "conflict")
	})
	t.Run("RotatedCodeStopsTheOldOne", func(t *testing.T) {
		w.bob.do("POST", "/api/v1/account/join_code", nil).wantError(t, 403, "forbidden")
		code := w.admin.must(200, "POST", "/api/v1/account/join_code", nil)["join_code"].(string)
		if code == w.joinCode {
			t.Fatal("join code did not change")
		}
		newClient(t, w.ts.URL).do("POST", "/api/v1/join/"+w.joinCode, map[string]any{"name": "Fay", "email": "fay@example.com", "password": testPassword}).
			wantError(t, 404, "not_found")
		newClient(t, w.ts.URL).must(201, "POST", "/api/v1/join/"+code, map[string]any{"name": "Fay", "email": "fay@example.com", "password": testPassword})
	})
}

func TestAccount(t *testing.T) {
	w := newWorld(t)
	if got := w.bob.must(200, "GET", "/api/v1/account", nil); got["join_code"] != nil || got["name"] != "Campfire" {
		t.Fatalf("member sees account %v; want name and no join code", got)
	}
	w.bob.do("PATCH", "/api/v1/account", map[string]any{"name": "Bob's"}).wantError(t, 403, "forbidden")
	got := w.admin.must(200, "PATCH", "/api/v1/account", map[string]any{"name": "Acme", "settings": map[string]any{"restrict_room_creation_to_admins": true}})
	if got["name"] != "Acme" || got["settings"].(map[string]any)["restrict_room_creation_to_admins"] != true {
		t.Fatalf("account after update = %v", got)
	}
	w.bob.do("POST", "/api/v1/rooms", map[string]any{"kind": "open", "name": "Bob's room"}).wantError(t, 403, "forbidden")
	// Direct rooms are never restricted.
	w.bob.must(201, "POST", "/api/v1/rooms", map[string]any{"kind": "direct", "user_ids": []int64{w.carolID}})
	w.admin.do("PATCH", "/api/v1/account", map[string]any{"name": ""}).wantError(t, 422, "invalid")
}

func TestUsers(t *testing.T) {
	w := newWorld(t)
	t.Run("EmailsOnlyToAdminsAndSelf", func(t *testing.T) {
		for _, u := range w.bob.must(200, "GET", "/api/v1/users", nil)["users"].([]any) {
			m := u.(map[string]any)
			if _, has := m["email"]; has != (id(m) == w.bobID) {
				t.Fatalf("bob sees %v", m)
			}
		}
		for _, u := range w.admin.must(200, "GET", "/api/v1/users", nil)["users"].([]any) {
			if u.(map[string]any)["email"] == nil {
				t.Fatalf("admin does not see the email of %v", u)
			}
		}
	})
	t.Run("AutocompleteByRoomAndQuery", func(t *testing.T) {
		got := w.bob.must(200, "GET", fmt.Sprintf("/api/v1/users?room_id=%d&q=ad", w.secret), nil)["users"].([]any)
		if len(got) != 1 || id(got[0]) != w.adminID {
			t.Fatalf("secret members matching 'ad' = %v", got)
		}
		w.carol.do("GET", fmt.Sprintf("/api/v1/users?room_id=%d", w.secret), nil).wantError(t, 404, "not_found")
		w.carol.do("GET", "/api/v1/users?room_id=x", nil).wantError(t, 422, "invalid")
	})
	t.Run("ShowAndAvatar", func(t *testing.T) {
		u := w.carol.must(200, "GET", fmt.Sprintf("/api/v1/users/%d", w.bobID), nil)["user"].(map[string]any)
		if u["name"] != "Bob Marley" || u["avatar_url"] == "" {
			t.Fatalf("user = %v", u)
		}
		r := w.carol.do("GET", u["avatar_url"].(string), nil)
		if r.status != 200 || r.header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(string(r.body), ">BM<") {
			t.Fatalf("avatar: %d %s %s", r.status, r.header.Get("Content-Type"), r.body)
		}
		w.carol.do("GET", "/api/v1/users/999999", nil).wantError(t, 404, "not_found")
	})
	t.Run("ProfileEdits", func(t *testing.T) {
		phone := newClient(t, w.ts.URL)
		phone.must(200, "POST", "/api/v1/session", map[string]any{"email": "carol@example.com", "password": testPassword})
		u := w.carol.must(200, "PATCH", "/api/v1/users/me", map[string]any{"name": "Carol D", "bio": "pilot", "password": "a new password", "current_password": testPassword})["user"].(map[string]any)
		if u["name"] != "Carol D" || u["bio"] != "pilot" {
			t.Fatalf("profile = %v", u)
		}
		newClient(t, w.ts.URL).must(200, "POST", "/api/v1/session", map[string]any{"email": "carol@example.com", "password": "a new password"})
		// A new password signs out every other session; this browser stays
		// signed in, with the new token the answer set.
		phone.do("GET", "/api/v1/session", nil).wantError(t, 401, "unauthenticated")
		w.carol.must(200, "GET", "/api/v1/session", nil)
		w.carol.do("PATCH", "/api/v1/users/me", map[string]any{"bio": strings.Repeat("b", 201)}).wantError(t, 422, "invalid")
		w.carol.do("PATCH", "/api/v1/users/me", map[string]any{"password": "short"}).wantError(t, 422, "invalid")
	})
	t.Run("OnlyAdminsChangeRolesAndStatus", func(t *testing.T) {
		w.bob.do("PATCH", fmt.Sprintf("/api/v1/users/%d", w.carolID), map[string]any{"role": "admin"}).wantError(t, 403, "forbidden")
		w.admin.do("PATCH", fmt.Sprintf("/api/v1/users/%d", w.adminID), map[string]any{"status": "deactivated"}).wantError(t, 403, "forbidden")
		w.admin.do("PATCH", fmt.Sprintf("/api/v1/users/%d", w.carolID), map[string]any{"role": "bot"}).wantError(t, 422, "invalid")
		u := w.admin.must(200, "PATCH", fmt.Sprintf("/api/v1/users/%d", w.carolID), map[string]any{"role": "admin"})["user"].(map[string]any)
		if u["role"] != "admin" {
			t.Fatalf("role = %v", u["role"])
		}
		w.carol.must(200, "GET", "/api/v1/account", nil) // still signed in, now sees the join code
	})
	t.Run("DeactivationEndsSessionsAndMemberships", func(t *testing.T) {
		w.admin.must(200, "PATCH", fmt.Sprintf("/api/v1/users/%d", w.bobID), map[string]any{"status": "deactivated"})
		w.bob.do("GET", "/api/v1/rooms", nil).wantError(t, 401, "unauthenticated")
		newClient(t, w.ts.URL).do("POST", "/api/v1/session", map[string]any{"email": "bob@example.com", "password": testPassword}).
			wantError(t, 401, "invalid_credentials")
		w.admin.must(200, "PATCH", fmt.Sprintf("/api/v1/users/%d", w.bobID), map[string]any{"status": "active"})
		c := newClient(t, w.ts.URL)
		c.must(200, "POST", "/api/v1/session", map[string]any{"email": "bob@example.com", "password": testPassword})
		rooms := map[int64]bool{}
		for _, r := range c.must(200, "GET", "/api/v1/rooms", nil)["rooms"].([]any) {
			rooms[id(r)] = true
		}
		// Campfire keeps direct rooms and gives open rooms back; closed
		// rooms must be granted again.
		if !rooms[w.allTalk] || !rooms[w.dm] || rooms[w.secret] {
			t.Fatalf("reactivated bob's rooms = %v", rooms)
		}
	})
}

// TestPasswordChangeNeedsTheCurrentPassword: whoever holds a copy of a
// session cookie (a stolen session) cannot change the password, and so
// cannot take the account over; the owner, who knows the current password,
// can, and every other session ends, the thief's with it. Wrong tries are
// throttled per user like sign-ins.
func TestPasswordChangeNeedsTheCurrentPassword(t *testing.T) {
	// The clock stands still unless moved: on a busy machine the tries
	// (argon2 each) can take longer than the 18 s that refill one.
	start := time.Now()
	var elapsed atomic.Int64
	w := newWorld(t, campfire.Config{Now: func() time.Time { return start.Add(time.Duration(elapsed.Load())) }})
	base := mustURL(t, w.ts.URL)
	thief := newClient(t, w.ts.URL)
	thief.http.Jar.SetCookies(base, w.carol.http.Jar.Cookies(base))
	if got := thief.must(200, "GET", "/api/v1/session", nil)["user"]; id(got) != w.carolID {
		t.Fatalf("the copied cookie signs in as %v", got)
	}
	change := func(c *client, current any) *response {
		body := map[string]any{"password": "the thief's password"}
		if current != nil {
			body["current_password"] = current
		}
		return c.do("PATCH", "/api/v1/users/me", body)
	}
	wantField := func(r *response, message string) {
		t.Helper()
		e := r.wantError(t, 422, "invalid")
		if e["field"] != "current_password" || message != "" && e["message"] != message {
			t.Fatalf("refusal names %v: %v; want current_password: %q", e["field"], e["message"], message)
		}
	}
	wantField(change(thief, nil), "")
	wantField(change(thief, ""), "")
	wantField(change(thief, "a guess"), "current_password is wrong")
	// Nothing changed: the old password signs in, the thief's does not,
	// and the owner's browser is still signed in.
	newClient(t, w.ts.URL).must(200, "POST", "/api/v1/session", map[string]any{"email": "carol@example.com", "password": testPassword})
	newClient(t, w.ts.URL).do("POST", "/api/v1/session", map[string]any{"email": "carol@example.com", "password": "the thief's password"}).
		wantError(t, 401, "invalid_credentials")
	w.carol.must(200, "GET", "/api/v1/session", nil)

	// Ten guesses in all (the missing ones were none), then 429 with
	// Retry-After for this user, right password or not, until a try refills.
	for i := 1; i < 10; i++ {
		wantField(change(thief, fmt.Sprintf("guess %d", i)), "current_password is wrong")
	}
	r := change(thief, "guess 10")
	r.wantError(t, 429, "rate_limited")
	if r.header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	w.carol.do("PATCH", "/api/v1/users/me", map[string]any{"password": "carol's new password", "current_password": testPassword}).
		wantError(t, 429, "rate_limited")
	// Others are not held up.
	w.bob.must(200, "PATCH", "/api/v1/users/me", map[string]any{"password": "bob's new password", "current_password": testPassword})

	elapsed.Add(int64(18 * time.Second))
	w.carol.must(200, "PATCH", "/api/v1/users/me", map[string]any{"password": "carol's new password", "current_password": testPassword})
	thief.do("GET", "/api/v1/session", nil).wantError(t, 401, "unauthenticated")
	w.carol.must(200, "GET", "/api/v1/session", nil)
	newClient(t, w.ts.URL).must(200, "POST", "/api/v1/session", map[string]any{"email": "carol@example.com", "password": "carol's new password"})
	newClient(t, w.ts.URL).do("POST", "/api/v1/session", map[string]any{"email": "carol@example.com", "password": testPassword}).
		wantError(t, 401, "invalid_credentials")
	// A profile edit without a new password needs no current one.
	w.carol.must(200, "PATCH", "/api/v1/users/me", map[string]any{"bio": "pilot"})
}

func TestHostIdentity(t *testing.T) {
	auth := func(r *http.Request) (campfire.Identity, error) {
		switch r.Header.Get("X-User") {
		case "":
			return campfire.Identity{}, campfire.ErrUnauthenticated
		case "boss":
			return campfire.Identity{ExternalID: "boss", Name: "The Boss", Email: "boss@example.com", Admin: true}, nil
		case "broken":
			return campfire.Identity{}, errors.New("identity service down")
		default:
			return campfire.Identity{ExternalID: r.Header.Get("X-User"), Name: "Someone " + r.Header.Get("X-User")}, nil
		}
	}
	ts, _ := newServer(t, campfire.Config{Authenticate: auth})
	as := func(who string) func(*http.Request) { return func(r *http.Request) { r.Header.Set("X-User", who) } }
	c := newClient(t, ts.URL)
	c.do("GET", "/api/v1/rooms", nil).wantError(t, 401, "unauthenticated")
	c.do("GET", "/api/v1/rooms", nil, as("broken")).wantError(t, 500, "internal")
	c.do("POST", "/api/v1/setup", map[string]any{"name": "x"}).wantError(t, 404, "not_found")
	c.do("POST", "/api/v1/session", map[string]any{"email": "boss@example.com", "password": "x"}).wantError(t, 404, "not_found")
	r := c.do("GET", "/api/v1/session", nil, as("boss"))
	if r.status != 200 || r.json(t)["user"].(map[string]any)["role"] != "admin" {
		t.Fatalf("boss: %d %s", r.status, r.body)
	}
	r = c.do("POST", "/api/v1/rooms", map[string]any{"kind": "open", "name": "Everyone"}, as("boss"))
	if r.status != 201 {
		t.Fatalf("boss creates a room: %d %s", r.status, r.body)
	}
	r = c.do("GET", "/api/v1/rooms", nil, as("7"))
	if rooms := r.json(t)["rooms"].([]any); len(rooms) != 1 {
		t.Fatalf("a provisioned user sees %v; want the open room", rooms)
	}
	// A host identity has no password here to change or to set: the host's
	// sign-in is the only one.
	e := c.do("PATCH", "/api/v1/users/me", map[string]any{"password": "a password of mine", "current_password": ""}, as("7")).
		wantError(t, 422, "invalid")
	if e["field"] != "password" {
		t.Fatalf("refusal names %v, want password", e["field"])
	}
	if got := c.must(200, "GET", "/api/v1/features", nil)["features"].(map[string]any); got["builtin_auth"] != false {
		t.Fatalf("features = %v", got)
	}
}

func TestFeatures(t *testing.T) {
	w := newWorld(t, campfire.Config{Features: campfire.Features{DisableSearch: true, DisableBoosts: true}})
	f := newClient(t, w.ts.URL).must(200, "GET", "/api/v1/features", nil)["features"].(map[string]any)
	if f["search"] != false || f["boosts"] != false || f["builtin_auth"] != true {
		t.Fatalf("features = %v", f)
	}
	e := w.bob.do("GET", "/api/v1/search?q=hi", nil).wantError(t, 501, "feature_disabled")
	if !strings.Contains(e["message"].(string), "search") {
		t.Fatalf("message %q does not say which feature", e["message"])
	}
	m := w.bob.post(w.allTalk, "hi")
	w.bob.do("POST", roomPath(w.allTalk, fmt.Sprintf("/messages/%d/boosts", id(m))), map[string]any{"content": "👍"}).wantError(t, 501, "feature_disabled")
}
