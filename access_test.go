package campfire_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/opencampfire/campfire"
	"github.com/opencampfire/campfire/transport/sse"
	cfws "github.com/opencampfire/campfire/transport/websocket"
	"golang.org/x/crypto/argon2"
)

// TestAccessMatrix is PROTOCOL.md's access rules as one generated table:
// every endpoint of http.go's routes (the bot paths included), the
// WebSocket subscribe frame and SSE's rooms= parameter, each asked by every
// actor about a room of every kind, against the answer the contract
// documents. A row is named "actor x kind x endpoint"; a failure says what
// it got and what it wanted.
//
// Actors, for a room R of each kind created by the creator:
//
//	non-member         a person not in R (closed and direct rooms)
//	member             a person in R who did not create it
//	creator            the person who created R
//	admin              an admin in R (not its creator)
//	deactivated        a person who was in R, then was deactivated: their
//	                   session ended with it. On the bot paths: the key of a
//	                   bot that was in R, then was deleted.
//	bot                a bot in R: its key in the bot paths; anywhere else
//	                   it presents the key as a session (Bearer)
//	admin-not-in-room  an admin who is not in R: being an admin opens no room
//	bot-not-in-room    a bot not in R: its key (as a session cookie elsewhere)
//
// People present their session cookie everywhere; on the bot paths their
// session token stands where the bot key goes (a session is no bot key).
//
// The documented answers:
//   - Outsiders (non-member, admin-not-in-room) get 404 not_found for every
//     room path, as if the room did not exist, and an error event not_found
//     for a subscription; account-wide endpoints answer them as anyone.
//   - The deactivated, and bots outside the bot paths, get 401
//     unauthenticated from everything that needs a session, and a refused
//     WebSocket upgrade or SSE stream (401). Endpoints that need no session
//     (features, setup, sign-in, join) answer them as anyone.
//   - Members read, post, boost, mark read, type and are present.
//   - PATCH /rooms/{id}: its creator or an admin (others 403); a direct
//     room cannot be changed (422 invalid, field kind). DELETE
//     /rooms/{id}: its creator or an admin (others 403); any participant of
//     a direct room.
//   - A message: its author or an admin edits and deletes it (403 for
//     everyone else, the room's creator included). A boost: its booster only
//     deletes it (403 for an admin too).
//   - The bot paths: the key of a bot in the room works, a bot not in the
//     room gets 404, anything else (a session token, a deleted bot's key)
//     401. A bot edits and deletes only its own messages and boosts (403).
//   - Account administration (PATCH /account, join code, bots, PATCH
//     /users/{id}): admins only (403).
//   - Ids of another room in a path or a cursor name nothing: 404, also for
//     an actor who may change what the id names; so do malformed ids. A
//     deleted room is 404 (a not_found error event) for everyone signed in;
//     a deleted message cannot be edited, deleted or boosted (404) but
//     stays a cursor. events?since= is a number, not an id: any value
//     answers the room's own events (or a resync).
//   - What a client says in a body about authorship, ids, times, a role or
//     someone else's membership is ignored: the caller is the author, the
//     server keeps the ids and the time.
//
// In an open room, every active user and bot is a member: open rooms take
// in every new user and bot too. The outsider rows (non-member,
// admin-not-in-room, bot-not-in-room) therefore do not exist for open
// rooms; they are listed and skipped with that reason (the member, admin
// and bot rows cover those people there).
//
// One server per room kind, shared by the rows. Everything a row may change
// (messages, boosts, rooms, bots, sessions) is made fresh for that row
// before the deactivations, so that the rows do not depend on each other;
// read-only rows share the fixture's messages and its deleted room. Mutating
// rows also check what the answer left behind: a refusal changed nothing.
// The table must name every route of http.go and of the transports
// (accCoversRoutes), so that a new endpoint cannot go unchecked.
func TestAccessMatrix(t *testing.T) {
	var cells, skipped atomic.Int64
	t.Run("kinds", func(t *testing.T) {
		for _, kind := range []string{"open", "closed", "direct"} {
			t.Run(kind, func(t *testing.T) {
				t.Parallel()
				f := accSetup(t, kind)
				eps := f.endpoints()
				accCoversRoutes(t, eps)
				var rows []*accRow
				for _, e := range eps {
					for _, a := range f.actors {
						r := &accRow{name: fmt.Sprintf("%s x %s x %s", a.name, kind, e.name), a: a}
						if kind == "open" && (a.idx == accNonMember || a.idx == accAdminOutside || a.idx == accBotOutside) {
							r.na = accOpenNA
						} else {
							r.wantStatus, r.wantCode = e.want(a)
							r.req = e.prep(t, a)
						}
						rows = append(rows, r)
					}
				}
				f.deactivate(t)
				for _, r := range rows {
					t.Run(r.name, func(t *testing.T) {
						if r.na != "" {
							skipped.Add(1)
							t.Skip(r.na)
						}
						cells.Add(1)
						f.exec(t, r)
					})
				}
			})
		}
	})
	t.Logf("%d cells checked, %d not applicable", cells.Load(), skipped.Load())
}

const accOpenNA = "not applicable: every active user and bot is a member of an open room " +
	"(open rooms take in new users and bots too), so no outsider of an open room exists"

// The actors, in the order of the table.
const (
	accNonMember = iota
	accMember
	accCreator
	accAdmin
	accDeactivated
	accBot
	accAdminOutside
	accBotOutside
	accNumActors
)

var accActorNames = [accNumActors]string{
	"non-member", "member", "creator", "admin", "deactivated", "bot", "admin-not-in-room", "bot-not-in-room",
}

type accActor struct {
	idx   int
	name  string
	id    int64
	email string
	bot   bool
	token string // a person's session token, a bot's key
}

// accPresent adds a's credential to h: a person's session cookie; the bot's
// key as a Bearer session token; the outside bot's as a session cookie.
func accPresent(h http.Header, a *accActor, token string) {
	if token == "" {
		token = a.token
	}
	if a.idx == accBot {
		h.Set("Authorization", "Bearer "+token)
		return
	}
	h.Add("Cookie", "campfire_session="+token)
}

// accReq is a row's request, prepared before the deactivations.
type accReq struct {
	method string
	path   string
	pathAt func(t *testing.T) string // the path, known only when the row runs
	body   any
	raw    bool   // body is raw text (the bot paths)
	anon   bool   // no credential but the path's
	token  string // a credential of a's other than its usual one
	ip     string // the client address login throttling counts
	// check looks further at a 2xx answer that was the wanted one; with
	// always, at a wanted refusal too (what the refusal left unchanged).
	check  func(t *testing.T, name string, res *response)
	always bool
	// before runs just before the request, when the row runs.
	before func(t *testing.T)
	// run replaces the request: a subscription, answering the upgrade's or
	// stream's status and the error code it got ("" when it was served).
	run func(t *testing.T) (int, string)
}

type accEndpoint struct {
	name string
	want func(a *accActor) (int, string)
	prep func(t *testing.T, a *accActor) accReq
}

type accRow struct {
	name       string
	na         string
	a          *accActor
	req        accReq
	wantStatus int
	wantCode   string
}

type accFixture struct {
	kind    string
	base    string
	hc      *http.Client
	actors  [accNumActors]*accActor
	ada     *accActor // the admin, who also makes the fixtures
	bob     *accActor // the creator
	carol   *accActor // the member
	eve     *accActor // deactivated before the rows run
	robo    *accActor // the bot in the room
	gone    *accActor // a bot in the room, deleted before the rows run
	room    int64     // R: the room of the kind
	other   int64     // All Talk: every actor is in it
	anchor  int64     // the creator's message in R with accWord
	cursor  int64     // a message of R with messages before and after it
	foreign int64     // a message of the other room
	dead    int64     // a room of the kind, deleted
	n       atomic.Int64
}

const accWord = "zebrafish"

// accCheapHash is testPassword hashed with argon2id at its smallest
// settings, so that the fixture's people sign in without argon2's cost
// (the hash carries its settings).
func accCheapHash(pw string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, 1, 8, 1, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=8,t=1,p=1$%s$%s", argon2.Version, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// accClientIP lets each sign-in come from its own address, so that login
// throttling never answers a row.
func accClientIP(r *http.Request) string {
	if ip := r.Header.Get("X-Test-IP"); ip != "" {
		return ip
	}
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	return host
}

func (f *accFixture) uniq() int64 { return f.n.Add(1) }

func (f *accFixture) ip() string {
	n := f.uniq()
	return fmt.Sprintf("10.%d.%d.%d", n/62500%250, n/250%250, n%250+1)
}

func accSetup(t *testing.T, kind string) *accFixture {
	t.Helper()
	db := openStore(t)
	ctx := context.Background()
	hash := accCheapHash(testPassword)
	_, admin, _, err := db.Setup(ctx, campfire.Setup{
		AccountName: "Campfire", JoinCode: "abcd-efgh-jkmn", RoomName: "All Talk",
		Admin: campfire.NewUser{Name: "Ada Lovelace", Email: "ada@example.com", PasswordHash: hash, Role: campfire.RoleAdmin},
	})
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	ts, _ := newServer(t, campfire.Config{
		Store:      db,
		Transports: []campfire.Transport{cfws.New(nil), sse.New(nil)},
		ClientIP:   accClientIP,
	})
	// No cookie jar: every request carries its actor's credential itself, so
	// that no answer (a sign-in, a join) can change who a later row is.
	f := &accFixture{kind: kind, base: ts.URL, hc: &http.Client{}}

	person := func(idx int, u campfire.User) *accActor {
		a := &accActor{idx: idx, name: accActorNames[idx], id: u.ID, email: u.Email}
		a.token = f.login(t, u.Email)
		f.actors[idx] = a
		return a
	}
	newUser := func(name, email string, role campfire.Role) campfire.User {
		u, err := db.CreateUser(ctx, campfire.NewUser{Name: name, Email: email, PasswordHash: hash, Role: role})
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		return u
	}
	f.ada = person(accAdmin, admin)
	f.bob = person(accCreator, newUser("Bob Marley", "bob@example.com", campfire.RoleMember))
	f.carol = person(accMember, newUser("Carol Danvers", "carol@example.com", campfire.RoleMember))
	person(accNonMember, newUser("Dave Grohl", "dave@example.com", campfire.RoleMember))
	f.eve = person(accDeactivated, newUser("Eve Online", "eve@example.com", campfire.RoleMember))
	person(accAdminOutside, newUser("Grace Hopper", "grace@example.com", campfire.RoleAdmin))
	bot := func(idx int, name string) *accActor {
		id, key := f.newBot(t, name)
		a := &accActor{idx: idx, name: name, id: id, bot: true, token: key}
		if idx >= 0 {
			a.name = accActorNames[idx]
			f.actors[idx] = a
		}
		return a
	}
	f.robo = bot(accBot, "Robo")
	bot(accBotOutside, "Stray")
	f.gone = bot(-1, "Gone")

	for _, r := range f.must(t, f.ada, 200, "GET", "/api/v1/rooms", nil)["rooms"].([]any) {
		if r.(map[string]any)["name"] == "All Talk" {
			f.other = id(r)
		}
	}
	if f.other == 0 {
		t.Fatal("no All Talk")
	}
	f.room = id(f.newRoom(t, "Target")["room"])
	f.anchor = id(f.post(t, f.bob, f.room, "a "+accWord+" sighting"))
	f.cursor = id(f.post(t, f.carol, f.room, "a cursor"))
	f.post(t, f.ada, f.room, "after the cursor")
	f.foreign = id(f.post(t, f.carol, f.other, "a message elsewhere"))
	f.dead = id(f.newRoom(t, "Deleted")["room"])
	f.post(t, f.carol, f.dead, "soon gone")
	f.must(t, f.bob, 204, "DELETE", fmt.Sprintf("/api/v1/rooms/%d", f.dead), nil)

	// The fixture is what the table says it is.
	members := map[int64]bool{}
	for _, u := range f.must(t, f.bob, 200, "GET", fmt.Sprintf("/api/v1/users?room_id=%d&limit=500", f.room), nil)["users"].([]any) {
		members[id(u)] = true
	}
	for _, a := range append(f.actors[:], f.gone) {
		in := a.idx != accNonMember && a.idx != accAdminOutside && a.idx != accBotOutside || kind == "open"
		if members[a.id] != in {
			t.Fatalf("fixture: %s in the %s room: %v, want %v", a.name, kind, members[a.id], in)
		}
	}
	return f
}

// deactivate ends the deactivated actors: the admin deactivates the person
// and deletes the bot.
func (f *accFixture) deactivate(t *testing.T) {
	t.Helper()
	f.must(t, f.ada, 200, "PATCH", fmt.Sprintf("/api/v1/users/%d", f.eve.id), map[string]any{"status": "deactivated"})
	f.must(t, f.ada, 204, "DELETE", fmt.Sprintf("/api/v1/account/bots/%d", f.gone.id), nil)
}

func (f *accFixture) client(tb testing.TB) *client {
	return &client{tb: tb, base: f.base, http: f.hc}
}

// login signs in by email and returns the session token.
func (f *accFixture) login(tb testing.TB, email string) string {
	tb.Helper()
	ip := f.ip()
	res := f.client(tb).do("POST", "/api/v1/session", map[string]any{"email": email, "password": testPassword},
		func(r *http.Request) { r.Header.Set("X-Test-IP", ip) })
	if res.status != 200 {
		tb.Fatalf("sign in %s: %d %s", email, res.status, res.body)
	}
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.Name == "campfire_session" && c.Value != "" {
			return c.Value
		}
	}
	tb.Fatalf("sign in %s: no session cookie", email)
	return ""
}

// must sends a request as a (a person, by session) and fails unless the
// status is want.
func (f *accFixture) must(tb testing.TB, a *accActor, want int, method, path string, body any) map[string]any {
	tb.Helper()
	res := f.client(tb).do(method, path, body, func(r *http.Request) { accPresent(r.Header, a, "") })
	if res.status != want {
		tb.Fatalf("fixture: %s %s as %s: %d, want %d; %s", method, path, a.name, res.status, want, res.body)
	}
	if len(res.body) == 0 {
		return nil
	}
	return res.json(tb)
}

// newBot has the admin create a bot; it joins the open rooms.
func (f *accFixture) newBot(tb testing.TB, name string) (int64, string) {
	tb.Helper()
	res := f.must(tb, f.ada, 201, "POST", "/api/v1/account/bots", map[string]any{"name": name})
	return id(res["bot"]), res["bot_key"].(string)
}

// newRoom has the creator make a room of the fixture's kind with R's
// people; a direct room also gets a new bot of its own, since a direct room
// is one per set of people.
func (f *accFixture) newRoom(tb testing.TB, name string) map[string]any {
	tb.Helper()
	ids := []int64{f.carol.id, f.ada.id, f.eve.id, f.robo.id, f.gone.id}
	body := map[string]any{"kind": f.kind}
	switch f.kind {
	case "open":
		body["name"] = name
	case "closed":
		body["name"], body["user_ids"] = name, ids
	case "direct":
		if name != "Target" {
			filler, _ := f.newBot(tb, fmt.Sprintf("Filler %d", f.uniq()))
			ids = append(ids, filler)
		}
		body["user_ids"] = ids
	}
	return f.must(tb, f.bob, 201, "POST", "/api/v1/rooms", body)
}

// deletedMessage is a message of R that its author deleted: a's own, or
// someone else's for those with none.
func (f *accFixture) deletedMessage(tb testing.TB, a *accActor) int64 {
	tb.Helper()
	p := f.own(a, false)
	if p == nil || p.bot {
		p = f.someoneElse(a)
	}
	mid := id(f.post(tb, p, f.room, fmt.Sprintf("deleted %d", f.uniq())))
	f.must(tb, p, 204, "DELETE", fmt.Sprintf("/api/v1/rooms/%d/messages/%d", f.room, mid), nil)
	return mid
}

// post posts text to room as p, a person through the API, a bot through
// its path.
func (f *accFixture) post(tb testing.TB, p *accActor, room int64, text string) map[string]any {
	tb.Helper()
	if p.bot {
		res := f.client(tb).do("POST", fmt.Sprintf("/api/v1/rooms/%d/%s/messages", room, p.token), text, accRawBody)
		if res.status != 201 {
			tb.Fatalf("fixture: %s posts: %d %s", p.name, res.status, res.body)
		}
		return res.json(tb)["message"].(map[string]any)
	}
	return f.must(tb, p, 201, "POST", fmt.Sprintf("/api/v1/rooms/%d/messages", room), map[string]any{"body": text})["message"].(map[string]any)
}

// boost boosts a message of room as p.
func (f *accFixture) boost(tb testing.TB, p *accActor, room, mid int64) map[string]any {
	tb.Helper()
	if p.bot {
		res := f.client(tb).do("POST", fmt.Sprintf("/api/v1/rooms/%d/%s/messages/%d/boosts", room, p.token, mid), "🤖", accRawBody)
		if res.status != 201 {
			tb.Fatalf("fixture: %s boosts: %d %s", p.name, res.status, res.body)
		}
		return res.json(tb)["boost"].(map[string]any)
	}
	return f.must(tb, p, 201, "POST", fmt.Sprintf("/api/v1/rooms/%d/messages/%d/boosts", room, mid), map[string]any{"content": "👍"})["boost"].(map[string]any)
}

func accRawBody(r *http.Request) { r.Header.Set("Content-Type", "text/plain; charset=utf-8") }

// lookup returns the live message mid of room as the creator sees it, or
// nil when it is gone.
func (f *accFixture) lookup(tb testing.TB, room, mid int64) map[string]any {
	tb.Helper()
	res := f.must(tb, f.bob, 200, "GET", fmt.Sprintf("/api/v1/rooms/%d/messages?around=%d&limit=1", room, mid), nil)
	for _, m := range res["messages"].([]any) {
		if id(m) == mid {
			return m.(map[string]any)
		}
	}
	return nil
}

// own is who posts a's own messages for a row: a, or on the bot paths the
// deleted bot for the deactivated actor; nil for outsiders, who have none
// in R.
func (f *accFixture) own(a *accActor, botPath bool) *accActor {
	switch {
	case botPath && a.idx == accDeactivated:
		return f.gone
	case a.idx == accNonMember || a.idx == accAdminOutside || a.idx == accBotOutside:
		return nil
	}
	return a
}

// elsewhere is who posts a's own messages in the other room (everyone is in it).
func (f *accFixture) elsewhere(a *accActor, botPath bool) *accActor {
	if botPath && a.idx == accDeactivated {
		return f.gone
	}
	return a
}

// someoneElse is the author of "another's" message for a: the member, or
// the creator when a is the member.
func (f *accFixture) someoneElse(a *accActor) *accActor {
	if a.idx == accMember {
		return f.bob
	}
	return f.carol
}

// key is what a puts where the bot key goes: a bot's key, the deleted
// bot's for the deactivated actor, a person's session token.
func (f *accFixture) key(a *accActor) string {
	if a.idx == accDeactivated {
		return f.gone.token
	}
	return a.token
}

type accClass int

const (
	accIn     accClass = iota // may see the room
	accHidden                 // signed in, not in the room
	accUnauth                 // no session
)

// class is a's standing on the session routes for R.
func (f *accFixture) class(a *accActor) accClass {
	switch a.idx {
	case accDeactivated, accBot, accBotOutside:
		return accUnauth
	case accNonMember, accAdminOutside:
		if f.kind == "open" {
			return accIn
		}
		return accHidden
	}
	return accIn
}

func accErrCode(body []byte) string {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	return e.Error.Code
}

func (f *accFixture) exec(t *testing.T, r *accRow) {
	if r.req.run != nil {
		status, code := r.req.run(t)
		if status != r.wantStatus || code != r.wantCode {
			t.Fatalf("%s: got %d %s, want %d %s", r.name, status, accOr(code), r.wantStatus, accOr(r.wantCode))
		}
		return
	}
	if r.req.before != nil {
		r.req.before(t)
	}
	res := f.send(t, r.a, r.req)
	code := accErrCode(res.body)
	if res.status != r.wantStatus || code != r.wantCode {
		t.Fatalf("%s: got %d %s, want %d %s; body %.300s", r.name, res.status, accOr(code), r.wantStatus, accOr(r.wantCode), res.body)
	}
	if strings.HasPrefix(res.header.Get("Content-Type"), "application/json") && res.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("%s: a JSON answer without X-Content-Type-Options: nosniff", r.name)
	}
	if res.status >= 400 {
		var e struct {
			Error map[string]any `json:"error"`
		}
		err := json.Unmarshal(res.body, &e)
		if msg, _ := e.Error["message"].(string); err != nil || msg == "" || !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
			t.Fatalf("%s: error not in the protocol's shape: %s %s", r.name, res.header.Get("Content-Type"), res.body)
		}
	}
	if r.req.check != nil && (res.status < 300 || r.req.always) {
		r.req.check(t, r.name, res)
	}
}

func accOr(code string) string {
	if code == "" {
		return "(no error)"
	}
	return code
}

func (f *accFixture) send(t *testing.T, a *accActor, q accReq) *response {
	path := q.path
	if q.pathAt != nil {
		path = q.pathAt(t)
	}
	var opts []func(*http.Request)
	if !q.anon {
		opts = append(opts, func(r *http.Request) { accPresent(r.Header, a, q.token) })
	}
	if q.raw {
		opts = append(opts, accRawBody)
	}
	if q.ip != "" {
		opts = append(opts, func(r *http.Request) { r.Header.Set("X-Test-IP", q.ip) })
	}
	return f.client(t).do(q.method, path, q.body, opts...)
}

// wsSubscribe opens a WebSocket as a and subscribes to room from seq 0:
// 101 and "" when events of the room arrive, 101 and the code of an error
// event for the room, or the refused upgrade's status and code.
func (f *accFixture) wsSubscribe(t *testing.T, name string, a *accActor, room int64) (int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h := http.Header{}
	accPresent(h, a, "")
	c, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(f.base, "http")+"/api/v1/ws", &websocket.DialOptions{HTTPClient: f.hc, HTTPHeader: h})
	if err != nil {
		if res == nil {
			t.Fatalf("%s: dial: %v", name, err)
		}
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, accErrCode(b)
	}
	defer c.CloseNow()
	c.SetReadLimit(-1)
	frame, _ := json.Marshal(map[string]any{"type": "subscribe", "room_id": room, "since": 0})
	if err := c.Write(ctx, websocket.MessageText, frame); err != nil {
		t.Fatalf("%s: send subscribe: %v", name, err)
	}
	for {
		_, msg, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("%s: no answer for room %d: %v", name, room, err)
		}
		for line := range bytes.SplitSeq(msg, []byte("\n")) {
			if code, done := accEventAnswer(line, room); done {
				return res.StatusCode, code
			}
		}
	}
}

// sseSubscribe opens GET /sse?rooms=ROOM:0 as a: 200 and "" when events of
// the room arrive, 200 and the code of an error event for the room, or the
// refused stream's status and code.
func (f *accFixture) sseSubscribe(t *testing.T, name string, a *accActor, room int64) (int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/api/v1/sse?rooms=%d:0", f.base, room), nil)
	if err != nil {
		t.Fatal(err)
	}
	accPresent(req.Header, a, "")
	res, err := f.hc.Do(req)
	if err != nil {
		t.Fatalf("%s: GET /sse: %v", name, err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, accErrCode(b)
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 8<<20)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			if code, done := accEventAnswer([]byte(data), room); done {
				return res.StatusCode, code
			}
		}
	}
	t.Fatalf("%s: the stream ended without an answer for room %d: %v", name, room, sc.Err())
	return 0, ""
}

// accEventAnswer reads one event: done when it is an error event for room
// (its code) or a durable event of room.
func accEventAnswer(line []byte, room int64) (string, bool) {
	var ev struct {
		Type   string `json:"type"`
		RoomID int64  `json:"room_id"`
		Seq    int64  `json:"seq"`
		Data   struct {
			Code string `json:"code"`
		} `json:"data"`
	}
	if json.Unmarshal(line, &ev) != nil || ev.RoomID != room {
		return "", false
	}
	if ev.Type == "error" {
		return ev.Data.Code, true
	}
	return "", ev.Seq > 0
}

func accObj(tb testing.TB, res *response, key string) map[string]any {
	tb.Helper()
	m, ok := res.json(tb)[key].(map[string]any)
	if !ok {
		tb.Fatalf("answer without %q: %s", key, res.body)
	}
	return m
}

func accList(tb testing.TB, res *response, key string) []any {
	tb.Helper()
	l, ok := res.json(tb)[key].([]any)
	if !ok {
		tb.Fatalf("answer without the list %q: %s", key, res.body)
	}
	return l
}

func accInt(v any) int64 {
	n, _ := v.(float64)
	return int64(n)
}

// accRecent checks that a time the server wrote is its own: RFC 3339, not
// before the row was prepared, not in the future.
func accRecent(t *testing.T, name, what string, v any, since time.Time) {
	t.Helper()
	s, _ := v.(string)
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || at.Before(since.Add(-2*time.Second)) || at.After(time.Now().Add(2*time.Second)) {
		t.Fatalf("%s: %s %q is not the server's time (row prepared at %s)", name, what, s, since.UTC().Format(time.RFC3339))
	}
}

// The fields a client might claim in a body: another author, ids, times.
const accForgedTime = "2001-02-03T04:05:06Z"

func (f *accFixture) victim(a *accActor) int64 {
	if a.idx == accAdmin {
		return f.bob.id
	}
	return f.ada.id
}

func (f *accFixture) endpoints() []accEndpoint {
	R, O, kind := f.room, f.other, f.kind
	rp := func(format string, args ...any) string {
		return fmt.Sprintf("/api/v1/rooms/%d", R) + fmt.Sprintf(format, args...)
	}
	type want = func(a *accActor) (int, string)
	st := func(status int) want { return func(*accActor) (int, string) { return status, "" } }
	anyone := func(status int, code string) want { return func(*accActor) (int, string) { return status, code } }
	person := func(status int) want {
		return func(a *accActor) (int, string) {
			if f.class(a) == accUnauth {
				return 401, "unauthenticated"
			}
			return status, ""
		}
	}
	admin := func(status int) want {
		return func(a *accActor) (int, string) {
			switch {
			case f.class(a) == accUnauth:
				return 401, "unauthenticated"
			case a.idx == accAdmin || a.idx == accAdminOutside:
				return status, ""
			}
			return 403, "forbidden"
		}
	}
	inRoom := func(in want) want {
		return func(a *accActor) (int, string) {
			switch f.class(a) {
			case accUnauth:
				return 401, "unauthenticated"
			case accHidden:
				return 404, "not_found"
			}
			return in(a)
		}
	}
	onBotPath := func(in want) want {
		return func(a *accActor) (int, string) {
			switch a.idx {
			case accBot:
				return in(a)
			case accBotOutside:
				return 404, "not_found"
			}
			return 401, "unauthenticated"
		}
	}
	adminOr403 := func(status int) want {
		return func(a *accActor) (int, string) {
			if a.idx == accAdmin {
				return status, ""
			}
			return 403, "forbidden"
		}
	}
	// subscribed: the connection is served (status), and a room the caller
	// cannot see gets an error event not_found on it.
	subscribed := func(status int, code string) want {
		return func(a *accActor) (int, string) {
			switch f.class(a) {
			case accUnauth:
				return 401, "unauthenticated"
			case accHidden:
				return status, "not_found"
			}
			return status, code
		}
	}
	deletedRoom := func(a *accActor) (int, string) {
		if f.class(a) == accUnauth {
			return 401, "unauthenticated"
		}
		return 404, "not_found"
	}
	notFound := anyone(404, "not_found")
	forbidden := anyone(403, "forbidden")
	changeRoom := func(status int) want { // PATCH /rooms/{id}
		return func(a *accActor) (int, string) {
			switch {
			case a.idx != accCreator && a.idx != accAdmin:
				return 403, "forbidden"
			case kind == "direct":
				return 422, "invalid"
			}
			return status, ""
		}
	}
	deleteRoom := func(a *accActor) (int, string) {
		if kind != "direct" && a.idx != accCreator && a.idx != accAdmin {
			return 403, "forbidden"
		}
		return 204, ""
	}
	plain := func(method, path string, body any) func(*testing.T, *accActor) accReq {
		return func(*testing.T, *accActor) accReq { return accReq{method: method, path: path, body: body} }
	}
	// botReq is a request on the bot paths of R: bots (and the deleted
	// bot's key) with nothing but the key, people with their session too.
	botReq := func(a *accActor, room int64, method, rest, body string) accReq {
		q := accReq{method: method, path: fmt.Sprintf("/api/v1/rooms/%d/%s/messages%s", room, f.key(a), rest), raw: true}
		if body != "" {
			q.body = body
		}
		q.anon = a.bot || a.idx == accDeactivated
		return q
	}
	// ownOrOther is a fresh message of R: a's own (as own says), else
	// someone else's.
	ownOrOther := func(t *testing.T, a *accActor, botPath bool) map[string]any {
		p := f.own(a, botPath)
		if p == nil {
			p = f.someoneElse(a)
		}
		return f.post(t, p, R, fmt.Sprintf("for %s to change, %d", a.name, f.uniq()))
	}
	others := func(t *testing.T, a *accActor) map[string]any {
		return f.post(t, f.someoneElse(a), R, fmt.Sprintf("not %s's, %d", a.name, f.uniq()))
	}
	// changed checks a PATCH of message mid: the new body when it answered
	// 200, else the old one.
	changed := func(room, mid int64, old, new string) func(*testing.T, string, *response) {
		return func(t *testing.T, name string, res *response) {
			m := f.lookup(t, room, mid)
			want := old
			if res.status == 200 {
				want = new
			}
			if m == nil || markdownOf(m) != want {
				t.Fatalf("%s: message %d is %v, want body %q", name, mid, m, want)
			}
		}
	}
	gone := func(room, mid int64) func(*testing.T, string, *response) {
		return func(t *testing.T, name string, res *response) {
			if live := f.lookup(t, room, mid) != nil; live != (res.status != 204) {
				t.Fatalf("%s: answered %d, message %d live: %v", name, res.status, mid, live)
			}
		}
	}
	boostGone := func(room, mid, bid int64) func(*testing.T, string, *response) {
		return func(t *testing.T, name string, res *response) {
			m := f.lookup(t, room, mid)
			found := false
			for _, b := range m["boosts"].([]any) {
				found = found || id(b) == bid
			}
			if found != (res.status != 204) {
				t.Fatalf("%s: answered %d, boost %d still there: %v", name, res.status, bid, found)
			}
		}
	}
	allOfRoom := func(key string) func(*testing.T, string, *response) {
		return func(t *testing.T, name string, res *response) {
			if m := res.json(t); m["resync"] == true {
				return
			}
			l := accList(t, res, key)
			if len(l) == 0 {
				t.Fatalf("%s: no %s of room %d", name, key, R)
			}
			for _, x := range l {
				if r := accInt(x.(map[string]any)["room_id"]); r != R {
					t.Fatalf("%s: %s of room %d in room %d's answer", name, key, r, R)
				}
			}
		}
	}
	postedAs := func(a *accActor, since time.Time) func(*testing.T, string, *response) {
		return func(t *testing.T, name string, res *response) {
			m := accObj(t, res, "message")
			if creatorID(m) != a.id || accInt(m["room_id"]) != R {
				t.Fatalf("%s: message by %d in room %v, want by %d in %d", name, creatorID(m), m["room_id"], a.id, R)
			}
			accRecent(t, name, "created_at", m["created_at"], since)
		}
	}

	eps := []accEndpoint{
		// Account-wide endpoints. Those that need no session answer
		// everyone alike.
		{name: "GET /features", want: anyone(200, ""), prep: plain("GET", "/api/v1/features", nil)},
		{name: "GET /setup", want: anyone(200, ""), prep: func(*testing.T, *accActor) accReq {
			return accReq{method: "GET", path: "/api/v1/setup", check: func(t *testing.T, name string, res *response) {
				if res.json(t)["needed"] != false {
					t.Fatalf("%s: %s, want needed false", name, res.body)
				}
			}}
		}},
		{name: "POST /setup", want: anyone(409, "conflict"), prep: func(_ *testing.T, a *accActor) accReq {
			return accReq{method: "POST", path: "/api/v1/setup", body: map[string]any{
				"name": "Mallory", "email": fmt.Sprintf("setup%d@example.com", f.uniq()), "password": testPassword}}
		}},
		{name: "POST /session (own credentials)", want: func(a *accActor) (int, string) {
			if a.bot || a.idx == accDeactivated {
				return 401, "invalid_credentials"
			}
			return 200, ""
		}, prep: func(_ *testing.T, a *accActor) accReq {
			creds := map[string]any{"email": a.email, "password": testPassword}
			if a.bot {
				creds["password"] = a.token // bots have no password; a key is none
			}
			return accReq{method: "POST", path: "/api/v1/session", body: creds, anon: true, ip: f.ip(),
				check: func(t *testing.T, name string, res *response) {
					if u := accObj(t, res, "user"); id(u) != a.id {
						t.Fatalf("%s: signed in as %v", name, u)
					}
				}}
		}},
		{name: "GET /session", want: person(200), prep: func(_ *testing.T, a *accActor) accReq {
			return accReq{method: "GET", path: "/api/v1/session", check: func(t *testing.T, name string, res *response) {
				if u := accObj(t, res, "user"); id(u) != a.id {
					t.Fatalf("%s: session of %v", name, u)
				}
			}}
		}},
		{name: "DELETE /session (a session of its own)", want: person(204), prep: func(t *testing.T, a *accActor) accReq {
			var token string
			if !a.bot {
				token = f.login(t, a.email) // the deactivated's ends with the deactivation
			}
			return accReq{method: "DELETE", path: "/api/v1/session", token: token, check: func(t *testing.T, name string, res *response) {
				r := f.client(t).do("GET", "/api/v1/session", nil, func(r *http.Request) { accPresent(r.Header, a, token) })
				if r.status != 401 {
					t.Fatalf("%s: the session still answers %d", name, r.status)
				}
			}}
		}},
		{name: "POST /join/{code}", want: anyone(201, ""), prep: func(_ *testing.T, a *accActor) accReq {
			email := fmt.Sprintf("joiner%d@example.com", f.uniq())
			return accReq{method: "POST", ip: f.ip(),
				pathAt: func(t *testing.T) string {
					return "/api/v1/join/" + f.must(t, f.ada, 200, "GET", "/api/v1/account", nil)["join_code"].(string)
				},
				// A sign-up's claims to a role, a status or an id are ignored.
				body: map[string]any{"name": "Joiner", "email": email, "password": testPassword,
					"role": "admin", "status": "active", "id": 1},
				check: func(t *testing.T, name string, res *response) {
					if u := accObj(t, res, "user"); u["email"] != email || u["role"] != "member" || id(u) == 1 {
						t.Fatalf("%s: joined as %v", name, u)
					}
				}}
		}},
		{name: "GET /account", want: person(200), prep: func(_ *testing.T, a *accActor) accReq {
			return accReq{method: "GET", path: "/api/v1/account", check: func(t *testing.T, name string, res *response) {
				_, has := res.json(t)["join_code"]
				if isAdmin := a.idx == accAdmin || a.idx == accAdminOutside; has != isAdmin {
					t.Fatalf("%s: join code shown: %v, want %v", name, has, isAdmin)
				}
			}}
		}},
		{name: "PATCH /account", want: admin(200), prep: func(_ *testing.T, a *accActor) accReq {
			return accReq{method: "PATCH", path: "/api/v1/account", body: map[string]any{"name": fmt.Sprintf("Campfire %d", f.uniq())}}
		}},
		{name: "POST /account/join_code", want: admin(200), prep: plain("POST", "/api/v1/account/join_code", nil)},
		{name: "GET /account/bots", want: admin(200), prep: plain("GET", "/api/v1/account/bots", nil)},
		{name: "POST /account/bots", want: admin(201), prep: func(_ *testing.T, a *accActor) accReq {
			return accReq{method: "POST", path: "/api/v1/account/bots", body: map[string]any{"name": fmt.Sprintf("Made %d", f.uniq()), "role": "admin"},
				check: func(t *testing.T, name string, res *response) {
					if b := accObj(t, res, "bot"); b["role"] != "bot" {
						t.Fatalf("%s: made %v", name, b)
					}
				}}
		}},
		{name: "PATCH /account/bots/{id}", want: admin(200), prep: func(t *testing.T, a *accActor) accReq {
			bot, _ := f.newBot(t, fmt.Sprintf("Renamed %d", f.uniq()))
			return accReq{method: "PATCH", path: fmt.Sprintf("/api/v1/account/bots/%d", bot), body: map[string]any{"name": "New Name"}}
		}},
		{name: "POST /account/bots/{id}/key", want: admin(200), prep: func(t *testing.T, a *accActor) accReq {
			bot, key := f.newBot(t, fmt.Sprintf("Rekeyed %d", f.uniq()))
			return accReq{method: "POST", path: fmt.Sprintf("/api/v1/account/bots/%d/key", bot), always: true, check: f.keyStops(O, key)}
		}},
		{name: "DELETE /account/bots/{id}", want: admin(204), prep: func(t *testing.T, a *accActor) accReq {
			bot, key := f.newBot(t, fmt.Sprintf("Deleted %d", f.uniq()))
			return accReq{method: "DELETE", path: fmt.Sprintf("/api/v1/account/bots/%d", bot), always: true, check: f.keyStops(O, key)}
		}},
		{name: "GET /users", want: person(200), prep: func(_ *testing.T, a *accActor) accReq {
			return accReq{method: "GET", path: "/api/v1/users?limit=500", check: func(t *testing.T, name string, res *response) {
				for _, u := range accList(t, res, "users") {
					accEmailShown(t, name, a, u.(map[string]any))
				}
			}}
		}},
		{name: "GET /users?room_id={id}", want: inRoom(st(200)), prep: func(*testing.T, *accActor) accReq {
			return accReq{method: "GET", path: fmt.Sprintf("/api/v1/users?room_id=%d&limit=500", R), check: func(t *testing.T, name string, res *response) {
				for _, u := range accList(t, res, "users") {
					if id(u) == f.bob.id {
						return
					}
				}
				t.Fatalf("%s: the creator is not listed: %s", name, res.body)
			}}
		}},
		{name: "GET /users/{id}", want: person(200), prep: func(_ *testing.T, a *accActor) accReq {
			return accReq{method: "GET", path: fmt.Sprintf("/api/v1/users/%d", f.bob.id), check: func(t *testing.T, name string, res *response) {
				accEmailShown(t, name, a, accObj(t, res, "user"))
			}}
		}},
		{name: "GET /users/{id: me}", want: person(200), prep: func(_ *testing.T, a *accActor) accReq {
			return accReq{method: "GET", path: "/api/v1/users/me", check: func(t *testing.T, name string, res *response) {
				if u := accObj(t, res, "user"); id(u) != a.id {
					t.Fatalf("%s: me is %v", name, u)
				}
			}}
		}},
		{name: "GET /users/{id}/avatar", want: person(200), prep: plain("GET", fmt.Sprintf("/api/v1/users/%d/avatar", f.bob.id), nil)},
		{name: "PATCH /users/me", want: person(200), prep: func(_ *testing.T, a *accActor) accReq {
			return accReq{method: "PATCH", path: "/api/v1/users/me", body: map[string]any{"bio": fmt.Sprintf("bio %d", f.uniq())}}
		}},
		{name: "PATCH /users/{id}", want: admin(200), prep: plain("PATCH", fmt.Sprintf("/api/v1/users/%d", f.carol.id), map[string]any{"role": "member"})},
		{name: "GET /rooms", want: person(200), prep: func(_ *testing.T, a *accActor) accReq {
			return accReq{method: "GET", path: "/api/v1/rooms", check: func(t *testing.T, name string, res *response) {
				listed := false
				for _, r := range accList(t, res, "rooms") {
					listed = listed || id(r) == R
				}
				if in := f.class(a) == accIn; listed != in {
					t.Fatalf("%s: room %d listed: %v, want %v", name, R, listed, in)
				}
			}}
		}},
		{name: "POST /rooms", want: person(201), prep: func(t *testing.T, a *accActor) accReq {
			body := map[string]any{"kind": kind, "name": fmt.Sprintf("Made by %s %d", a.name, f.uniq())}
			if kind == "direct" {
				filler, _ := f.newBot(t, fmt.Sprintf("Pal %d", f.uniq()))
				body = map[string]any{"kind": kind, "user_ids": []int64{filler}}
			}
			return accReq{method: "POST", path: "/api/v1/rooms", body: body}
		}},
		{name: "GET /search?q=", want: person(200), prep: func(_ *testing.T, a *accActor) accReq {
			return accReq{method: "GET", path: "/api/v1/search?q=" + accWord, check: func(t *testing.T, name string, res *response) {
				found := false
				for _, m := range accList(t, res, "messages") {
					if r := accInt(m.(map[string]any)["room_id"]); r == R {
						found = found || id(m) == f.anchor
					} else if r != O {
						t.Fatalf("%s: a hit from room %d", name, r)
					}
				}
				if in := f.class(a) == accIn; found != in {
					t.Fatalf("%s: found room %d's message: %v, want %v", name, R, found, in)
				}
			}}
		}},

		// The room's endpoints.
		{name: "GET /rooms/{id}", want: inRoom(st(200)), prep: func(*testing.T, *accActor) accReq {
			return accReq{method: "GET", path: rp(""), check: func(t *testing.T, name string, res *response) {
				if r := accObj(t, res, "room"); id(r) != R {
					t.Fatalf("%s: room %v", name, r)
				}
			}}
		}},
		{name: "PATCH /rooms/{id}", want: inRoom(changeRoom(200)), prep: func(t *testing.T, a *accActor) accReq {
			room := id(f.newRoom(t, fmt.Sprintf("Fresh %d", f.uniq()))["room"])
			return accReq{method: "PATCH", path: fmt.Sprintf("/api/v1/rooms/%d", room), body: map[string]any{"name": fmt.Sprintf("Renamed %d", f.uniq())}}
		}},
		{name: "DELETE /rooms/{id}", want: inRoom(deleteRoom), prep: func(t *testing.T, a *accActor) accReq {
			room := id(f.newRoom(t, fmt.Sprintf("Doomed %d", f.uniq()))["room"])
			return accReq{method: "DELETE", path: fmt.Sprintf("/api/v1/rooms/%d", room), always: true, check: func(t *testing.T, name string, res *response) {
				r := f.client(t).do("GET", fmt.Sprintf("/api/v1/rooms/%d", room), nil, func(r *http.Request) { accPresent(r.Header, f.bob, "") })
				if want := map[bool]int{true: 404, false: 200}[res.status == 204]; r.status != want {
					t.Fatalf("%s: answered %d; the room then answers its creator %d, want %d", name, res.status, r.status, want)
				}
			}}
		}},
		{name: "PUT /rooms/{id}/involvement", want: inRoom(st(200)), prep: plain("PUT", rp("/involvement"), map[string]any{"involvement": "everything"})},
		{name: "POST /rooms/{id}/read", want: inRoom(st(204)), prep: plain("POST", rp("/read"), nil)},
		{name: "POST /rooms/{id}/typing", want: inRoom(st(204)), prep: plain("POST", rp("/typing"), map[string]any{"state": "start"})},
		{name: "POST /rooms/{id}/presence", want: inRoom(st(204)), prep: plain("POST", rp("/presence"), map[string]any{"state": "present"})},
		{name: "GET /rooms/{id}/events?since=0", want: inRoom(st(200)), prep: func(*testing.T, *accActor) accReq {
			return accReq{method: "GET", path: rp("/events?since=0"), check: allOfRoom("events")}
		}},
		{name: "GET /rooms/{id}/messages", want: inRoom(st(200)), prep: func(*testing.T, *accActor) accReq {
			return accReq{method: "GET", path: rp("/messages"), check: allOfRoom("messages")}
		}},
	}
	for _, cursor := range []string{"before", "after", "around"} {
		eps = append(eps, accEndpoint{name: "GET /rooms/{id}/messages?" + cursor + "={mid}", want: inRoom(st(200)),
			prep: func(t *testing.T, a *accActor) accReq {
				return accReq{method: "GET", path: rp("/messages?%s=%d&limit=5", cursor, f.cursor), check: allOfRoom("messages")}
			}})
	}
	eps = append(eps, []accEndpoint{
		{name: "POST /rooms/{id}/messages", want: inRoom(st(201)), prep: func(_ *testing.T, a *accActor) accReq {
			return accReq{method: "POST", path: rp("/messages"), body: map[string]any{"body": "hello", "client_message_id": fmt.Sprintf("c%d", f.uniq())},
				check: postedAs(a, time.Now())}
		}},
		{name: "PATCH /rooms/{id}/messages/{own mid}", want: inRoom(st(200)), prep: func(t *testing.T, a *accActor) accReq {
			m := ownOrOther(t, a, false)
			return accReq{method: "PATCH", path: rp("/messages/%d", id(m)), body: map[string]any{"body": "edited"}, always: true, check: changed(R, id(m), markdownOf(m), "edited")}
		}},
		{name: "PATCH /rooms/{id}/messages/{another's mid}", want: inRoom(adminOr403(200)), prep: func(t *testing.T, a *accActor) accReq {
			m := others(t, a)
			return accReq{method: "PATCH", path: rp("/messages/%d", id(m)), body: map[string]any{"body": "edited"}, always: true, check: changed(R, id(m), markdownOf(m), "edited")}
		}},
		{name: "DELETE /rooms/{id}/messages/{own mid}", want: inRoom(st(204)), prep: func(t *testing.T, a *accActor) accReq {
			mid := id(ownOrOther(t, a, false))
			return accReq{method: "DELETE", path: rp("/messages/%d", mid), always: true, check: gone(R, mid)}
		}},
		{name: "DELETE /rooms/{id}/messages/{another's mid}", want: inRoom(adminOr403(204)), prep: func(t *testing.T, a *accActor) accReq {
			mid := id(others(t, a))
			return accReq{method: "DELETE", path: rp("/messages/%d", mid), always: true, check: gone(R, mid)}
		}},
		{name: "POST /rooms/{id}/messages/{mid}/boosts", want: inRoom(st(201)), prep: func(t *testing.T, a *accActor) accReq {
			return accReq{method: "POST", path: rp("/messages/%d/boosts", id(others(t, a))), body: map[string]any{"content": "🎉"}}
		}},
		{name: "DELETE /rooms/{id}/messages/{mid}/boosts/{own bid}", want: inRoom(st(204)), prep: func(t *testing.T, a *accActor) accReq {
			mid := id(others(t, a))
			booster := f.own(a, false)
			if booster == nil {
				booster = f.someoneElse(a)
			}
			bid := id(f.boost(t, booster, R, mid))
			return accReq{method: "DELETE", path: rp("/messages/%d/boosts/%d", mid, bid), always: true, check: boostGone(R, mid, bid)}
		}},
		{name: "DELETE /rooms/{id}/messages/{mid}/boosts/{another's bid}", want: inRoom(forbidden), prep: func(t *testing.T, a *accActor) accReq {
			mid := id(others(t, a))
			bid := id(f.boost(t, f.someoneElse(a), R, mid))
			return accReq{method: "DELETE", path: rp("/messages/%d/boosts/%d", mid, bid), always: true, check: boostGone(R, mid, bid)}
		}},

		// The bot paths.
		{name: "POST /rooms/{room_id}/{bot_key}/messages", want: onBotPath(st(201)), prep: func(_ *testing.T, a *accActor) accReq {
			q := botReq(a, R, "POST", "", "beep")
			since := time.Now()
			q.check = func(t *testing.T, name string, res *response) {
				postedAs(a, since)(t, name, res)
				if loc, want := res.header.Get("Location"), fmt.Sprintf("/rooms/%d/@%d", R, id(accObj(t, res, "message"))); loc != want {
					t.Fatalf("%s: Location %q, want %q", name, loc, want)
				}
			}
			return q
		}},
		{name: "GET /rooms/{room_id}/{bot_key}/messages", want: onBotPath(st(200)), prep: func(_ *testing.T, a *accActor) accReq {
			q := botReq(a, R, "GET", "", "")
			q.check = allOfRoom("messages")
			return q
		}},
		{name: "PATCH /rooms/{room_id}/{bot_key}/messages/{own mid}", want: onBotPath(st(200)), prep: func(t *testing.T, a *accActor) accReq {
			m := ownOrOther(t, a, true)
			q := botReq(a, R, "PATCH", fmt.Sprintf("/%d", id(m)), "edited")
			q.always, q.check = true, changed(R, id(m), markdownOf(m), "edited")
			return q
		}},
		{name: "PATCH /rooms/{room_id}/{bot_key}/messages/{another's mid}", want: onBotPath(forbidden), prep: func(t *testing.T, a *accActor) accReq {
			m := others(t, a)
			q := botReq(a, R, "PATCH", fmt.Sprintf("/%d", id(m)), "edited")
			q.always, q.check = true, changed(R, id(m), markdownOf(m), "edited")
			return q
		}},
		{name: "DELETE /rooms/{room_id}/{bot_key}/messages/{own mid}", want: onBotPath(st(204)), prep: func(t *testing.T, a *accActor) accReq {
			mid := id(ownOrOther(t, a, true))
			q := botReq(a, R, "DELETE", fmt.Sprintf("/%d", mid), "")
			q.always, q.check = true, gone(R, mid)
			return q
		}},
		{name: "DELETE /rooms/{room_id}/{bot_key}/messages/{another's mid}", want: onBotPath(forbidden), prep: func(t *testing.T, a *accActor) accReq {
			mid := id(others(t, a))
			q := botReq(a, R, "DELETE", fmt.Sprintf("/%d", mid), "")
			q.always, q.check = true, gone(R, mid)
			return q
		}},
		{name: "POST /rooms/{room_id}/{bot_key}/messages/{mid}/boosts", want: onBotPath(st(201)), prep: func(t *testing.T, a *accActor) accReq {
			return botReq(a, R, "POST", fmt.Sprintf("/%d/boosts", id(others(t, a))), "🤖")
		}},
		{name: "DELETE /rooms/{room_id}/{bot_key}/messages/{mid}/boosts/{own bid}", want: onBotPath(st(204)), prep: func(t *testing.T, a *accActor) accReq {
			mid := id(others(t, a))
			booster := f.own(a, true)
			if booster == nil {
				booster = f.someoneElse(a)
			}
			bid := id(f.boost(t, booster, R, mid))
			q := botReq(a, R, "DELETE", fmt.Sprintf("/%d/boosts/%d", mid, bid), "")
			q.always, q.check = true, boostGone(R, mid, bid)
			return q
		}},
		{name: "DELETE /rooms/{room_id}/{bot_key}/messages/{mid}/boosts/{another's bid}", want: onBotPath(forbidden), prep: func(t *testing.T, a *accActor) accReq {
			mid := id(others(t, a))
			bid := id(f.boost(t, f.someoneElse(a), R, mid))
			q := botReq(a, R, "DELETE", fmt.Sprintf("/%d/boosts/%d", mid, bid), "")
			q.always, q.check = true, boostGone(R, mid, bid)
			return q
		}},

		// Subscriptions.
		{name: "WebSocket subscribe {room_id, since: 0}", want: subscribed(101, ""), prep: func(_ *testing.T, a *accActor) accReq {
			return accReq{run: func(t *testing.T) (int, string) { return f.wsSubscribe(t, a.name, a, R) }}
		}},
		{name: "SSE GET /sse?rooms={id}:0", want: subscribed(200, ""), prep: func(_ *testing.T, a *accActor) accReq {
			return accReq{run: func(t *testing.T) (int, string) { return f.sseSubscribe(t, a.name, a, R) }}
		}},

		// Ids of another room, and ids that are no ids.
		{name: "PATCH /rooms/{id}/messages/{own mid of another room}", want: inRoom(notFound), prep: func(t *testing.T, a *accActor) accReq {
			m := f.post(t, f.elsewhere(a, false), O, fmt.Sprintf("elsewhere %d", f.uniq()))
			return accReq{method: "PATCH", path: rp("/messages/%d", id(m)), body: map[string]any{"body": "edited"}, always: true, check: changed(O, id(m), markdownOf(m), "edited")}
		}},
		{name: "DELETE /rooms/{id}/messages/{own mid of another room}", want: inRoom(notFound), prep: func(t *testing.T, a *accActor) accReq {
			mid := id(f.post(t, f.elsewhere(a, false), O, fmt.Sprintf("elsewhere %d", f.uniq())))
			return accReq{method: "DELETE", path: rp("/messages/%d", mid), always: true, check: gone(O, mid)}
		}},
		{name: "POST /rooms/{id}/messages/{mid of another room}/boosts", want: inRoom(notFound), prep: func(t *testing.T, a *accActor) accReq {
			return accReq{method: "POST", path: rp("/messages/%d/boosts", f.foreign), body: map[string]any{"content": "👀"}}
		}},
		{name: "DELETE /rooms/{id}/messages/{mid}/boosts/{own bid of another message}", want: inRoom(notFound), prep: func(t *testing.T, a *accActor) accReq {
			mid, mid2 := id(others(t, a)), id(others(t, a))
			booster := f.own(a, false)
			if booster == nil {
				booster = f.someoneElse(a)
			}
			bid := id(f.boost(t, booster, R, mid2))
			return accReq{method: "DELETE", path: rp("/messages/%d/boosts/%d", mid, bid), always: true, check: boostGone(R, mid2, bid)}
		}},
		{name: "DELETE /rooms/{id}/messages/{mid}/boosts/{own bid of another room}", want: inRoom(notFound), prep: func(t *testing.T, a *accActor) accReq {
			mid := id(others(t, a))
			omid := id(f.post(t, f.carol, O, fmt.Sprintf("elsewhere %d", f.uniq())))
			bid := id(f.boost(t, f.elsewhere(a, false), O, omid))
			return accReq{method: "DELETE", path: rp("/messages/%d/boosts/%d", mid, bid), always: true, check: boostGone(O, omid, bid)}
		}},
		{name: "DELETE /rooms/{id}/messages/{mid of another room}/boosts/{own bid there}", want: inRoom(notFound), prep: func(t *testing.T, a *accActor) accReq {
			omid := id(f.post(t, f.carol, O, fmt.Sprintf("elsewhere %d", f.uniq())))
			bid := id(f.boost(t, f.elsewhere(a, false), O, omid))
			return accReq{method: "DELETE", path: rp("/messages/%d/boosts/%d", omid, bid), always: true, check: boostGone(O, omid, bid)}
		}},
		{name: "PATCH /rooms/{id}/messages/{not an id}", want: inRoom(notFound), prep: plain("PATCH", rp("/messages/x%d", f.anchor), map[string]any{"body": "edited"})},
		{name: "DELETE /rooms/{id}/messages/{mid}/boosts/{not an id}", want: inRoom(notFound), prep: plain("DELETE", rp("/messages/%d/boosts/-1", f.anchor), nil)},
	}...)
	for _, cursor := range []string{"before", "after", "around"} {
		eps = append(eps,
			accEndpoint{name: "GET /rooms/{id}/messages?" + cursor + "={mid of another room}", want: inRoom(notFound),
				prep: plain("GET", rp("/messages?%s=%d", cursor, f.foreign), nil)},
			accEndpoint{name: "GET /rooms/{id}/messages?" + cursor + "={not an id}", want: inRoom(notFound),
				prep: plain("GET", rp("/messages?%s=%dx", cursor, f.anchor), nil)},
			accEndpoint{name: "GET /rooms/{room_id}/{bot_key}/messages?" + cursor + "={mid of another room}", want: onBotPath(notFound),
				prep: func(t *testing.T, a *accActor) accReq {
					return botReq(a, R, "GET", fmt.Sprintf("?%s=%d", cursor, f.foreign), "")
				}},
		)
	}
	eps = append(eps, []accEndpoint{
		{name: "GET /rooms/{id}/events?since={another room's seq}", want: inRoom(st(200)), prep: func(t *testing.T, a *accActor) accReq {
			seq := accInt(f.must(t, f.carol, 200, "GET", fmt.Sprintf("/api/v1/rooms/%d", O), nil)["room"].(map[string]any)["last_seq"])
			return accReq{method: "GET", path: rp("/events?since=%d", seq), check: func(t *testing.T, name string, res *response) {
				if res.json(t)["resync"] == true {
					return
				}
				for _, ev := range accList(t, res, "events") {
					if r := accInt(ev.(map[string]any)["room_id"]); r != R {
						t.Fatalf("%s: an event of room %d", name, r)
					}
				}
			}}
		}},
		{name: "PATCH /rooms/{room_id}/{bot_key}/messages/{own mid of another room}", want: onBotPath(notFound), prep: func(t *testing.T, a *accActor) accReq {
			m := f.post(t, f.elsewhere(a, true), O, fmt.Sprintf("elsewhere %d", f.uniq()))
			q := botReq(a, R, "PATCH", fmt.Sprintf("/%d", id(m)), "edited")
			q.always, q.check = true, changed(O, id(m), markdownOf(m), "edited")
			return q
		}},
		{name: "DELETE /rooms/{room_id}/{bot_key}/messages/{own mid of another room}", want: onBotPath(notFound), prep: func(t *testing.T, a *accActor) accReq {
			mid := id(f.post(t, f.elsewhere(a, true), O, fmt.Sprintf("elsewhere %d", f.uniq())))
			q := botReq(a, R, "DELETE", fmt.Sprintf("/%d", mid), "")
			q.always, q.check = true, gone(O, mid)
			return q
		}},
		{name: "POST /rooms/{room_id}/{bot_key}/messages/{mid of another room}/boosts", want: onBotPath(notFound), prep: func(t *testing.T, a *accActor) accReq {
			return botReq(a, R, "POST", fmt.Sprintf("/%d/boosts", f.foreign), "👀")
		}},
		{name: "DELETE /rooms/{room_id}/{bot_key}/messages/{mid}/boosts/{own bid of another room}", want: onBotPath(notFound), prep: func(t *testing.T, a *accActor) accReq {
			mid := id(others(t, a))
			omid := id(f.post(t, f.carol, O, fmt.Sprintf("elsewhere %d", f.uniq())))
			bid := id(f.boost(t, f.elsewhere(a, true), O, omid))
			q := botReq(a, R, "DELETE", fmt.Sprintf("/%d/boosts/%d", mid, bid), "")
			q.always, q.check = true, boostGone(O, omid, bid)
			return q
		}},

		// A deleted room names nothing, for anyone; a deleted message can
		// no longer be changed or boosted, but stays a cursor.
		{name: "GET /rooms/{id of a deleted room}", want: deletedRoom, prep: func(t *testing.T, a *accActor) accReq {
			return accReq{method: "GET", path: fmt.Sprintf("/api/v1/rooms/%d", f.dead)}
		}},
		{name: "POST /rooms/{id of a deleted room}/messages", want: deletedRoom, prep: func(t *testing.T, a *accActor) accReq {
			return accReq{method: "POST", path: fmt.Sprintf("/api/v1/rooms/%d/messages", f.dead), body: map[string]any{"body": "anyone?"}}
		}},
		{name: "GET /rooms/{id of a deleted room}/events?since=0", want: deletedRoom, prep: func(t *testing.T, a *accActor) accReq {
			return accReq{method: "GET", path: fmt.Sprintf("/api/v1/rooms/%d/events?since=0", f.dead)}
		}},
		{name: "POST /rooms/{id of a deleted room}/{bot_key}/messages", want: onBotPath(notFound), prep: func(t *testing.T, a *accActor) accReq {
			return botReq(a, f.dead, "POST", "", "anyone?")
		}},
		{name: "WebSocket subscribe {room_id of a deleted room}", want: subscribed(101, "not_found"), prep: func(t *testing.T, a *accActor) accReq {
			room := f.dead
			return accReq{run: func(t *testing.T) (int, string) { return f.wsSubscribe(t, a.name, a, room) }}
		}},
		{name: "SSE GET /sse?rooms={id of a deleted room}:0", want: subscribed(200, "not_found"), prep: func(t *testing.T, a *accActor) accReq {
			room := f.dead
			return accReq{run: func(t *testing.T) (int, string) { return f.sseSubscribe(t, a.name, a, room) }}
		}},
		{name: "PATCH /rooms/{id}/messages/{own deleted mid}", want: inRoom(notFound), prep: func(t *testing.T, a *accActor) accReq {
			return accReq{method: "PATCH", path: rp("/messages/%d", f.deletedMessage(t, a)), body: map[string]any{"body": "back"}}
		}},
		{name: "DELETE /rooms/{id}/messages/{own deleted mid}", want: inRoom(notFound), prep: func(t *testing.T, a *accActor) accReq {
			return accReq{method: "DELETE", path: rp("/messages/%d", f.deletedMessage(t, a))}
		}},
		{name: "POST /rooms/{id}/messages/{deleted mid}/boosts", want: inRoom(notFound), prep: func(t *testing.T, a *accActor) accReq {
			return accReq{method: "POST", path: rp("/messages/%d/boosts", f.deletedMessage(t, a)), body: map[string]any{"content": "🪦"}}
		}},
		{name: "GET /rooms/{id}/messages?before={deleted mid}", want: inRoom(st(200)), prep: func(t *testing.T, a *accActor) accReq {
			return accReq{method: "GET", path: rp("/messages?before=%d", f.deletedMessage(t, a)), check: allOfRoom("messages")}
		}},

		// What a client claims about authorship, ids and times is ignored.
		{name: "POST /rooms/{id}/messages claiming creator, id, seq, room_id and times", want: inRoom(st(201)), prep: func(_ *testing.T, a *accActor) accReq {
			v := f.victim(a)
			since := time.Now()
			return accReq{method: "POST", path: rp("/messages"), body: map[string]any{
				"body": "who wrote this?", "client_message_id": fmt.Sprintf("forged%d", f.uniq()),
				"creator":    map[string]any{"id": v, "name": "Someone Else", "role": "admin"},
				"creator_id": v, "user_id": v, "author_id": v,
				"created_at": accForgedTime, "updated_at": accForgedTime,
				"id": 999999, "seq": 999999, "room_id": O,
			}, check: func(t *testing.T, name string, res *response) {
				postedAs(a, since)(t, name, res)
				m := accObj(t, res, "message")
				accRecent(t, name, "updated_at", m["updated_at"], since)
				if id(m) == 999999 || accInt(m["seq"]) == 999999 {
					t.Fatalf("%s: the client's id or seq was taken: %v", name, m)
				}
				stored := f.lookup(t, R, id(m))
				if stored == nil || creatorID(stored) != a.id || stored["created_at"] != m["created_at"] {
					t.Fatalf("%s: stored as %v", name, stored)
				}
			}}
		}},
		{name: "PATCH /rooms/{id}/messages/{own mid} claiming creator, id, room_id and times", want: inRoom(st(200)), prep: func(t *testing.T, a *accActor) accReq {
			m := ownOrOther(t, a, false)
			v := f.victim(a)
			return accReq{method: "PATCH", path: rp("/messages/%d", id(m)), body: map[string]any{
				"body": "edited", "creator": map[string]any{"id": v}, "creator_id": v,
				"created_at": accForgedTime, "id": 999999, "room_id": O, "seq": 1,
			}, check: func(t *testing.T, name string, res *response) {
				got := accObj(t, res, "message")
				if id(got) != id(m) || creatorID(got) != a.id || accInt(got["room_id"]) != R || got["created_at"] != m["created_at"] || accInt(got["seq"]) != accInt(m["seq"]) {
					t.Fatalf("%s: edited into %v, from %v", name, got, m)
				}
			}}
		}},
		{name: "POST /rooms/{id}/messages/{mid}/boosts claiming booster, id, message_id and time", want: inRoom(st(201)), prep: func(t *testing.T, a *accActor) accReq {
			mid := id(others(t, a))
			omid := f.foreign
			v := f.victim(a)
			since := time.Now()
			return accReq{method: "POST", path: rp("/messages/%d/boosts", mid), body: map[string]any{
				"content": "🎉", "booster": map[string]any{"id": v, "name": "Someone Else"}, "booster_id": v,
				"created_at": accForgedTime, "id": 999999, "message_id": omid,
			}, check: func(t *testing.T, name string, res *response) {
				b := accObj(t, res, "boost")
				if id(b["booster"]) != a.id || accInt(b["message_id"]) != mid || id(b) == 999999 {
					t.Fatalf("%s: boost %v", name, b)
				}
				accRecent(t, name, "created_at", b["created_at"], since)
			}}
		}},
		{name: "POST /rooms claiming creator_id, id and times", want: person(201), prep: func(t *testing.T, a *accActor) accReq {
			body := map[string]any{"kind": kind, "name": fmt.Sprintf("Claimed %d", f.uniq())}
			if kind == "direct" {
				filler, _ := f.newBot(t, fmt.Sprintf("Pal %d", f.uniq()))
				body = map[string]any{"kind": kind, "user_ids": []int64{filler}}
			}
			for k, v := range map[string]any{"creator_id": f.victim(a), "id": 999999, "created_at": accForgedTime, "updated_at": accForgedTime, "last_seq": 999999} {
				body[k] = v
			}
			since := time.Now()
			return accReq{method: "POST", path: "/api/v1/rooms", body: body, check: func(t *testing.T, name string, res *response) {
				r := accObj(t, res, "room")
				if accInt(r["creator_id"]) != a.id || id(r) == 999999 || accInt(r["last_seq"]) == 999999 {
					t.Fatalf("%s: room %v", name, r)
				}
				accRecent(t, name, "created_at", r["created_at"], since)
			}}
		}},
		{name: "PATCH /rooms/{id} claiming creator_id, id and times", want: inRoom(changeRoom(200)), prep: func(t *testing.T, a *accActor) accReq {
			room := f.newRoom(t, fmt.Sprintf("Claimed %d", f.uniq()))["room"].(map[string]any)
			return accReq{method: "PATCH", path: fmt.Sprintf("/api/v1/rooms/%d", id(room)), body: map[string]any{
				"name": fmt.Sprintf("Renamed %d", f.uniq()), "creator_id": f.victim(a), "id": 999999,
				"created_at": accForgedTime, "last_seq": 999999,
			}, check: func(t *testing.T, name string, res *response) {
				r := accObj(t, res, "room")
				if id(r) != id(room) || accInt(r["creator_id"]) != f.bob.id || r["created_at"] != room["created_at"] || accInt(r["last_seq"]) == 999999 {
					t.Fatalf("%s: room %v, was %v", name, r, room)
				}
			}}
		}},
		{name: "PATCH /users/me claiming role, status, id and email", want: person(200), prep: func(_ *testing.T, a *accActor) accReq {
			return accReq{method: "PATCH", path: "/api/v1/users/me", body: map[string]any{
				"bio": "promoted?", "role": "admin", "status": "active", "id": f.victim(a), "email": "taken@example.com",
			}, check: func(t *testing.T, name string, res *response) {
				u := accObj(t, res, "user")
				role := "member"
				if a.idx == accAdmin || a.idx == accAdminOutside {
					role = "admin"
				}
				if id(u) != a.id || u["role"] != role || u["email"] != a.email || u["bio"] != "promoted?" {
					t.Fatalf("%s: now %v", name, u)
				}
			}}
		}},
		{name: "PUT /rooms/{id}/involvement claiming another user_id", want: inRoom(st(200)), prep: func(_ *testing.T, a *accActor) accReq {
			v := f.bob
			if a.idx == accCreator {
				v = f.ada
			}
			theirs := func(t *testing.T) any {
				return f.must(t, v, 200, "GET", rp(""), nil)["room"].(map[string]any)["membership"].(map[string]any)["involvement"]
			}
			var was any
			return accReq{method: "PUT", path: rp("/involvement"), body: map[string]any{"involvement": "invisible", "user_id": v.id},
				before: func(t *testing.T) {
					// The rows before make their actors invisible: set the
					// one claimed back first.
					f.must(t, v, 200, "PUT", rp("/involvement"), map[string]any{"involvement": "mentions"})
					was = theirs(t)
				},
				check: func(t *testing.T, name string, res *response) {
					if got := accObj(t, res, "room")["membership"].(map[string]any)["involvement"]; got != "invisible" {
						t.Fatalf("%s: own involvement %v", name, got)
					}
					if now := theirs(t); now != was {
						t.Fatalf("%s: changed the %s's involvement from %v to %v", name, v.name, was, now)
					}
				}}
		}},
		{name: "POST /rooms/{room_id}/{bot_key}/messages with a JSON body claiming creator and time", want: onBotPath(st(201)), prep: func(_ *testing.T, a *accActor) accReq {
			raw := fmt.Sprintf(`{"body": "hi", "creator_id": %d, "creator": {"id": %d}, "created_at": %q, "id": 999999}`, f.ada.id, f.ada.id, accForgedTime)
			q := botReq(a, R, "POST", "", raw)
			since := time.Now()
			q.check = func(t *testing.T, name string, res *response) {
				postedAs(a, since)(t, name, res)
				if m := accObj(t, res, "message"); markdownOf(m) != raw || id(m) == 999999 {
					t.Fatalf("%s: the raw body was read as fields: %v", name, m)
				}
			}
			return q
		}},
	}...)
	return eps
}

// keyStops checks, after the admin's answer, whether a bot's key still
// posts: it must not once the admin reset or deleted the bot (a 2xx answer).
func (f *accFixture) keyStops(room int64, key string) func(*testing.T, string, *response) {
	return func(t *testing.T, name string, res *response) {
		r := f.client(t).do("POST", fmt.Sprintf("/api/v1/rooms/%d/%s/messages", room, key), "still here?", accRawBody)
		want := 201
		if res.status < 300 {
			want = 401
		}
		if r.status != want {
			t.Fatalf("%s: answered %d; the bot's old key then posts with %d, want %d", name, res.status, r.status, want)
		}
	}
}

// accCoversRoutes fails unless the table has a row for every route that
// http.go registers and every transport serves, so that a new endpoint
// cannot be left out of the matrix.
func accCoversRoutes(t *testing.T, eps []accEndpoint) {
	t.Helper()
	src, err := os.ReadFile("http.go")
	if err != nil {
		t.Fatal(err)
	}
	botSrc, err := os.ReadFile("bot.go")
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	for _, m := range regexp.MustCompile(`(?:handle|authed)\("([A-Z]+ /[^"]*)"`).FindAllSubmatch(src, -1) {
		routes = append(routes, string(m[1]))
	}
	botPath := regexp.MustCompile(`botMessagesPath\s*=\s*"([^"]+)"`).FindSubmatch(botSrc)
	bots := regexp.MustCompile(`bot\("([A-Z]+) "\s*\+\s*botMessagesPath(?:\s*\+\s*"([^"]*)")?`).FindAllSubmatch(src, -1)
	if botPath == nil || len(bots) == 0 {
		t.Fatal("http.go registers the bot routes in a way this test does not read: update accCoversRoutes")
	}
	for _, m := range bots {
		routes = append(routes, string(m[1])+" "+string(botPath[1])+string(m[2]))
	}
	if len(routes) < 40 {
		t.Fatalf("read only %d routes from http.go: update accCoversRoutes", len(routes))
	}
	for _, tr := range []campfire.Transport{cfws.New(nil), sse.New(nil)} {
		for pattern := range tr.Routes(nil) {
			routes = append(routes, pattern)
		}
	}
	covered := map[string]bool{}
	for _, e := range eps {
		covered[accRoute(e.name)] = true
	}
	for _, r := range routes {
		if !covered[r] {
			t.Errorf("no row of the access matrix asks %s", r)
		}
	}
	for r := range covered {
		if !slices.Contains(routes, r) {
			t.Errorf("a row asks %s, which is no route", r)
		}
	}
}

var accRoutePath = regexp.MustCompile(`^(?:SSE )?([A-Z]+) (/(?:[^ {?]|\{[^}]*\})*)`)

// accRoute is the route pattern a row's endpoint name asks, its ids named
// as http.go names them.
func accRoute(name string) string {
	if strings.HasPrefix(name, "WebSocket ") {
		return "GET /ws"
	}
	m := accRoutePath.FindStringSubmatch(name)
	if m == nil {
		return name
	}
	segs := strings.Split(m[2], "/")
	for i, seg := range segs {
		if !strings.HasPrefix(seg, "{") || seg == "{bot_key}" {
			continue
		}
		switch prev := segs[i-1]; {
		case prev == "rooms" && i+1 < len(segs) && segs[i+1] == "{bot_key}":
			segs[i] = "{room_id}"
		case prev == "rooms" || prev == "users" || prev == "bots":
			segs[i] = "{id}"
		case prev == "messages":
			segs[i] = "{mid}"
		case prev == "boosts":
			segs[i] = "{bid}"
		case prev == "join":
			segs[i] = "{code}"
		}
	}
	return m[1] + " " + strings.Join(segs, "/")
}

// accEmailShown checks the User shape's privacy: the email goes to admins
// and to the user themself only; a bot's webhook URL to no one here.
func accEmailShown(t *testing.T, name string, a *accActor, u map[string]any) {
	t.Helper()
	_, shown := u["email"]
	want := id(u) == a.id || a.idx == accAdmin || a.idx == accAdminOutside
	if u["role"] == "bot" {
		want = false // bots have no email
	}
	if _, hook := u["webhook_url"]; hook || shown != want {
		t.Fatalf("%s: %s sees %v", name, a.name, u)
	}
}
