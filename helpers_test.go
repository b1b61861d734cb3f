package campfire_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencampfire/campfire"
	"github.com/opencampfire/campfire/store/sqlite"
)

// openStore opens a SQLite store in a temp dir, closed when the test ends.
func openStore(tb testing.TB) *sqlite.Store {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "chat.db"), nil)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// newServer serves a campfire built from cfg (a SQLite store is added when
// cfg has none) and shuts it down when the test ends.
func newServer(tb testing.TB, cfg campfire.Config) (*httptest.Server, *campfire.Server) {
	tb.Helper()
	if cfg.Store == nil {
		cfg.Store = openStore(tb)
	}
	if cfg.PostRate == 0 {
		// Tests post faster than people; TestPostRateLimit tests the limit.
		// Unless a test sets a rate, the other write limits are off too
		// (TestWriteLimits tests them).
		cfg.PostRate = -1
		if cfg.Limits == (campfire.Limits{}) {
			off := campfire.Rate{PerSecond: -1}
			cfg.Limits = campfire.Limits{Posts: off, Edits: off, Rooms: off, Profile: off, Admin: off, Marks: off}
		}
	}
	chat, err := campfire.New(cfg)
	if err != nil {
		tb.Fatalf("campfire.New: %v", err)
	}
	ts := httptest.NewServer(chat)
	tb.Cleanup(func() {
		ts.Close()
		chat.Shutdown(context.Background())
	})
	return ts, chat
}

// client is one person's browser: a cookie jar and the server's address.
type client struct {
	tb   testing.TB
	base string
	http *http.Client
	user map[string]any
}

func newClient(tb testing.TB, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{tb: tb, base: base, http: &http.Client{Jar: jar}}
}

// response is an answer, its body kept for assertions.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends body as JSON (or as raw bytes when it is a []byte or string with
// a header set by opts) and returns the answer.
func (c *client) do(method, path string, body any, opts ...func(*http.Request)) *response {
	c.tb.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case []byte:
			rd = bytes.NewReader(b)
		case string:
			rd = strings.NewReader(b)
		default:
			enc, err := json.Marshal(b)
			if err != nil {
				c.tb.Fatal(err)
			}
			rd = bytes.NewReader(enc)
		}
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, o := range opts {
		o(req)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.tb.Fatal(err)
	}
	return &response{status: res.StatusCode, header: res.Header, body: b}
}

// must sends the request and fails the test unless the status is want.
func (c *client) must(want int, method, path string, body any) map[string]any {
	c.tb.Helper()
	r := c.do(method, path, body)
	if r.status != want {
		c.tb.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.status, want, r.body)
	}
	if len(r.body) == 0 {
		return nil
	}
	return r.json(c.tb)
}

func (r *response) json(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		tb.Fatalf("answer is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

// wantError checks the protocol's error shape, status and code.
func (r *response) wantError(tb testing.TB, status int, code string) map[string]any {
	tb.Helper()
	if r.status != status {
		tb.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Fatalf("error Content-Type %q, want application/json", ct)
	}
	var e struct {
		Error map[string]any `json:"error"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error == nil {
		tb.Fatalf("error body is not {\"error\": {...}}: %s", r.body)
	}
	if e.Error["code"] != code {
		tb.Fatalf("error code %v, want %q; body %s", e.Error["code"], code, r.body)
	}
	if msg, _ := e.Error["message"].(string); msg == "" {
		tb.Fatalf("error without a message: %s", r.body)
	}
	return e.Error
}

// world is an installation with three people and a room of each kind:
// admin (who set it up), bob and carol (who joined). "All Talk" is open;
// "Secret" is closed with admin and bob; a direct room joins admin and bob.
type world struct {
	ts                   *httptest.Server
	chat                 *campfire.Server
	admin, bob, carol    *client
	adminID, bobID       int64
	carolID              int64
	allTalk, secret, dm  int64
	joinCode             string
	adminEmail, password string
}

const testPassword = "correct horse battery"

func newWorld(tb testing.TB, cfgs ...campfire.Config) *world {
	tb.Helper()
	var cfg campfire.Config
	if len(cfgs) > 0 {
		cfg = cfgs[0]
	}
	ts, chat := newServer(tb, cfg)
	w := &world{ts: ts, chat: chat, adminEmail: "ada@example.com", password: testPassword}
	w.admin = newClient(tb, ts.URL)
	u := w.admin.must(201, "POST", "/api/v1/setup", map[string]any{"name": "Ada Lovelace", "email": w.adminEmail, "password": testPassword})
	w.adminID = id(u["user"])
	w.joinCode = w.admin.must(200, "GET", "/api/v1/account", nil)["join_code"].(string)
	w.bob, w.bobID = w.join(tb, "Bob Marley", "bob@example.com")
	w.carol, w.carolID = w.join(tb, "Carol Danvers", "carol@example.com")
	for _, r := range w.admin.must(200, "GET", "/api/v1/rooms", nil)["rooms"].([]any) {
		if r.(map[string]any)["name"] == "All Talk" {
			w.allTalk = id(r)
		}
	}
	w.secret = id(w.admin.must(201, "POST", "/api/v1/rooms", map[string]any{"kind": "closed", "name": "Secret", "user_ids": []int64{w.bobID}})["room"])
	w.dm = id(w.admin.must(201, "POST", "/api/v1/rooms", map[string]any{"kind": "direct", "user_ids": []int64{w.bobID}})["room"])
	return w
}

// join signs a new person up with the account's join code.
func (w *world) join(tb testing.TB, name, email string) (*client, int64) {
	tb.Helper()
	c := newClient(tb, w.ts.URL)
	u := c.must(201, "POST", "/api/v1/join/"+w.joinCode, map[string]any{"name": name, "email": email, "password": testPassword})
	c.user = u["user"].(map[string]any)
	return c, id(c.user)
}

// post posts markdown to a room and returns the message.
func (c *client) post(room int64, body string) map[string]any {
	c.tb.Helper()
	return c.must(201, "POST", fmt.Sprintf("/api/v1/rooms/%d/messages", room), map[string]any{"body": body})["message"].(map[string]any)
}

// id reads the "id" of a decoded JSON object.
func id(v any) int64 {
	m, ok := v.(map[string]any)
	if !ok {
		panic(fmt.Sprintf("not an object: %v", v))
	}
	return int64(m["id"].(float64))
}

func roomPath(room int64, rest string) string { return fmt.Sprintf("/api/v1/rooms/%d%s", room, rest) }

func mustURL(tb testing.TB, raw string) *url.URL {
	tb.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// newPrefixServer serves h and returns its URL.
func newPrefixServer(tb testing.TB, h http.Handler) string {
	ts := httptest.NewServer(h)
	tb.Cleanup(ts.Close)
	return ts.URL
}
