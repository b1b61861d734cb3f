package campfire_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencampfire/campfire"
)

// createBot has the admin create a bot and returns its id and key.
func (w *world) createBot(tb testing.TB, name, webhookURL string) (int64, string) {
	tb.Helper()
	res := w.admin.must(201, "POST", "/api/v1/account/bots", map[string]any{"name": name, "webhook_url": webhookURL})
	return id(res["bot"]), res["bot_key"].(string)
}

// botPost posts body as a bot script would, with contentType ("" for none).
func (w *world) botPost(tb testing.TB, room int64, key, contentType, body string, opts ...func(*http.Request)) *response {
	tb.Helper()
	c := newClient(tb, w.ts.URL)
	return c.do("POST", roomPath(room, "/"+key+"/messages"), body, append([]func(*http.Request){func(r *http.Request) {
		r.Header.Del("Content-Type")
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
	}}, opts...)...)
}

// messages returns the room's newest messages as c sees them.
func (c *client) messages(room int64) []map[string]any {
	c.tb.Helper()
	var out []map[string]any
	for _, m := range c.must(200, "GET", roomPath(room, "/messages?limit=100"), nil)["messages"].([]any) {
		out = append(out, m.(map[string]any))
	}
	return out
}

// waitMessage waits for a message in room that ok accepts.
func (c *client) waitMessage(room int64, what string, ok func(map[string]any) bool) map[string]any {
	c.tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, m := range c.messages(room) {
			if ok(m) {
				return m
			}
		}
		if time.Now().After(deadline) {
			c.tb.Fatalf("no %s in room %d after 5s: %v", what, room, c.messages(room))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func creatorID(m map[string]any) int64 { return id(m["creator"]) }

func markdownOf(m map[string]any) string {
	return m["body"].(map[string]any)["markdown"].(string)
}

var botKeyForm = regexp.MustCompile(`^([0-9]+)-[0-9A-Za-z]{24}$`)

func TestBotManagement(t *testing.T) {
	t.Run("AdminCreatesListsEditsAndDeletes", func(t *testing.T) {
		w := newWorld(t)
		res := w.admin.must(201, "POST", "/api/v1/account/bots", map[string]any{"name": "  Robo  ", "webhook_url": "https://bots.example.com/robo"})
		bot := res["bot"].(map[string]any)
		botID := id(bot)
		want := map[string]any{
			"id": float64(botID), "name": "Robo", "role": "bot", "status": "active", "bio": "",
			"avatar_url": fmt.Sprintf("/api/v1/users/%d/avatar", botID), "webhook_url": "https://bots.example.com/robo",
		}
		if !reflect.DeepEqual(bot, want) {
			t.Fatalf("bot = %v, want %v", bot, want)
		}
		key := res["bot_key"].(string)
		if m := botKeyForm.FindStringSubmatch(key); m == nil || m[1] != fmt.Sprint(botID) {
			t.Fatalf("bot_key %q: want %d-<24 base62 characters>", key, botID)
		}

		// Without a webhook URL; listed by name, only bots.
		res = w.admin.must(201, "POST", "/api/v1/account/bots", map[string]any{"name": "Alarm"})
		if got := res["bot"].(map[string]any)["webhook_url"]; got != "" {
			t.Fatalf("webhook_url of a bot created without one = %v", got)
		}
		list := w.admin.must(200, "GET", "/api/v1/account/bots", nil)["bots"].([]any)
		if len(list) != 2 || list[0].(map[string]any)["name"] != "Alarm" || list[1].(map[string]any)["name"] != "Robo" {
			t.Fatalf("bots = %v, want Alarm and Robo", list)
		}
		if _, ok := list[0].(map[string]any)["webhook_url"]; !ok {
			t.Fatalf("listed bot lacks webhook_url: %v", list[0])
		}

		// A bot is a user like any other, but its webhook URL is for admins.
		for _, c := range []*client{w.admin, w.bob} {
			u := c.must(200, "GET", fmt.Sprintf("/api/v1/users/%d", botID), nil)["user"].(map[string]any)
			if u["role"] != "bot" || u["webhook_url"] != nil || u["email"] != nil {
				t.Fatalf("GET /users/%d = %v: want role bot, no webhook_url, no email", botID, u)
			}
		}
		// It joined the open room.
		found := false
		for _, u := range w.bob.must(200, "GET", fmt.Sprintf("/api/v1/users?room_id=%d", w.allTalk), nil)["users"].([]any) {
			found = found || id(u) == botID
		}
		if !found {
			t.Fatal("a new bot is not a member of All Talk")
		}

		// Edit.
		got := w.admin.must(200, "PATCH", fmt.Sprintf("/api/v1/account/bots/%d", botID), map[string]any{"name": "Robo Two"})["bot"].(map[string]any)
		if got["name"] != "Robo Two" || got["webhook_url"] != "https://bots.example.com/robo" {
			t.Fatalf("after PATCH name: %v", got)
		}
		got = w.admin.must(200, "PATCH", fmt.Sprintf("/api/v1/account/bots/%d", botID), map[string]any{"webhook_url": ""})["bot"].(map[string]any)
		if got["name"] != "Robo Two" || got["webhook_url"] != "" {
			t.Fatalf("after PATCH webhook_url \"\": %v", got)
		}

		// Delete deactivates.
		w.admin.must(204, "DELETE", fmt.Sprintf("/api/v1/account/bots/%d", botID), nil)
		list = w.admin.must(200, "GET", "/api/v1/account/bots", nil)["bots"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["name"] != "Alarm" {
			t.Fatalf("bots after delete = %v, want only Alarm", list)
		}
		u := w.admin.must(200, "GET", fmt.Sprintf("/api/v1/users/%d", botID), nil)["user"].(map[string]any)
		if u["status"] != "deactivated" {
			t.Fatalf("deleted bot's status = %v, want deactivated", u["status"])
		}
		w.botPost(t, w.allTalk, key, "text/plain", "still here?").wantError(t, 401, "unauthenticated")
		for _, req := range []struct{ method, path string }{
			{"PATCH", fmt.Sprintf("/api/v1/account/bots/%d", botID)},
			{"POST", fmt.Sprintf("/api/v1/account/bots/%d/key", botID)},
			{"DELETE", fmt.Sprintf("/api/v1/account/bots/%d", botID)},
		} {
			var body any
			if req.method == "PATCH" {
				body = map[string]any{"name": "Back"}
			}
			w.admin.do(req.method, req.path, body).wantError(t, 404, "not_found")
		}
	})

	t.Run("NotABot", func(t *testing.T) {
		w := newWorld(t)
		for _, path := range []string{fmt.Sprint(w.bobID), "999999", "x", "0"} {
			w.admin.do("PATCH", "/api/v1/account/bots/"+path, map[string]any{"name": "Bot Bob"}).wantError(t, 404, "not_found")
			w.admin.do("POST", "/api/v1/account/bots/"+path+"/key", nil).wantError(t, 404, "not_found")
			w.admin.do("DELETE", "/api/v1/account/bots/"+path, nil).wantError(t, 404, "not_found")
		}
		u := w.admin.must(200, "GET", fmt.Sprintf("/api/v1/users/%d", w.bobID), nil)["user"].(map[string]any)
		if u["name"] != "Bob Marley" || u["status"] != "active" {
			t.Fatalf("bob after bot calls on his id: %v", u)
		}
	})

	t.Run("Validation", func(t *testing.T) {
		w := newWorld(t)
		for _, tc := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{}, "name"},
			{map[string]any{"name": "  "}, "name"},
			{map[string]any{"name": "@robo"}, "name"},
			{map[string]any{"name": strings.Repeat("r", 81)}, "name"},
			{map[string]any{"name": "Robo", "webhook_url": "ftp://bots.example.com/"}, "webhook_url"},
			{map[string]any{"name": "Robo", "webhook_url": "/relative/path"}, "webhook_url"},
			{map[string]any{"name": "Robo", "webhook_url": "not a url"}, "webhook_url"},
			{map[string]any{"name": "Robo", "webhook_url": "http://"}, "webhook_url"},
			{map[string]any{"name": "Robo", "webhook_url": "javascript:alert(1)"}, "webhook_url"},
			{map[string]any{"name": "Robo", "webhook_url": "https://x.example/" + strings.Repeat("a", 2000)}, "webhook_url"},
		} {
			e := w.admin.do("POST", "/api/v1/account/bots", tc.body).wantError(t, 422, "invalid")
			if e["field"] != tc.field {
				t.Errorf("POST bots %v: field %v, want %s", tc.body, e["field"], tc.field)
			}
		}
		botID, _ := w.createBot(t, "Robo", "")
		e := w.admin.do("PATCH", fmt.Sprintf("/api/v1/account/bots/%d", botID), map[string]any{"webhook_url": "gopher://x"}).wantError(t, 422, "invalid")
		if e["field"] != "webhook_url" {
			t.Fatalf("PATCH bad webhook_url: field %v", e["field"])
		}
		w.admin.do("POST", "/api/v1/account/bots", "name=Robo", func(r *http.Request) {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}).wantError(t, 415, "unsupported_media_type")
		if list := w.admin.must(200, "GET", "/api/v1/account/bots", nil)["bots"].([]any); len(list) != 1 {
			t.Fatalf("refused creations stored bots: %v", list)
		}
	})

	t.Run("AdminsOnly", func(t *testing.T) {
		w := newWorld(t)
		botID, _ := w.createBot(t, "Robo", "")
		calls := []struct {
			method, path string
			body         any
		}{
			{"GET", "/api/v1/account/bots", nil},
			{"POST", "/api/v1/account/bots", map[string]any{"name": "Sneaky"}},
			{"PATCH", fmt.Sprintf("/api/v1/account/bots/%d", botID), map[string]any{"name": "Sneaky"}},
			{"POST", fmt.Sprintf("/api/v1/account/bots/%d/key", botID), nil},
			{"DELETE", fmt.Sprintf("/api/v1/account/bots/%d", botID), nil},
		}
		for _, c := range calls {
			w.bob.do(c.method, c.path, c.body).wantError(t, 403, "forbidden")
			newClient(t, w.ts.URL).do(c.method, c.path, c.body).wantError(t, 401, "unauthenticated")
		}

		// Another admin may; once deactivated, they are nobody.
		w.admin.must(200, "PATCH", fmt.Sprintf("/api/v1/users/%d", w.carolID), map[string]any{"role": "admin"})
		w.carol.must(200, "GET", "/api/v1/account/bots", nil)
		w.admin.must(200, "PATCH", fmt.Sprintf("/api/v1/users/%d", w.carolID), map[string]any{"status": "deactivated"})
		for _, c := range calls {
			w.carol.do(c.method, c.path, c.body).wantError(t, 401, "unauthenticated")
		}
		if got := w.admin.must(200, "GET", "/api/v1/account/bots", nil)["bots"].([]any); len(got) != 1 || got[0].(map[string]any)["name"] != "Robo" {
			t.Fatalf("bots after refused calls = %v", got)
		}
	})

	t.Run("KeyRotation", func(t *testing.T) {
		w := newWorld(t)
		botID, oldKey := w.createBot(t, "Robo", "")
		if res := w.botPost(t, w.allTalk, oldKey, "text/plain", "first"); res.status != 201 {
			t.Fatalf("post with the first key: %d %s", res.status, res.body)
		}
		res := w.admin.must(200, "POST", fmt.Sprintf("/api/v1/account/bots/%d/key", botID), nil)
		newKey := res["bot_key"].(string)
		if id(res["bot"]) != botID || !botKeyForm.MatchString(newKey) || newKey == oldKey {
			t.Fatalf("key reset = %v (old key %q)", res, oldKey)
		}
		w.botPost(t, w.allTalk, oldKey, "text/plain", "old key").wantError(t, 401, "unauthenticated")
		if res := w.botPost(t, w.allTalk, newKey, "text/plain", "new key"); res.status != 201 {
			t.Fatalf("post with the new key: %d %s", res.status, res.body)
		}
		// Keys never show again.
		for _, b := range w.admin.must(200, "GET", "/api/v1/account/bots", nil)["bots"].([]any) {
			if _, ok := b.(map[string]any)["bot_key"]; ok {
				t.Fatalf("bot listing shows a key: %v", b)
			}
		}
	})

	t.Run("FeatureDisabled", func(t *testing.T) {
		w := newWorld(t, campfire.Config{Features: campfire.Features{DisableBots: true}})
		f := newClient(t, w.ts.URL).must(200, "GET", "/api/v1/features", nil)["features"].(map[string]any)
		if f["bots"] != false {
			t.Fatalf("features.bots = %v with DisableBots", f["bots"])
		}
		w.admin.do("GET", "/api/v1/account/bots", nil).wantError(t, 501, "feature_disabled")
		w.admin.do("POST", "/api/v1/account/bots", map[string]any{"name": "Robo"}).wantError(t, 501, "feature_disabled")
		w.admin.do("DELETE", "/api/v1/account/bots/1", nil).wantError(t, 501, "feature_disabled")
		w.botPost(t, w.allTalk, "1-abcdefghijklmnopqrstuvwx", "text/plain", "hi").wantError(t, 501, "feature_disabled")

		on := newWorld(t)
		if f := newClient(t, on.ts.URL).must(200, "GET", "/api/v1/features", nil)["features"].(map[string]any); f["bots"] != true {
			t.Fatalf("features.bots = %v by default", f["bots"])
		}
	})
}

func TestBotPosting(t *testing.T) {
	w := newWorld(t, campfire.Config{MaxBodyBytes: 4096})
	botID, key := w.createBot(t, "Robo", "")

	t.Run("CurlFormBody", func(t *testing.T) {
		// curl -d 'Hello!' URL: form-encoded content type, raw text.
		res := w.botPost(t, w.allTalk, key, "application/x-www-form-urlencoded", "Hello & **welcome**!")
		if res.status != 201 {
			t.Fatalf("bot post: %d %s", res.status, res.body)
		}
		msg := res.json(t)["message"].(map[string]any)
		if loc := res.header.Get("Location"); loc != fmt.Sprintf("/rooms/%d/@%d", w.allTalk, id(msg)) {
			t.Fatalf("Location %q, want /rooms/%d/@%d", loc, w.allTalk, id(msg))
		}
		creator := msg["creator"].(map[string]any)
		if id(creator) != botID || creator["role"] != "bot" || creator["name"] != "Robo" {
			t.Fatalf("creator = %v", creator)
		}
		body := msg["body"].(map[string]any)
		if body["markdown"] != "Hello & **welcome**!" || !strings.Contains(body["html"].(string), "<strong>welcome</strong>") {
			t.Fatalf("body = %v", body)
		}
		seen := w.bob.waitMessage(w.allTalk, "the bot's message", func(m map[string]any) bool { return id(m) == id(msg) })
		if markdownOf(seen) != "Hello & **welcome**!" {
			t.Fatalf("bob sees %v", seen)
		}
	})

	t.Run("AnyContentType", func(t *testing.T) {
		for _, ct := range []string{"text/plain; charset=utf-8", "text/html", "", "application/octet-stream"} {
			res := w.botPost(t, w.allTalk, key, ct, "line one\nline two <b>raw</b>")
			if res.status != 201 {
				t.Fatalf("Content-Type %q: %d %s", ct, res.status, res.body)
			}
			html := res.json(t)["message"].(map[string]any)["body"].(map[string]any)["html"].(string)
			if strings.Contains(html, "<b>") {
				t.Fatalf("Content-Type %q: raw HTML rendered: %s", ct, html)
			}
		}
		w.botPost(t, w.allTalk, key, "multipart/form-data; boundary=x", "--x--").wantError(t, 415, "unsupported_media_type")
	})

	t.Run("CrossOriginIsNoObstacle", func(t *testing.T) {
		evil := func(r *http.Request) {
			r.Header.Set("Origin", "https://evil.example")
			r.Header.Set("Sec-Fetch-Site", "cross-site")
		}
		if res := w.botPost(t, w.allTalk, key, "text/plain", "from a script", evil); res.status != 201 {
			t.Fatalf("cross-site bot post: %d %s", res.status, res.body)
		}
		// The bypass is for the bot path only.
		w.bob.do("POST", roomPath(w.allTalk, "/messages"), map[string]any{"body": "hi"}, evil).wantError(t, 403, "forbidden")
	})

	t.Run("EmptyBody", func(t *testing.T) {
		for _, body := range []string{"", "  \n\t "} {
			e := w.botPost(t, w.allTalk, key, "text/plain", body).wantError(t, 422, "invalid")
			if e["field"] != "body" {
				t.Fatalf("empty body: field %v", e["field"])
			}
		}
	})

	t.Run("TooLarge", func(t *testing.T) {
		w.botPost(t, w.allTalk, key, "text/plain", strings.Repeat("a", 4097)).wantError(t, 413, "too_large")
	})

	t.Run("BadKey", func(t *testing.T) {
		secret := key[strings.IndexByte(key, '-')+1:]
		for _, k := range []string{
			"nonsense",
			fmt.Sprintf("%d-%s", botID, strings.Repeat("A", 24)), // wrong secret
			fmt.Sprintf("%d-%s", botID, secret[:23]),             // short
			fmt.Sprintf("%d-%s!", botID, secret[:23]),            // not base62
			fmt.Sprintf("%d-%s", botID+1000, secret),             // no such user
			fmt.Sprintf("%d-%s", w.bobID, secret),                // a person
			fmt.Sprintf("+%d-%s", botID, secret),
			"-" + secret,
		} {
			w.botPost(t, w.allTalk, k, "text/plain", "hi").wantError(t, 401, "unauthenticated")
		}
	})

	t.Run("NotAMember", func(t *testing.T) {
		for _, room := range []string{fmt.Sprint(w.secret), fmt.Sprint(w.dm), "999999", "abc"} {
			newClient(t, w.ts.URL).do("POST", "/api/v1/rooms/"+room+"/"+key+"/messages", "hi", func(r *http.Request) {
				r.Header.Set("Content-Type", "text/plain")
			}).wantError(t, 404, "not_found")
		}
		// Added to a closed room like a person, it may post there.
		w.admin.must(200, "PATCH", roomPath(w.secret, ""), map[string]any{"user_ids": []int64{w.bobID, botID}})
		if res := w.botPost(t, w.secret, key, "text/plain", "let me in"); res.status != 201 {
			t.Fatalf("post to a closed room the bot was added to: %d %s", res.status, res.body)
		}
	})

	t.Run("RateLimited", func(t *testing.T) {
		w := newWorld(t, campfire.Config{PostRate: 0.001, PostBurst: 1})
		_, key := w.createBot(t, "Robo", "")
		if res := w.botPost(t, w.allTalk, key, "text/plain", "one"); res.status != 201 {
			t.Fatalf("first post: %d %s", res.status, res.body)
		}
		res := w.botPost(t, w.allTalk, key, "text/plain", "two")
		res.wantError(t, 429, "rate_limited")
		if res.header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	})
}

// TestBotKeyIsNoSession: a bot key is a credential only in the bot path;
// anywhere else the request is anonymous.
func TestBotKeyIsNoSession(t *testing.T) {
	w := newWorld(t)
	_, key := w.createBot(t, "Robo", "")
	bearer := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+key) }
	cookie := func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "campfire_session", Value: key}) }
	anon := newClient(t, w.ts.URL)
	for _, auth := range []func(*http.Request){bearer, cookie} {
		anon.do("GET", "/api/v1/session", nil, auth).wantError(t, 401, "unauthenticated")
		anon.do("GET", "/api/v1/rooms", nil, auth).wantError(t, 401, "unauthenticated")
		anon.do("POST", roomPath(w.allTalk, "/messages"), map[string]any{"body": "hi"}, auth).wantError(t, 401, "unauthenticated")
	}
	for _, path := range []string{
		roomPath(w.allTalk, ""),
		roomPath(w.allTalk, "?bot_key="+key),
		"/api/v1/rooms/" + key,
		roomPath(w.allTalk, "/messages?bot_key="+key),
		"/api/v1/users/me",
		"/api/v1/search?q=hi&bot_key=" + key,
	} {
		anon.do("GET", path, nil).wantError(t, 401, "unauthenticated")
	}
	anon.do("POST", "/api/v1/rooms/"+key+"/messages", map[string]any{"body": "hi"}).wantError(t, 401, "unauthenticated")
	anon.do("POST", roomPath(w.allTalk, "/messages/"+key), "hi").wantError(t, 405, "method_not_allowed")
}

// TestBotMessagesAPI: Campfire's other bot endpoints, under the same path:
// list, edit and delete its own messages, boost and unboost.
func TestBotMessagesAPI(t *testing.T) {
	w := newWorld(t)
	botID, key := w.createBot(t, "Robo", "")
	path := func(rest string) string { return roomPath(w.allTalk, "/"+key+"/messages"+rest) }
	bot := newClient(t, w.ts.URL)
	raw := func(method, p, body string, opts ...func(*http.Request)) *response {
		return bot.do(method, p, body, append([]func(*http.Request){func(r *http.Request) {
			r.Header.Set("Content-Type", "text/plain")
		}}, opts...)...)
	}
	var mine []int64
	for i := range 3 {
		res := raw("POST", path(""), fmt.Sprintf("bot says %d", i))
		if res.status != 201 {
			t.Fatalf("bot post: %d %s", res.status, res.body)
		}
		mine = append(mine, id(res.json(t)["message"]))
	}
	bobs := w.bob.post(w.allTalk, "a person's message")

	t.Run("List", func(t *testing.T) {
		page := bot.must(200, "GET", path("?limit=2"), nil)
		msgs := page["messages"].([]any)
		if len(msgs) != 2 || id(msgs[1]) != id(bobs) || id(msgs[0]) != mine[2] || page["more_before"] != true {
			t.Fatalf("bot's page = %v", page)
		}
		bot.do("GET", roomPath(w.secret, "/"+key+"/messages"), nil).wantError(t, 404, "not_found")
		bot.do("GET", roomPath(w.allTalk, "/1-abcdefghijklmnopqrstuvwx/messages"), nil).wantError(t, 401, "unauthenticated")
	})

	t.Run("EditOwnOnly", func(t *testing.T) {
		evil := func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") }
		res := raw("PATCH", path(fmt.Sprintf("/%d", mine[0])), "edited **text**", evil)
		if res.status != 200 {
			t.Fatalf("bot edit: %d %s", res.status, res.body)
		}
		if got := markdownOf(res.json(t)["message"].(map[string]any)); got != "edited **text**" {
			t.Fatalf("edited markdown %q", got)
		}
		raw("PATCH", path(fmt.Sprintf("/%d", id(bobs))), "hijack").wantError(t, 403, "forbidden")
		if e := raw("PATCH", path(fmt.Sprintf("/%d", mine[0])), " ").wantError(t, 422, "invalid"); e["field"] != "body" {
			t.Fatalf("blank edit: field %v", e["field"])
		}
		raw("PATCH", path("/999999"), "nothing").wantError(t, 404, "not_found")
	})

	t.Run("DeleteOwnOnly", func(t *testing.T) {
		raw("DELETE", path(fmt.Sprintf("/%d", id(bobs))), "").wantError(t, 403, "forbidden")
		if res := raw("DELETE", path(fmt.Sprintf("/%d", mine[1])), ""); res.status != 204 {
			t.Fatalf("bot delete: %d %s", res.status, res.body)
		}
		for _, m := range w.bob.messages(w.allTalk) {
			if id(m) == mine[1] {
				t.Fatal("deleted message still listed")
			}
		}
	})

	t.Run("Boosts", func(t *testing.T) {
		res := raw("POST", path(fmt.Sprintf("/%d/boosts", id(bobs))), "👍")
		if res.status != 201 {
			t.Fatalf("bot boost: %d %s", res.status, res.body)
		}
		boost := res.json(t)["boost"].(map[string]any)
		if boost["content"] != "👍" || id(boost["booster"]) != botID {
			t.Fatalf("boost = %v", boost)
		}
		for _, body := range []string{"", strings.Repeat("x", 17)} {
			if e := raw("POST", path(fmt.Sprintf("/%d/boosts", id(bobs))), body).wantError(t, 422, "invalid"); e["field"] != "content" {
				t.Fatalf("boost %q: field %v", body, e["field"])
			}
		}
		bobBoost := w.bob.must(201, "POST", roomPath(w.allTalk, fmt.Sprintf("/messages/%d/boosts", id(bobs))), map[string]any{"content": "🎉"})["boost"]
		raw("DELETE", path(fmt.Sprintf("/%d/boosts/%d", id(bobs), id(bobBoost))), "").wantError(t, 403, "forbidden")
		if res := raw("DELETE", path(fmt.Sprintf("/%d/boosts/%d", id(bobs), id(boost))), ""); res.status != 204 {
			t.Fatalf("bot unboost: %d %s", res.status, res.body)
		}
	})
}

// TestBotReactivationNeedsANewKey: deactivating a bot forgets its key, by
// either way of deactivating it; reactivating it does not bring the old key
// back, and a new key works.
func TestBotReactivationNeedsANewKey(t *testing.T) {
	for _, how := range []string{"PATCH", "DELETE"} {
		t.Run(how, func(t *testing.T) {
			w := newWorld(t)
			botID, oldKey := w.createBot(t, "Robo", "")
			if res := w.botPost(t, w.allTalk, oldKey, "text/plain", "before"); res.status != 201 {
				t.Fatalf("post with the key: %d %s", res.status, res.body)
			}
			user := fmt.Sprintf("/api/v1/users/%d", botID)
			if how == "DELETE" {
				w.admin.must(204, "DELETE", fmt.Sprintf("/api/v1/account/bots/%d", botID), nil)
			} else {
				w.admin.must(200, "PATCH", user, map[string]any{"status": "deactivated"})
			}
			w.botPost(t, w.allTalk, oldKey, "text/plain", "while deactivated").wantError(t, 401, "unauthenticated")

			u := w.admin.must(200, "PATCH", user, map[string]any{"status": "active"})["user"].(map[string]any)
			if u["status"] != "active" {
				t.Fatalf("reactivated bot: %v", u)
			}
			w.botPost(t, w.allTalk, oldKey, "text/plain", "back from the dead").wantError(t, 401, "unauthenticated")

			newKey := w.admin.must(200, "POST", fmt.Sprintf("/api/v1/account/bots/%d/key", botID), nil)["bot_key"].(string)
			if res := w.botPost(t, w.allTalk, newKey, "text/plain", "with a new key"); res.status != 201 {
				t.Fatalf("post with the new key: %d %s", res.status, res.body)
			}
			w.botPost(t, w.allTalk, oldKey, "text/plain", "old key again").wantError(t, 401, "unauthenticated")
		})
	}

	t.Run("AnActiveBotSetActiveKeepsItsKey", func(t *testing.T) {
		w := newWorld(t)
		botID, key := w.createBot(t, "Robo", "")
		w.admin.must(200, "PATCH", fmt.Sprintf("/api/v1/users/%d", botID), map[string]any{"status": "active"})
		if res := w.botPost(t, w.allTalk, key, "text/plain", "still me"); res.status != 201 {
			t.Fatalf("post after a no-op status change: %d %s", res.status, res.body)
		}
	})
}

// hookCall is one webhook request a receiver took.
type hookCall struct {
	header http.Header
	body   map[string]any
}

// hookReceiver is a bot's webhook endpoint: it records each request and
// answers with answer.
type hookReceiver struct {
	url   string
	calls chan hookCall
}

func newHookReceiver(t *testing.T, answer http.HandlerFunc) *hookReceiver {
	t.Helper()
	h := &hookReceiver{calls: make(chan hookCall, 100)}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body map[string]any
		if err := json.Unmarshal(b, &body); err != nil || r.Method != "POST" {
			t.Errorf("webhook: %s with body %q", r.Method, b)
		}
		h.calls <- hookCall{header: r.Header.Clone(), body: body}
		if answer != nil {
			answer(w, r)
		}
	}))
	t.Cleanup(ts.Close)
	h.url = ts.URL + "/hook"
	return h
}

// next returns the next webhook call, failing after 5s.
func (h *hookReceiver) next(t *testing.T) hookCall {
	t.Helper()
	select {
	case c := <-h.calls:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no webhook within 5s")
		return hookCall{}
	}
}

// none checks that no webhook arrives for a while.
func (h *hookReceiver) none(t *testing.T, why string) {
	t.Helper()
	select {
	case c := <-h.calls:
		t.Fatalf("webhook %v: want none (%s)", c.body, why)
	case <-time.After(150 * time.Millisecond):
	}
}

func textAnswer(text string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, text)
	}
}

func jsonEqual(t *testing.T, what string, got map[string]any, want string) {
	t.Helper()
	var w map[string]any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, w) {
		g, _ := json.Marshal(got)
		t.Fatalf("%s:\n got %s\nwant %s", what, g, want)
	}
}

func TestBotWebhooks(t *testing.T) {
	t.Run("OnMentionWithTheExactShape", func(t *testing.T) {
		hook := newHookReceiver(t, textAnswer("Pong, Bob"))
		w := newWorld(t, loopbackHooks())
		botID, _ := w.createBot(t, "Robo", hook.url)

		w.bob.post(w.allTalk, "nobody mentioned here, not even Robo")
		msg := w.bob.post(w.allTalk, "@Robo ping **now**")
		if m := msg["mentions"].([]any); len(m) != 1 || int64(m[0].(float64)) != botID {
			t.Fatalf("mentions = %v, want the bot", m)
		}
		call := hook.next(t)
		if ct := call.header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("webhook Content-Type %q", ct)
		}
		html, _ := json.Marshal(msg["body"].(map[string]any)["html"])
		jsonEqual(t, "webhook body", call.body, fmt.Sprintf(`{
			"user": {"id": %d, "name": "Bob Marley"},
			"room": {"id": %d, "name": "All Talk", "path": "/api/v1/rooms/%d/{bot_key}/messages"},
			"message": {"id": %d, "body": {"html": %s, "plain": "ping now"}, "path": "/rooms/%d/@%d"}
		}`, w.bobID, w.allTalk, w.allTalk, id(msg), html, w.allTalk, id(msg)))

		reply := w.bob.waitMessage(w.allTalk, "the bot's reply", func(m map[string]any) bool { return creatorID(m) == botID })
		if markdownOf(reply) != "Pong, Bob" {
			t.Fatalf("reply = %v", reply)
		}
		// The reply mentions nobody: no second webhook, and none for the
		// unmentioned message before.
		hook.none(t, "only the mention triggers")
	})

	t.Run("ForMessagesPostedFromGo", func(t *testing.T) {
		hook := newHookReceiver(t, nil)
		w := newWorld(t, loopbackHooks())
		w.createBot(t, "Robo", hook.url)
		bob, err := w.chat.Store().User(t.Context(), w.bobID)
		if err != nil {
			t.Fatal(err)
		}
		msg, _, err := w.chat.PostMessage(t.Context(), w.allTalk, bob, "@Robo from Go", "")
		if err != nil {
			t.Fatal(err)
		}
		call := hook.next(t)
		m := call.body["message"].(map[string]any)
		if int64(m["id"].(float64)) != msg.ID || m["body"].(map[string]any)["plain"] != "from Go" {
			t.Fatalf("webhook = %v", call.body)
		}
	})

	t.Run("InDirectRoomsAndNeverToTheAuthor", func(t *testing.T) {
		hook := newHookReceiver(t, textAnswer("Hi yourself"))
		w := newWorld(t, loopbackHooks())
		botID, key := w.createBot(t, "Robo", hook.url)
		dm := id(w.bob.must(201, "POST", "/api/v1/rooms", map[string]any{"kind": "direct", "user_ids": []int64{botID}})["room"])

		msg := w.bob.post(dm, "hello there")
		call := hook.next(t)
		html, _ := json.Marshal(msg["body"].(map[string]any)["html"])
		jsonEqual(t, "webhook body", call.body, fmt.Sprintf(`{
			"user": {"id": %d, "name": "Bob Marley"},
			"room": {"id": %d, "name": "", "path": "/api/v1/rooms/%d/{bot_key}/messages"},
			"message": {"id": %d, "body": {"html": %s, "plain": "hello there"}, "path": "/rooms/%d/@%d"}
		}`, w.bobID, dm, dm, id(msg), html, dm, id(msg)))
		w.bob.waitMessage(dm, "the bot's reply", func(m map[string]any) bool {
			return creatorID(m) == botID && markdownOf(m) == "Hi yourself"
		})
		hook.none(t, "the bot's own reply goes to nobody")

		// The bot's own posts, even mentioning itself, never come back to it.
		if res := w.botPost(t, dm, key, "text/plain", "talking to @Robo myself"); res.status != 201 {
			t.Fatalf("bot post: %d %s", res.status, res.body)
		}
		if res := w.botPost(t, w.allTalk, key, "text/plain", "@Robo echo"); res.status != 201 {
			t.Fatalf("bot post: %d %s", res.status, res.body)
		}
		hook.none(t, "never to the author")
	})

	t.Run("NotToDeactivatedBotsOrBotsWithoutURL", func(t *testing.T) {
		hook := newHookReceiver(t, textAnswer("should not happen"))
		w := newWorld(t, loopbackHooks())
		botID, _ := w.createBot(t, "Robo", hook.url)
		silentID, _ := w.createBot(t, "Silent", "")
		dm := id(w.bob.must(201, "POST", "/api/v1/rooms", map[string]any{"kind": "direct", "user_ids": []int64{botID}})["room"])
		w.bob.post(w.allTalk, "@Silent are you there?")
		w.admin.must(204, "DELETE", fmt.Sprintf("/api/v1/account/bots/%d", botID), nil)
		w.bob.post(dm, "still there?") // the direct room stays, the bot is gone
		hook.none(t, "deactivated bot, bot without URL")
		for _, m := range append(w.bob.messages(dm), w.bob.messages(w.allTalk)...) {
			if c := creatorID(m); c == botID || c == silentID {
				t.Fatalf("a bot posted %v", m)
			}
		}
	})

	t.Run("OtherAnswersAreDropped", func(t *testing.T) {
		answers := []http.HandlerFunc{
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"text": "json is not a reply"}`)
			},
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(500)
				io.WriteString(w, "server error is not a reply")
			},
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(201)
				io.WriteString(w, "201 is not a reply")
			},
			textAnswer("   "),
			func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) },
		}
		var n atomic.Int64
		hook := newHookReceiver(t, func(w http.ResponseWriter, r *http.Request) {
			answers[int(n.Add(1)-1)%len(answers)](w, r)
		})
		w := newWorld(t, loopbackHooks())
		botID, _ := w.createBot(t, "Robo", hook.url)
		for i := range answers {
			w.bob.post(w.allTalk, fmt.Sprintf("@Robo try %d", i))
			hook.next(t)
		}
		// Shutdown waits for the deliveries: after it, whatever they
		// posted is stored.
		if err := w.chat.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, m := range w.bob.messages(w.allTalk) {
			if creatorID(m) == botID {
				t.Fatalf("dropped answer became a message: %v", m)
			}
		}
	})

	t.Run("HTMLReplyIsMarkdownText", func(t *testing.T) {
		hook := newHookReceiver(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<b>bold?</b> **bold**")
		})
		w := newWorld(t, loopbackHooks())
		botID, _ := w.createBot(t, "Robo", hook.url)
		w.bob.post(w.allTalk, "@Robo html please")
		reply := w.bob.waitMessage(w.allTalk, "the bot's reply", func(m map[string]any) bool { return creatorID(m) == botID })
		html := reply["body"].(map[string]any)["html"].(string)
		if strings.Contains(html, "<b>") || !strings.Contains(html, "<strong>bold</strong>") {
			t.Fatalf("reply html = %s", html)
		}
	})

	t.Run("TimeoutPostsFailedToRespond", func(t *testing.T) {
		hook := newHookReceiver(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		})
		// A host's own client; the URL check still wants the network named.
		cfg := loopbackHooks()
		cfg.WebhookClient = &http.Client{Timeout: 200 * time.Millisecond}
		w := newWorld(t, cfg)
		botID, _ := w.createBot(t, "Robo", hook.url)
		w.bob.post(w.allTalk, "@Robo think hard")
		hook.next(t)
		reply := w.bob.waitMessage(w.allTalk, "the timeout message", func(m map[string]any) bool { return creatorID(m) == botID })
		if markdownOf(reply) != "Failed to respond within 7 seconds" {
			t.Fatalf("timeout message = %q", markdownOf(reply))
		}
	})

	t.Run("ConcurrencyIsBoundedButNothingDropped", func(t *testing.T) {
		release := make(chan struct{})
		var inFlight, most atomic.Int64
		hook := newHookReceiver(t, func(w http.ResponseWriter, r *http.Request) {
			n := inFlight.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			<-release
			inFlight.Add(-1)
			w.WriteHeader(204)
		})
		var once sync.Once
		free := func() { once.Do(func() { close(release) }) }
		t.Cleanup(free) // a failing test must not leave the receiver blocked
		w := newWorld(t, loopbackHooks())
		w.createBot(t, "Robo", hook.url)
		for i := range 20 {
			w.bob.post(w.allTalk, fmt.Sprintf("@Robo job %d", i))
		}
		for range 16 {
			hook.next(t)
		}
		hook.none(t, "16 deliveries at most at once")
		free()
		for range 4 {
			hook.next(t)
		}
		if most.Load() != 16 {
			t.Fatalf("at most %d deliveries at once, want 16", most.Load())
		}
	})
}

// TestBotWebhookShutdown: Shutdown cancels deliveries in flight, waits for
// them, and leaves no goroutine of theirs behind.
func TestBotWebhookShutdown(t *testing.T) {
	var cancelled sync.WaitGroup
	hook := newHookReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		defer cancelled.Done()
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
			t.Error("a webhook outlived Shutdown")
		}
	})
	w := newWorld(t, loopbackHooks()) // the default client: a 7 s timeout
	w.createBot(t, "Robo", hook.url)
	w.createBot(t, "Robbie", hook.url)
	cancelled.Add(2)
	w.bob.post(w.allTalk, "@Robo and @Robbie, take your time")
	hook.next(t)
	hook.next(t)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := w.chat.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Shutdown took %v: it must cancel deliveries, not wait them out", d)
	}
	cancelled.Wait()
	buf := make([]byte, 1<<20)
	if stacks := string(buf[:runtime.Stack(buf, true)]); strings.Contains(stacks, "campfire.(*webhooks)") || strings.Contains(stacks, "deliverWebhook") {
		t.Fatalf("webhook goroutines left after Shutdown:\n%s", stacks)
	}
	for _, m := range w.bob.messages(w.allTalk) {
		if m["creator"].(map[string]any)["role"] == "bot" {
			t.Fatalf("a cancelled delivery posted %v", m)
		}
	}
	// After Shutdown, new messages start no delivery.
	w.bob.post(w.allTalk, "@Robo are you gone?")
	hook.none(t, "after Shutdown")
}
