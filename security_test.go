package campfire_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/opencampfire/campfire"
	"github.com/opencampfire/campfire/store/sqlite"
	"github.com/opencampfire/campfire/transport/sse"
	cfws "github.com/opencampfire/campfire/transport/websocket"
	"golang.org/x/crypto/argon2"
)

// The security tests prove what SECURITY.md promises about sessions,
// cross-site requests and overload, end to end through the HTTP API. Each
// names the promise it keeps.

// loginProbe is a Store that counts password lookups and can hand out a
// cheap password hash, so that a test can sign in a thousand times without
// a thousand argon2 runs (the hash format carries its own cost settings).
type loginProbe struct {
	campfire.Store
	lookups   atomic.Int64
	cheapHash atomic.Pointer[string]
}

func (p *loginProbe) UserByEmail(ctx context.Context, email string) (campfire.User, string, error) {
	p.lookups.Add(1)
	u, hash, err := p.Store.UserByEmail(ctx, email)
	if h := p.cheapHash.Load(); h != nil && err == nil && hash != "" {
		hash = *h
	}
	return u, hash, err
}

// cheapHash is pw hashed with argon2id at its smallest settings.
func cheapHash(pw string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, 1, 8, 1, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=8,t=1,p=1$%s$%s", argon2.Version, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// fromIP makes a request come from ip, for servers whose ClientIP reads
// X-Test-IP (see testClientIP).
func fromIP(ip string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("X-Test-IP", ip) }
}

func testClientIP(r *http.Request) string { return r.Header.Get("X-Test-IP") }

// sessionCookie finds the session cookie among an answer's Set-Cookie.
func sessionCookie(tb testing.TB, h http.Header) *http.Cookie {
	tb.Helper()
	res := http.Response{Header: h}
	for _, c := range res.Cookies() {
		if c.Name == "campfire_session" {
			return c
		}
	}
	tb.Fatalf("no campfire_session cookie in %q", h.Values("Set-Cookie"))
	return nil
}

// TestSessionCookieFlags: the session cookie is HttpOnly (no script reads
// it), SameSite=Lax (not sent on other sites' subrequests and posts),
// Path=/, host-only, and Secure whenever the request came over TLS; the
// cookie that signs out has the same flags.
func TestSessionCookieFlags(t *testing.T) {
	for _, tls := range []bool{true, false} {
		name := "PlainHTTP"
		if tls {
			name = "TLS"
		}
		t.Run(name, func(t *testing.T) {
			chat, err := campfire.New(campfire.Config{Store: openStore(t)})
			if err != nil {
				t.Fatal(err)
			}
			var ts *httptest.Server
			if tls {
				ts = httptest.NewTLSServer(chat)
			} else {
				ts = httptest.NewServer(chat)
			}
			t.Cleanup(func() { ts.Close(); chat.Shutdown(context.Background()) })
			c := newClient(t, ts.URL)
			c.http.Transport = ts.Client().Transport

			check := func(what string, r *response, wantMaxAge int) {
				t.Helper()
				ck := sessionCookie(t, r.header)
				if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" || ck.Secure != tls || ck.MaxAge != wantMaxAge {
					t.Errorf("%s: cookie %q: want HttpOnly, SameSite=Lax, Path=/, no Domain, Secure=%v, Max-Age %d", what, r.header.Values("Set-Cookie"), tls, wantMaxAge)
				}
			}
			year := int((365 * 24 * time.Hour).Seconds())
			r := c.do("POST", "/api/v1/setup", map[string]any{"name": "Ada", "email": "ada@example.com", "password": testPassword})
			if r.status != 201 {
				t.Fatalf("setup: %d %s", r.status, r.body)
			}
			check("setup", r, year)
			code := c.must(200, "GET", "/api/v1/account", nil)["join_code"].(string) // the cookie works

			r = c.do("POST", "/api/v1/session", map[string]any{"email": "ada@example.com", "password": testPassword})
			check("sign-in", r, year)

			bob := newClient(t, ts.URL)
			bob.http.Transport = ts.Client().Transport
			r = bob.do("POST", "/api/v1/join/"+code, map[string]any{"name": "Bob", "email": "bob@example.com", "password": testPassword})
			if r.status != 201 {
				t.Fatalf("join: %d %s", r.status, r.body)
			}
			check("join", r, year)

			r = c.do("DELETE", "/api/v1/session", nil)
			if r.status != 204 {
				t.Fatalf("sign-out: %d %s", r.status, r.body)
			}
			check("sign-out", r, -1) // Max-Age=0: delete it now
			if ck := sessionCookie(t, r.header); ck.Value != "" {
				t.Errorf("sign-out cookie keeps a value: %q", ck.Value)
			}
		})
	}
}

// TestSessionTokenEntropy: a token is 32 random bytes (43 base64url
// characters), a thousand sign-ins give a thousand different tokens, and
// the database holds only their SHA-256, never a token.
func TestSessionTokenEntropy(t *testing.T) {
	const sessions = 1000
	dbPath := filepath.Join(t.TempDir(), "chat.db")
	db, err := sqlite.Open(context.Background(), dbPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	probe := &loginProbe{Store: db}
	clock := &rtClock{}
	w := newWorld(t, campfire.Config{Store: probe, ClientIP: testClientIP, Now: clock.Now})
	h := cheapHash(testPassword)
	probe.cheapHash.Store(&h)

	tokens := make(map[string]bool, sessions)
	var ones, bits int
	for i := range sessions {
		// Sign-ins are throttled per address and per email: let the
		// clock run, and come from a new address each time.
		clock.Advance(18 * time.Second)
		r := w.bob.do("POST", "/api/v1/session", map[string]any{"email": "bob@example.com", "password": testPassword}, fromIP(fmt.Sprintf("10.1.%d.%d", i/250, i%250)))
		if r.status != 200 {
			t.Fatalf("sign-in %d: %d %s", i, r.status, r.body)
		}
		tok := sessionCookie(t, r.header).Value
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if len(tok) != 43 || err != nil || len(raw) != 32 {
			t.Fatalf("token %q: %d characters, %d bytes (%v); want 43 base64url characters of 32 bytes", tok, len(tok), len(raw), err)
		}
		if tokens[tok] {
			t.Fatalf("sign-in %d gave a token already given", i)
		}
		tokens[tok] = true
		for _, b := range raw {
			for j := range 8 {
				ones += int(b>>j) & 1
			}
			bits += 8
		}
	}
	// A loose sanity check on the bits (the chance that random bytes fail
	// it is far below 1e-30): catches a token padded with constant bytes.
	if frac := float64(ones) / float64(bits); frac < 0.48 || frac > 0.52 {
		t.Errorf("%.4f of the token bits are ones", frac)
	}

	// Every token works, as a cookie or a bearer token; only hashes are kept.
	var file []byte
	for _, name := range []string{dbPath, dbPath + "-wal"} {
		b, err := os.ReadFile(name)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		file = append(file, b...)
	}
	n := 0
	for tok := range tokens {
		if bytes.Contains(file, []byte(tok)) {
			t.Fatal("a session token is stored in the database")
		}
		if n < 20 { // a sample: each works as a bearer token
			n++
			r := newClient(t, w.ts.URL).do("GET", "/api/v1/session", nil, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) })
			if r.status != 200 {
				t.Fatalf("bearer token: %d %s", r.status, r.body)
			}
			sum := sha256.Sum256([]byte(tok))
			if _, _, err := db.Session(context.Background(), sum[:]); err != nil {
				t.Fatalf("the token's SHA-256 is not the session's key: %v", err)
			}
		}
	}
}

// sseStream is an open GET /api/v1/sse, its lines read by a goroutine.
type sseStream struct {
	tb    testing.TB
	lines chan string
}

func sseOpen(tb testing.TB, cl *client, query string) *sseStream {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", cl.base+"/api/v1/sse?"+query, nil)
	if err != nil {
		tb.Fatal(err)
	}
	res, err := cl.http.Do(req)
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		cancel()
		tb.Fatalf("GET /sse: %d %s", res.StatusCode, b)
	}
	st := &sseStream{tb: tb, lines: make(chan string, 1024)}
	go func() {
		defer close(st.lines)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			st.lines <- sc.Text()
		}
	}()
	tb.Cleanup(func() {
		cancel()
		res.Body.Close()
		for range st.lines {
		}
	})
	st.waitFor(`"type":"hello"`)
	return st
}

// waitFor reads lines until one contains substr.
func (st *sseStream) waitFor(substr string) {
	st.tb.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case line, ok := <-st.lines:
			if !ok {
				st.tb.Fatalf("stream ended before %s", substr)
			}
			if strings.Contains(line, substr) {
				return
			}
		case <-timeout:
			st.tb.Fatalf("no %s within 10s", substr)
		}
	}
}

// ended waits for the stream to end and returns the data of its close
// event ("" without one).
func (st *sseStream) ended() string {
	st.tb.Helper()
	timeout := time.After(10 * time.Second)
	closeData, inClose := "", false
	for {
		select {
		case line, ok := <-st.lines:
			if !ok {
				return closeData
			}
			if line == "event: close" {
				inClose = true
			} else if d, ok := strings.CutPrefix(line, "data: "); ok && inClose {
				closeData, inClose = d, false
			}
		case <-timeout:
			st.tb.Fatal("the stream is still open after 10s")
		}
	}
}

// TestSessionEndsWithItsSockets: signing out, or being deactivated, ends
// the session and every live connection it opened, WebSocket (1008
// "session ended") and SSE (a close event, then the end of the stream);
// signing out elsewhere leaves this device's connections alone.
func TestSessionEndsWithItsSockets(t *testing.T) {
	transports := func() []campfire.Transport { return []campfire.Transport{cfws.New(nil), sse.New(nil)} }
	wantSocketEnded := func(t *testing.T, rc *rtConn) {
		t.Helper()
		if code, reason := rc.closed(10 * time.Second); code != websocket.StatusPolicyViolation || reason != "session ended" {
			t.Fatalf("WebSocket closed with %d %q, want 1008 \"session ended\"", code, reason)
		}
	}
	wantStreamEnded := func(t *testing.T, st *sseStream) {
		t.Helper()
		var got struct {
			Code   int    `json:"code"`
			Reason string `json:"reason"`
		}
		data := st.ended()
		if err := json.Unmarshal([]byte(data), &got); err != nil || got.Code != 1008 || got.Reason != "session ended" {
			t.Fatalf("SSE stream ended with close event %q, want {code: 1008, reason: session ended}", data)
		}
	}
	signInAgain := func(t *testing.T, w *world, email string) *client {
		t.Helper()
		c := newClient(t, w.ts.URL)
		c.must(200, "POST", "/api/v1/session", map[string]any{"email": email, "password": testPassword})
		return c
	}

	t.Run("SignOut", func(t *testing.T) {
		w := rtWorld(t, campfire.Config{Transports: transports()})
		phone := signInAgain(t, w, "bob@example.com") // bob's other device
		ws, st := rtDial(t, w.bob, ""), sseOpen(t, w.bob, fmt.Sprint("rooms=", w.allTalk))
		phoneWS, phoneSSE := rtDial(t, phone, ""), sseOpen(t, phone, fmt.Sprint("rooms=", w.allTalk))
		token := w.bob.http.Jar.Cookies(mustURL(t, w.ts.URL))[0].Value

		w.bob.must(204, "DELETE", "/api/v1/session", nil)
		wantSocketEnded(t, ws)
		wantStreamEnded(t, st)
		newClient(t, w.ts.URL).do("GET", "/api/v1/session", nil, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }).
			wantError(t, 401, "unauthenticated")

		// The phone's session is another one: it goes on.
		phoneWS.subscribe(w.allTalk, nil)
		w.admin.post(w.allTalk, "still there, phone?")
		phoneWS.nextOf(5*time.Second, "message.created")
		phoneSSE.waitFor("still there, phone?")
		phone.must(200, "GET", "/api/v1/session", nil)
	})

	t.Run("Deactivation", func(t *testing.T) {
		w := rtWorld(t, campfire.Config{Transports: transports()})
		phone := signInAgain(t, w, "bob@example.com")
		var sockets []*rtConn
		var streams []*sseStream
		for _, c := range []*client{w.bob, phone} {
			sockets = append(sockets, rtDial(t, c, ""))
			streams = append(streams, sseOpen(t, c, fmt.Sprint("rooms=", w.allTalk)))
		}
		carol := rtDial(t, w.carol, "") // someone else, unaffected

		w.admin.must(200, "PATCH", fmt.Sprintf("/api/v1/users/%d", w.bobID), map[string]any{"status": "deactivated"})
		for i := range sockets {
			wantSocketEnded(t, sockets[i])
			wantStreamEnded(t, streams[i])
		}
		for _, c := range []*client{w.bob, phone} {
			c.do("GET", "/api/v1/session", nil).wantError(t, 401, "unauthenticated")
			c.do("POST", roomPath(w.allTalk, "/messages"), map[string]any{"body": "am I here?"}).wantError(t, 401, "unauthenticated")
		}
		newClient(t, w.ts.URL).do("POST", "/api/v1/session", map[string]any{"email": "bob@example.com", "password": testPassword}).
			wantError(t, 401, "invalid_credentials")
		carol.subscribe(w.allTalk, nil)

		// Reactivated, bob signs in anew: the ended sessions stay ended.
		w.admin.must(200, "PATCH", fmt.Sprintf("/api/v1/users/%d", w.bobID), map[string]any{"status": "active"})
		for _, c := range []*client{w.bob, phone} {
			c.do("GET", "/api/v1/session", nil).wantError(t, 401, "unauthenticated")
		}
		signInAgain(t, w, "bob@example.com").must(200, "GET", "/api/v1/session", nil)
	})
}

// unsafeRequest is one state-changing call of the API.
type unsafeRequest struct {
	method, path string
	body         any
}

// unsafeRequests is every state-changing endpoint of the API, each with a
// request that the admin is allowed to make, so that only the cross-origin
// rule can refuse it.
func unsafeRequests(tb testing.TB, w *world) []unsafeRequest {
	tb.Helper()
	msg := id(w.admin.post(w.allTalk, "a message to aim at"))
	boost := id(w.admin.must(201, "POST", roomPath(w.allTalk, fmt.Sprintf("/messages/%d/boosts", msg)), map[string]any{"content": "+1"})["boost"])
	bot := w.admin.do("POST", "/api/v1/account/bots", map[string]any{"name": "Robo"})
	botID := int64(1 << 40) // a bot that does not exist is refused all the same
	if bot.status == 201 {
		botID = id(bot.json(tb)["bot"])
	}
	m := fmt.Sprintf("/messages/%d", msg)
	return []unsafeRequest{
		{"POST", "/api/v1/setup", map[string]any{"name": "Mallory", "email": "m@evil.example", "password": testPassword}},
		{"POST", "/api/v1/session", map[string]any{"email": w.adminEmail, "password": testPassword}},
		{"DELETE", "/api/v1/session", nil},
		{"POST", "/api/v1/join/" + w.joinCode, map[string]any{"name": "Mallory", "email": "m@evil.example", "password": testPassword}},
		{"PATCH", "/api/v1/account", map[string]any{"name": "Pwned"}},
		{"POST", "/api/v1/account/join_code", nil},
		{"POST", "/api/v1/account/bots", map[string]any{"name": "Pwned"}},
		{"PATCH", fmt.Sprintf("/api/v1/account/bots/%d", botID), map[string]any{"name": "Pwned"}},
		{"POST", fmt.Sprintf("/api/v1/account/bots/%d/key", botID), nil},
		{"DELETE", fmt.Sprintf("/api/v1/account/bots/%d", botID), nil},
		{"PATCH", "/api/v1/users/me", map[string]any{"name": "Pwned"}},
		{"PATCH", fmt.Sprintf("/api/v1/users/%d", w.bobID), map[string]any{"status": "deactivated"}},
		{"POST", "/api/v1/rooms", map[string]any{"kind": "open", "name": "Pwned"}},
		{"PATCH", roomPath(w.secret, ""), map[string]any{"name": "Pwned"}},
		{"DELETE", roomPath(w.secret, ""), nil},
		{"PUT", roomPath(w.allTalk, "/involvement"), map[string]any{"involvement": "nothing"}},
		{"POST", roomPath(w.allTalk, "/read"), nil},
		{"POST", roomPath(w.allTalk, "/typing"), map[string]any{"state": "start"}},
		{"POST", roomPath(w.allTalk, "/presence"), map[string]any{"state": "present"}},
		{"POST", roomPath(w.allTalk, "/messages"), map[string]any{"body": "Pwned"}},
		{"PATCH", roomPath(w.allTalk, m), map[string]any{"body": "Pwned"}},
		{"DELETE", roomPath(w.allTalk, m), nil},
		{"POST", roomPath(w.allTalk, m+"/boosts"), map[string]any{"content": "Pwned"}},
		{"DELETE", roomPath(w.allTalk, fmt.Sprintf("%s/boosts/%d", m, boost)), nil},
	}
}

// TestCrossSiteUnsafeRequestsRefused: a page on another site (or another
// origin of the same site) cannot make a signed-in browser change
// anything: every unsafe endpoint answers 403 forbidden, by Sec-Fetch-Site,
// or by Origin against Host when the browser sends no Sec-Fetch-Site, and
// nothing changes.
func TestCrossSiteUnsafeRequestsRefused(t *testing.T) {
	w := newWorld(t)
	reqs := unsafeRequests(t, w)
	snapshot := func() string {
		var b strings.Builder
		for _, path := range []string{"/api/v1/account", "/api/v1/session", "/api/v1/rooms", "/api/v1/users?limit=500", roomPath(w.allTalk, "/messages"), "/api/v1/account/bots"} {
			r := w.admin.do("GET", path, nil)
			fmt.Fprintf(&b, "%s %d %s\n", path, r.status, r.body)
		}
		return b.String()
	}
	before := snapshot()
	origin := func(o string) func(*http.Request) { return func(r *http.Request) { r.Header.Set("Origin", o) } }
	fetchSite := func(site, o string) func(*http.Request) {
		return func(r *http.Request) {
			r.Header.Set("Sec-Fetch-Site", site)
			r.Header.Set("Origin", o)
		}
	}
	for _, attack := range []struct {
		name string
		set  func(*http.Request)
	}{
		{"SecFetchSiteCrossSite", fetchSite("cross-site", "https://evil.example")},
		{"SecFetchSiteSameSite", fetchSite("same-site", "http://other.127.0.0.1.nip.io")},
		{"SecFetchSiteCrossSiteClaimingOurOrigin", fetchSite("cross-site", w.ts.URL)},
		{"OriginOtherHost", origin("https://evil.example")},
		{"OriginOtherPort", origin("http://127.0.0.1:1")},
		{"OriginNull", origin("null")},
	} {
		t.Run(attack.name, func(t *testing.T) {
			for _, rq := range reqs {
				r := w.admin.do(rq.method, rq.path, rq.body, attack.set)
				if r.status != 403 {
					t.Errorf("%s %s: %d %s, want 403", rq.method, rq.path, r.status, r.body)
					continue
				}
				r.wantError(t, 403, "forbidden")
			}
		})
	}
	if after := snapshot(); after != before {
		t.Fatalf("refused requests changed something:\nbefore\n%s\nafter\n%s", before, after)
	}
}

// TestSameOriginAndNonBrowserRequestsPass: the client's own pages
// (Sec-Fetch-Site same-origin, or Origin equal to Host), a URL typed in
// the address bar (none) and clients that are not browsers (no header)
// are served.
func TestSameOriginAndNonBrowserRequestsPass(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		name string
		set  func(*http.Request)
	}{
		{"SecFetchSiteSameOrigin", func(r *http.Request) {
			r.Header.Set("Sec-Fetch-Site", "same-origin")
			r.Header.Set("Origin", w.ts.URL)
		}},
		{"OriginEqualsHost", func(r *http.Request) { r.Header.Set("Origin", w.ts.URL) }},
		{"SecFetchSiteNone", func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "none") }},
		{"NotABrowser", func(*http.Request) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			call := func(want int, method, path string, body any) map[string]any {
				t.Helper()
				r := w.bob.do(method, path, body, tc.set)
				if r.status != want {
					t.Fatalf("%s %s: %d %s, want %d", method, path, r.status, r.body, want)
				}
				if len(r.body) == 0 {
					return nil
				}
				return r.json(t)
			}
			msg := id(call(201, "POST", roomPath(w.allTalk, "/messages"), map[string]any{"body": "hello from " + tc.name})["message"])
			call(200, "PATCH", roomPath(w.allTalk, fmt.Sprintf("/messages/%d", msg)), map[string]any{"body": "edited"})
			call(200, "PUT", roomPath(w.allTalk, "/involvement"), map[string]any{"involvement": "mentions"})
			call(204, "DELETE", roomPath(w.allTalk, fmt.Sprintf("/messages/%d", msg)), nil)
		})
	}
}

// wsDial opens a WebSocket as cl with extra headers, returning the
// handshake's status.
func wsDial(tb testing.TB, cl *client, base string, h http.Header) (int, *websocket.Conn) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, res, err := websocket.Dial(ctx, rtURL(base), &websocket.DialOptions{HTTPClient: cl.http, HTTPHeader: h})
	if err == nil {
		tb.Cleanup(func() { c.CloseNow() })
		return res.StatusCode, c
	}
	if res == nil {
		tb.Fatalf("dial: %v", err)
	}
	return res.StatusCode, nil
}

// TestCrossOriginWebSocketRefused: a page of another origin cannot open a
// socket with the visitor's cookie (403), however it dresses the upgrade;
// the client's own pages and non-browser clients can. (TestRealtimeUpgradeRefused
// covers the plain case and the 401 without a session.)
func TestCrossOriginWebSocketRefused(t *testing.T) {
	w := rtWorld(t, campfire.Config{})
	for _, tc := range []struct {
		name string
		h    http.Header
		want int
	}{
		{"OtherOrigin", http.Header{"Origin": {"https://evil.example"}}, 403},
		{"OtherOriginCrossSite", http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}}, 403},
		{"SameSiteOtherOrigin", http.Header{"Origin": {"http://chat.127.0.0.1.nip.io"}, "Sec-Fetch-Site": {"same-site"}}, 403},
		{"OtherPort", http.Header{"Origin": {"http://127.0.0.1:1"}}, 403},
		{"NullOrigin", http.Header{"Origin": {"null"}}, 403},
		{"SameOrigin", http.Header{"Origin": {w.ts.URL}}, 101},
		{"SameOriginFetchMetadata", http.Header{"Origin": {w.ts.URL}, "Sec-Fetch-Site": {"same-origin"}}, 101},
		{"NotABrowser", nil, 101},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if status, _ := wsDial(t, w.bob, w.ts.URL, tc.h); status != tc.want {
				t.Fatalf("upgrade: %d, want %d", status, tc.want)
			}
		})
	}
}

// TestTrustedOrigins: an origin in Config.TrustedOrigins may make unsafe
// requests and open sockets; others still may not.
func TestTrustedOrigins(t *testing.T) {
	const app = "https://app.example.com"
	w := rtWorld(t, campfire.Config{TrustedOrigins: []string{app}})
	from := func(o, site string) func(*http.Request) {
		return func(r *http.Request) {
			r.Header.Set("Origin", o)
			if site != "" {
				r.Header.Set("Sec-Fetch-Site", site)
			}
		}
	}
	for _, site := range []string{"cross-site", "same-site", ""} {
		r := w.bob.do("POST", roomPath(w.allTalk, "/messages"), map[string]any{"body": "from the app"}, from(app, site))
		if r.status != 201 {
			t.Fatalf("trusted origin, Sec-Fetch-Site %q: %d %s", site, r.status, r.body)
		}
		for _, other := range []string{"https://evil.example", "http://app.example.com", "https://app.example.com:8443", "https://x.app.example.com"} {
			w.bob.do("POST", roomPath(w.allTalk, "/messages"), map[string]any{"body": "not trusted"}, from(other, site)).
				wantError(t, 403, "forbidden")
		}
	}

	if status, _ := wsDial(t, w.bob, w.ts.URL, http.Header{"Origin": {app}, "Sec-Fetch-Site": {"cross-site"}}); status != 101 {
		t.Fatalf("WebSocket from a trusted origin: %d, want 101", status)
	}
	if status, _ := wsDial(t, w.bob, w.ts.URL, http.Header{"Origin": {"https://evil.example"}}); status != 403 {
		t.Fatalf("WebSocket from another origin: %d, want 403", status)
	}
}

// TestLoginThrottleHoldsUnderABurst: fifty sign-in attempts from one
// address at once: at most ten are evaluated (password checked), the rest
// answer 429 with Retry-After without looking anything up.
func TestLoginThrottleHoldsUnderABurst(t *testing.T) {
	probe := &loginProbe{Store: openStore(t)}
	// The clock stands still, so that no try refills however slowly a
	// busy machine runs the ten argon2 checks.
	stopped := time.Now()
	w := newWorld(t, campfire.Config{Store: probe, ClientIP: testClientIP, Now: func() time.Time { return stopped }})
	const attempts = 50
	probe.lookups.Store(0)

	type answer struct {
		status     int
		retryAfter string
	}
	answers := make(chan answer, attempts)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range attempts {
		email := fmt.Sprintf("nobody%d@example.com", i)
		if i%2 == 0 {
			email = []string{w.adminEmail, "bob@example.com", "carol@example.com"}[i%3]
		}
		body, _ := json.Marshal(map[string]any{"email": email, "password": "not the password"})
		wg.Go(func() {
			<-start
			req, _ := http.NewRequest("POST", w.ts.URL+"/api/v1/session", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Test-IP", "203.0.113.9")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				answers <- answer{status: -1, retryAfter: err.Error()}
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			answers <- answer{res.StatusCode, res.Header.Get("Retry-After")}
		})
	}
	close(start)
	wg.Wait()
	close(answers)
	counts := map[int]int{}
	for a := range answers {
		counts[a.status]++
		if a.status == 429 && a.retryAfter == "" {
			t.Error("429 without Retry-After")
		}
	}
	evaluated := probe.lookups.Load()
	t.Logf("answers %v; %d evaluated", counts, evaluated)
	if counts[401]+counts[429] != attempts || counts[401] > 10 || counts[401] == 0 || evaluated != int64(counts[401]) {
		t.Fatalf("answers %v with %d evaluated; want at most 10 evaluated (401), the rest 429", counts, evaluated)
	}

	// The address stays refused, right password or not; others are served.
	w.bob.do("POST", "/api/v1/session", map[string]any{"email": "bob@example.com", "password": testPassword}, fromIP("203.0.113.9")).
		wantError(t, 429, "rate_limited")
	w.bob.must(200, "POST", "/api/v1/session", map[string]any{"email": "bob@example.com", "password": testPassword})

	// Guessing join codes is throttled the same way.
	statuses := map[int]int{}
	for i := range 15 {
		r := newClient(t, w.ts.URL).do("POST", fmt.Sprintf("/api/v1/join/aaaa-bbbb-%04d", i), map[string]any{"name": "M", "email": fmt.Sprintf("m%d@evil.example", i), "password": testPassword}, fromIP("203.0.113.10"))
		statuses[r.status]++
	}
	if statuses[404] > 10 || statuses[429] < 5 {
		t.Fatalf("15 join code guesses: %v, want at most 10 evaluated (404), then 429", statuses)
	}
}

// TestLoginDoesNotRevealEmails: a wrong password and an unknown email get
// the same answer, byte for byte, in about the same time (both run
// argon2: compare the medians).
func TestLoginDoesNotRevealEmails(t *testing.T) {
	w := newWorld(t, campfire.Config{ClientIP: testClientIP})
	c := newClient(t, w.ts.URL)
	n := 0
	attempt := func(email string) (*response, time.Duration) {
		n++ // a new address each time: the address throttle stays out of it
		start := time.Now()
		r := c.do("POST", "/api/v1/session", map[string]any{"email": email, "password": "wrong password"}, fromIP(fmt.Sprint("192.0.2.", n)))
		return r, time.Since(start)
	}
	known := []string{w.adminEmail, "bob@example.com", "carol@example.com"}
	// The first unknown email also makes the decoy hash: warm up.
	attempt("warm@example.com")
	attempt(known[0])

	var wrong, unknown []time.Duration
	var first *response
	for i := range 10 {
		for _, email := range []string{known[i%3], fmt.Sprintf("nobody%d@example.com", i)} {
			r, d := attempt(email)
			r.wantError(t, 401, "invalid_credentials")
			if first == nil {
				first = r
			}
			if !bytes.Equal(r.body, first.body) {
				t.Fatalf("answers differ: %s vs %s", r.body, first.body)
			}
			if got, want := headerNames(r.header), headerNames(first.header); !slices.Equal(got, want) {
				t.Fatalf("headers differ: %v vs %v", got, want)
			}
			if strings.HasPrefix(email, "nobody") {
				unknown = append(unknown, d)
			} else {
				wrong = append(wrong, d)
			}
		}
	}
	mw, mu := median(wrong), median(unknown)
	t.Logf("median wrong password %v, unknown email %v", mw, mu)
	if mw > 3*mu || mu > 3*mw {
		t.Fatalf("median wrong password %v vs unknown email %v: the time tells which emails exist", mw, mu)
	}
}

func headerNames(h http.Header) []string {
	var names []string
	for k := range h {
		if k != "Date" {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	return names
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// countingListener counts the bytes the server reads off its connections.
type countingListener struct {
	net.Listener
	read atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, read: &l.read}, nil
}

type countingConn struct {
	net.Conn
	read *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// countedServer serves chat on a listener that counts what it reads.
func countedServer(tb testing.TB, chat *campfire.Server) (*httptest.Server, *countingListener) {
	tb.Helper()
	ts := httptest.NewUnstartedServer(chat)
	cl := &countingListener{Listener: ts.Listener}
	ts.Listener = cl
	ts.Start()
	tb.Cleanup(ts.Close)
	return ts, cl
}

// heapWatch samples the heap in use until stopped, and reports the peak
// above the level when it started.
func heapWatch() (stop func() (peak, after int64)) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := int64(ms.HeapInuse)
	var max atomic.Int64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-t.C:
				runtime.ReadMemStats(&ms)
				if v := int64(ms.HeapInuse) - base; v > max.Load() {
					max.Store(v)
				}
			}
		}
	}()
	return func() (int64, int64) {
		close(done)
		<-finished
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return max.Load(), int64(ms.HeapInuse) - base
	}
}

// endlessJSON is the start of a JSON object whose string never ends, up
// to n bytes, made as it is read.
// The client may go on reading it after it has the answer: sent is atomic.
type endlessJSON struct {
	n    int64
	sent atomic.Int64
}

func (r *endlessJSON) Read(p []byte) (int, error) {
	sent := r.sent.Load()
	if sent >= r.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n-sent)]
	i := 0
	if sent == 0 {
		i = copy(p, `{"body":"`)
	}
	for ; i < len(p); i++ {
		p[i] = 'a'
	}
	r.sent.Add(int64(len(p)))
	return len(p), nil
}

const memorySlack = 20 << 20 // heap growth that counts as "not growing"

// TestOversizedBodyIsRefusedWithoutGrowingMemory: a 100 MB body is refused
// with 413 after reading about MaxBodyBytes (1 MiB by default), whether it
// declares its length or not, and the heap does not grow with it; an
// endpoint that takes no body does not read one either.
func TestOversizedBodyIsRefusedWithoutGrowingMemory(t *testing.T) {
	const size = 100 << 20
	const limit = 1 << 20 // the default MaxBodyBytes
	w := newWorld(t)
	ts, counted := countedServer(t, w.chat)
	for _, tc := range []struct {
		name, path string
		declared   bool
		want       int
	}{
		{"Declared", roomPath(w.allTalk, "/messages"), true, 413},
		{"Chunked", roomPath(w.allTalk, "/messages"), false, 413},
		{"SignIn", "/api/v1/session", false, 413},
		{"EndpointWithoutBody", roomPath(w.allTalk, "/read"), true, 204},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hc := &http.Client{Jar: w.bob.http.Jar, Transport: &http.Transport{}}
			defer hc.CloseIdleConnections()
			body := &endlessJSON{n: size}
			req, err := http.NewRequest("POST", ts.URL+tc.path, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			if tc.declared {
				req.ContentLength = size
			} else {
				req.ContentLength = -1
			}
			readBefore := counted.read.Load()
			stop := heapWatch()
			res, err := hc.Do(req)
			var status int
			var answer []byte
			if err == nil {
				status = res.StatusCode
				answer, _ = io.ReadAll(res.Body)
				res.Body.Close()
			}
			peak, after := stop()
			read := counted.read.Load() - readBefore
			t.Logf("answer %d %s; server read %d KiB; client sent %d KiB; heap peak +%d KiB, after +%d KiB", status, answer, read>>10, body.sent.Load()>>10, peak>>10, after>>10)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			if status != tc.want {
				t.Fatalf("status %d %s, want %d", status, answer, tc.want)
			}
			if tc.want == 413 && !bytes.Contains(answer, []byte(`"too_large"`)) {
				t.Fatalf("413 body %s, want code too_large", answer)
			}
			if read > limit+512<<10 {
				t.Fatalf("the server read %d bytes of a body limited to %d", read, limit)
			}
			if peak > memorySlack || after > memorySlack {
				t.Fatalf("heap grew by %d bytes at the peak, %d after", peak, after)
			}
		})
	}
	// Nothing was posted.
	for _, m := range w.bob.must(200, "GET", roomPath(w.allTalk, "/messages"), nil)["messages"].([]any) {
		if md := m.(map[string]any)["body"].(map[string]any)["markdown"].(string); strings.HasPrefix(md, "aaaa") {
			t.Fatal("an oversized body was stored")
		}
	}
}

// readFrame reads one server WebSocket frame (servers do not mask).
func readFrame(br *bufio.Reader) (opcode byte, payload []byte, err error) {
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		_, err = io.ReadFull(br, b[:])
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		_, err = io.ReadFull(br, b[:])
		n = binary.BigEndian.Uint64(b[:])
	}
	if err != nil {
		return 0, nil, err
	}
	if n > 1<<20 {
		return 0, nil, fmt.Errorf("server frame of %d bytes", n)
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(br, payload)
	return h[0] & 0x0f, payload, err
}

// TestOversizedWebSocketFrameWithoutGrowingMemory: one 50 MB text frame
// closes the connection with 1009 as soon as it passes the read limit (64
// KiB), and the heap does not grow with it. (TestRealtimeOversizedFrame
// covers a frame just over the limit through a WebSocket client.)
func TestOversizedWebSocketFrameWithoutGrowingMemory(t *testing.T) {
	const size = 50 << 20
	w := rtWorld(t, campfire.Config{})
	ts, counted := countedServer(t, w.chat)

	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	var cookies []string
	for _, c := range w.bob.http.Jar.Cookies(mustURL(t, ts.URL)) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	req, _ := http.NewRequest("GET", ts.URL+"/api/v1/ws", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	req.Header.Set("Cookie", strings.Join(cookies, "; "))
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, req)
	if err != nil || res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", res, err)
	}
	if op, hello, err := readFrame(br); err != nil || op != 1 || !bytes.Contains(hello, []byte(`"hello"`)) {
		t.Fatalf("first frame %d %q %v, want the hello", op, hello, err)
	}

	readBefore := counted.read.Load()
	stop := heapWatch()
	// One unfragmented text frame that says it holds 50 MB, masked as a
	// client's must be, written from one small buffer.
	mask := [4]byte{0x12, 0x34, 0x56, 0x78}
	header := []byte{0x81, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint64(header[2:], size)
	header = append(header, mask[:]...)
	chunk := make([]byte, 32<<10)
	for i := range chunk {
		chunk[i] = 'x' ^ mask[i%4]
	}
	var sent atomic.Int64
	writeDone := make(chan struct{})
	go func() {
		defer close(writeDone)
		if _, err := conn.Write(header); err != nil {
			return
		}
		for sent.Load() < size {
			n, err := conn.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	}()
	var code uint16
	var reason string
	for {
		op, payload, err := readFrame(br)
		if err != nil {
			t.Fatalf("no close frame: %v", err)
		}
		if op == 8 {
			if len(payload) >= 2 {
				code, reason = binary.BigEndian.Uint16(payload), string(payload[2:])
			}
			break
		}
	}
	conn.Close() // mid-frame: no close handshake can follow
	<-writeDone
	peak, after := stop()
	read := counted.read.Load() - readBefore
	t.Logf("closed %d %q after the server read %d KiB (client wrote %d KiB); heap peak +%d KiB, after +%d KiB", code, reason, read>>10, sent.Load()>>10, peak>>10, after>>10)
	if code != uint16(websocket.StatusMessageTooBig) {
		t.Fatalf("closed with %d %q, want 1009", code, reason)
	}
	if sent.Load() >= size {
		t.Fatal("the whole 50 MB frame was taken before the connection closed")
	}
	if peak > memorySlack || after > memorySlack {
		t.Fatalf("heap grew by %d bytes at the peak, %d after", peak, after)
	}

	// The others are not affected.
	rc := rtDial(t, w.carol, "")
	rc.subscribe(w.allTalk, nil)
}

// Behind a proxy that terminates TLS the request reaches campfire as plain
// HTTP; Config.SecureCookies still marks the cookie Secure, also when it is
// cleared at sign-out.
func TestSecureCookiesBehindATLSProxy(t *testing.T) {
	ts, _ := newServer(t, campfire.Config{SecureCookies: true})
	c := newClient(t, ts.URL)
	r := c.do("POST", "/api/v1/setup", map[string]any{"name": "Ada", "email": "ada@example.com", "password": testPassword})
	if r.status != 201 {
		t.Fatalf("setup: %d %s", r.status, r.body)
	}
	if ck := sessionCookie(t, r.header); !ck.Secure || !ck.HttpOnly {
		t.Fatalf("cookie %q: want Secure and HttpOnly", r.header.Values("Set-Cookie"))
	}
	token := sessionCookie(t, r.header).Value
	out := c.do("DELETE", "/api/v1/session", nil, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) })
	if out.status != 204 {
		t.Fatalf("sign out: %d %s", out.status, out.body)
	}
	if ck := sessionCookie(t, out.header); !ck.Secure || ck.MaxAge >= 0 {
		t.Fatalf("sign-out cookie %q: want Secure, expired", out.header.Values("Set-Cookie"))
	}
}
