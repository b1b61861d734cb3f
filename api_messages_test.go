package campfire_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencampfire/campfire"
	"golang.org/x/net/html"
)

func TestPostMessage(t *testing.T) {
	w := newWorld(t)
	t.Run("AnswersTheProtocolShape", func(t *testing.T) {
		before := time.Now().Add(-time.Second)
		res := w.admin.do("POST", roomPath(w.secret, "/messages"), map[string]any{"body": "Hi @Bob, **ship it**", "client_message_id": "5f0c-1"})
		if res.status != 201 {
			t.Fatalf("post: %d %s", res.status, res.body)
		}
		m := res.json(t)["message"].(map[string]any)
		want := map[string]any{
			"room_id": float64(w.secret), "seq": float64(1), "client_message_id": "5f0c-1",
			"sound": nil, "mentions": []any{float64(w.bobID)}, "boosts": []any{},
		}
		for k, v := range want {
			if fmt.Sprint(m[k]) != fmt.Sprint(v) {
				t.Errorf("%s = %v, want %v", k, m[k], v)
			}
		}
		body := m["body"].(map[string]any)
		wantHTML := fmt.Sprintf(`<p>Hi <span class="mention" data-user-id="%d">@Bob Marley</span>, <strong>ship it</strong></p>`, w.bobID)
		if body["markdown"] != "Hi @Bob, **ship it**" || body["html"] != wantHTML || body["plain_text"] != "Hi @Bob Marley, ship it" {
			t.Errorf("body = %#v\nwant html %s", body, wantHTML)
		}
		creator := m["creator"].(map[string]any)
		if id(creator) != w.adminID || creator["name"] != "Ada Lovelace" || creator["role"] != "admin" || creator["avatar_url"] == "" {
			t.Errorf("creator = %v", creator)
		}
		created, err := time.Parse(time.RFC3339Nano, m["created_at"].(string))
		if err != nil || created.Before(before) || created.Location() != time.UTC || m["created_at"] != m["updated_at"] {
			t.Errorf("created_at %v, updated_at %v", m["created_at"], m["updated_at"])
		}
	})
	t.Run("SameClientMessageIDReturnsTheStoredMessage", func(t *testing.T) {
		first := w.bob.must(201, "POST", roomPath(w.allTalk, "/messages"), map[string]any{"body": "once", "client_message_id": "c-1"})["message"]
		again := w.bob.must(200, "POST", roomPath(w.allTalk, "/messages"), map[string]any{"body": "once", "client_message_id": "c-1"})["message"]
		if id(first) != id(again) {
			t.Fatalf("second post made message %d, first was %d", id(again), id(first))
		}
		// Another author's id space is their own.
		w.carol.must(201, "POST", roomPath(w.allTalk, "/messages"), map[string]any{"body": "once", "client_message_id": "c-1"})
	})
	t.Run("ConcurrentRetriesMakeOneMessage", func(t *testing.T) {
		var wg sync.WaitGroup
		ids := make([]int64, 3)
		for i := range ids {
			wg.Go(func() {
				r := w.bob.do("POST", roomPath(w.allTalk, "/messages"), map[string]any{"body": "retry", "client_message_id": "c-race"})
				if r.status != 200 && r.status != 201 {
					t.Errorf("post: %d %s", r.status, r.body)
					return
				}
				ids[i] = id(r.json(t)["message"])
			})
		}
		wg.Wait()
		if ids[0] != ids[1] || ids[1] != ids[2] {
			t.Fatalf("three posts made messages %v", ids)
		}
	})
	t.Run("Validation", func(t *testing.T) {
		for _, tc := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"body": ""}, "body"},
			{map[string]any{"body": " \n\t "}, "body"},
			{map[string]any{}, "body"},
			{map[string]any{"body": strings.Repeat("x", 10001)}, "body"},
			{map[string]any{"body": "ok", "client_message_id": strings.Repeat("c", 101)}, "client_message_id"},
		} {
			e := w.bob.do("POST", roomPath(w.allTalk, "/messages"), tc.body).wantError(t, 422, "invalid")
			if e["field"] != tc.field {
				t.Errorf("field %v, want %s", e["field"], tc.field)
			}
		}
		w.bob.must(201, "POST", roomPath(w.allTalk, "/messages"), map[string]any{"body": strings.Repeat("é", 10000)})
		w.bob.do("POST", roomPath(w.allTalk, "/messages"), map[string]any{"body": 5}).wantError(t, 400, "invalid_json")
	})
	t.Run("HostileMarkdownIsInert", func(t *testing.T) {
		for _, body := range []string{
			`<script>alert(1)</script>`,
			`<img src=x onerror=alert(1)>`,
			`[click](javascript:alert(1))`,
			`[click](&#106;avascript:alert(1))`,
			`<javascript:alert(1)>`,
			`<a href="javascript:alert(1)" onclick="x()">a</a>`,
			`![x](https://tracker.example/pixel.png)`,
		} {
			html := w.bob.post(w.allTalk, body)["body"].(map[string]any)["html"].(string)
			if problem := unsafeMarkup(html); problem != "" {
				t.Errorf("%q rendered %q: %s", body, html, problem)
			}
		}
	})
	t.Run("MentionsOnlyResolveToMembers", func(t *testing.T) {
		m := w.admin.post(w.secret, "@Carol and @Bob Marley")
		if fmt.Sprint(m["mentions"]) != fmt.Sprint([]any{float64(w.bobID)}) {
			t.Fatalf("mentions = %v; carol is not in the room", m["mentions"])
		}
		m = w.admin.post(w.secret, fmt.Sprintf("`@Bob` and <@%d>", w.bobID))
		if fmt.Sprint(m["mentions"]) != fmt.Sprint([]any{float64(w.bobID)}) {
			t.Fatalf("mentions = %v", m["mentions"])
		}
	})
	t.Run("PlaySounds", func(t *testing.T) {
		if got := w.bob.post(w.allTalk, "/play tada")["sound"]; got != "tada" {
			t.Fatalf("sound = %v", got)
		}
		if got := w.bob.post(w.allTalk, "/play nosuchsound")["sound"]; got != nil {
			t.Fatalf("sound = %v for an unknown name", got)
		}
	})
}

func TestEditAndDelete(t *testing.T) {
	w := newWorld(t)
	m := w.bob.post(w.allTalk, "first draft")
	path := roomPath(w.allTalk, fmt.Sprintf("/messages/%d", id(m)))
	t.Run("OnlyAuthorOrAdmin", func(t *testing.T) {
		w.carol.do("PATCH", path, map[string]any{"body": "hijack"}).wantError(t, 403, "forbidden")
		w.carol.do("DELETE", path, nil).wantError(t, 403, "forbidden")
		got := w.bob.must(200, "PATCH", path, map[string]any{"body": "second *draft*"})["message"].(map[string]any)
		if got["body"].(map[string]any)["html"] != "<p>second <em>draft</em></p>" {
			t.Fatalf("edited = %v", got["body"])
		}
		w.admin.must(200, "PATCH", path, map[string]any{"body": "moderated"})
		w.bob.do("PATCH", path, map[string]any{"body": ""}).wantError(t, 422, "invalid")
	})
	t.Run("OutsidersAndOtherRooms", func(t *testing.T) {
		secret := w.admin.post(w.secret, "classified")
		w.carol.do("PATCH", roomPath(w.secret, fmt.Sprintf("/messages/%d", id(secret))), map[string]any{"body": "x"}).wantError(t, 404, "not_found")
		// A message id under another room's path names nothing.
		w.admin.do("PATCH", roomPath(w.allTalk, fmt.Sprintf("/messages/%d", id(secret))), map[string]any{"body": "x"}).wantError(t, 404, "not_found")
		w.admin.do("DELETE", roomPath(w.allTalk, fmt.Sprintf("/messages/%d", id(secret))), nil).wantError(t, 404, "not_found")
	})
	t.Run("DeletedMessagesAreGone", func(t *testing.T) {
		w.bob.must(204, "DELETE", path, nil)
		w.bob.do("PATCH", path, map[string]any{"body": "x"}).wantError(t, 404, "not_found")
		w.bob.do("DELETE", path, nil).wantError(t, 404, "not_found")
		for _, msg := range w.bob.must(200, "GET", roomPath(w.allTalk, "/messages"), nil)["messages"].([]any) {
			if id(msg) == id(m) {
				t.Fatal("a deleted message is still listed")
			}
		}
		// Its id is still a valid cursor.
		w.bob.must(200, "GET", roomPath(w.allTalk, fmt.Sprintf("/messages?before=%d", id(m))), nil)
	})
}

func TestPaging(t *testing.T) {
	w := newWorld(t)
	var ids []int64
	for i := range 120 {
		ids = append(ids, id(w.bob.post(w.secret, fmt.Sprint("message ", i))))
	}
	page := func(query string) ([]int64, bool, bool) {
		t.Helper()
		got := w.admin.must(200, "GET", roomPath(w.secret, "/messages"+query), nil)
		var out []int64
		for _, m := range got["messages"].([]any) {
			out = append(out, id(m))
		}
		return out, got["more_before"].(bool), got["more_after"].(bool)
	}
	for _, tc := range []struct {
		query                 string
		want                  []int64
		moreBefore, moreAfter bool
	}{
		{"", ids[70:], true, false},
		{"?limit=100", ids[20:], true, false},
		{"?limit=5", ids[115:], true, false},
		{fmt.Sprintf("?before=%d", ids[70]), ids[20:70], true, true},
		{fmt.Sprintf("?before=%d&limit=10", ids[5]), ids[:5], false, true},
		{fmt.Sprintf("?after=%d&limit=10", ids[0]), ids[1:11], true, true},
		{fmt.Sprintf("?after=%d", ids[110]), ids[111:], true, false},
		{fmt.Sprintf("?around=%d&limit=10", ids[60]), ids[55:65], true, true},
		{fmt.Sprintf("?around=%d&limit=10", ids[1]), ids[:10], false, true},
		{fmt.Sprintf("?around=%d&limit=10", ids[119]), ids[110:], true, false},
	} {
		got, before, after := page(tc.query)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) || before != tc.moreBefore || after != tc.moreAfter {
			t.Errorf("%s: got %d messages %v..., more_before %v, more_after %v; want %d from %d, %v, %v",
				tc.query, len(got), head(got), before, after, len(tc.want), tc.want[0], tc.moreBefore, tc.moreAfter)
		}
	}
	t.Run("CursorsMustNameAMessageOfTheRoom", func(t *testing.T) {
		other := w.bob.post(w.allTalk, "elsewhere")
		for _, q := range []string{
			fmt.Sprintf("?before=%d", id(other)), fmt.Sprintf("?after=%d", id(other)), fmt.Sprintf("?around=%d", id(other)),
			"?before=99999999", "?after=abc", "?around=-4",
		} {
			w.admin.do("GET", roomPath(w.secret, "/messages"+q), nil).wantError(t, 404, "not_found")
		}
	})
	t.Run("BadLimits", func(t *testing.T) {
		for _, q := range []string{"?limit=0", "?limit=101", "?limit=x", fmt.Sprintf("?before=%d&after=%d", ids[3], ids[1])} {
			w.admin.do("GET", roomPath(w.secret, "/messages"+q), nil).wantError(t, 422, "invalid")
		}
	})
}

func head(ids []int64) []int64 {
	if len(ids) > 3 {
		return ids[:3]
	}
	return ids
}

func TestBoosts(t *testing.T) {
	w := newWorld(t)
	m := w.bob.post(w.allTalk, "boost me")
	boosts := roomPath(w.allTalk, fmt.Sprintf("/messages/%d/boosts", id(m)))
	b := w.carol.must(201, "POST", boosts, map[string]any{"content": "🔥🔥"})["boost"].(map[string]any)
	if b["content"] != "🔥🔥" || int64(b["message_id"].(float64)) != id(m) || id(b["booster"]) != w.carolID {
		t.Fatalf("boost = %v", b)
	}
	for _, content := range []string{"", "   ", strings.Repeat("a", 17)} {
		if e := w.carol.do("POST", boosts, map[string]any{"content": content}).wantError(t, 422, "invalid"); e["field"] != "content" {
			t.Fatalf("field = %v", e["field"])
		}
	}
	w.carol.must(201, "POST", boosts, map[string]any{"content": strings.Repeat("a", 16)})
	listed := w.bob.must(200, "GET", roomPath(w.allTalk, fmt.Sprintf("/messages?around=%d&limit=1", id(m))), nil)["messages"].([]any)
	if n := len(listed[0].(map[string]any)["boosts"].([]any)); n != 2 {
		t.Fatalf("message lists %d boosts, want 2", n)
	}
	one := boosts + fmt.Sprintf("/%d", id(b))
	w.bob.do("DELETE", one, nil).wantError(t, 403, "forbidden")
	w.admin.do("DELETE", one, nil).wantError(t, 403, "forbidden")
	w.carol.must(204, "DELETE", one, nil)
	w.carol.do("DELETE", one, nil).wantError(t, 404, "not_found")
	secret := w.admin.post(w.secret, "x")
	w.carol.do("POST", roomPath(w.secret, fmt.Sprintf("/messages/%d/boosts", id(secret))), map[string]any{"content": "x"}).wantError(t, 404, "not_found")
	w.admin.do("POST", roomPath(w.allTalk, fmt.Sprintf("/messages/%d/boosts", id(secret))), map[string]any{"content": "x"}).wantError(t, 404, "not_found")
}

func TestEvents(t *testing.T) {
	w := newWorld(t)
	m := w.bob.post(w.secret, "one")
	w.bob.must(200, "PATCH", roomPath(w.secret, fmt.Sprintf("/messages/%d", id(m))), map[string]any{"body": "two"})
	b := w.admin.must(201, "POST", roomPath(w.secret, fmt.Sprintf("/messages/%d/boosts", id(m))), map[string]any{"content": "+1"})["boost"]
	w.admin.must(204, "DELETE", roomPath(w.secret, fmt.Sprintf("/messages/%d/boosts/%d", id(m), id(b))), nil)
	w.bob.must(204, "DELETE", roomPath(w.secret, fmt.Sprintf("/messages/%d", id(m))), nil)
	w.admin.must(200, "PATCH", roomPath(w.secret, ""), map[string]any{"name": "Renamed"})

	got := w.bob.must(200, "GET", roomPath(w.secret, "/events?since=0"), nil)
	var types []string
	for i, e := range got["events"].([]any) {
		ev := e.(map[string]any)
		types = append(types, ev["type"].(string))
		if ev["seq"] != float64(i+1) || ev["room_id"] != float64(w.secret) || ev["data"] == nil {
			t.Fatalf("event %d = %v", i, ev)
		}
	}
	// The message was deleted: a replay carries tombstones at the seqs of
	// its events and of its boost's, none of its content.
	want := "[message.deleted message.deleted boost.deleted boost.deleted message.deleted room.updated]"
	if fmt.Sprint(types) != want || got["seq"] != float64(6) {
		t.Fatalf("events %v seq %v; want %s and 6", types, got["seq"], want)
	}
	later := w.bob.must(200, "GET", roomPath(w.secret, "/events?since=4"), nil)["events"].([]any)
	if len(later) != 2 || later[0].(map[string]any)["seq"] != float64(5) {
		t.Fatalf("since=4: %v", later)
	}
	w.bob.do("GET", roomPath(w.secret, "/events?since=x"), nil).wantError(t, 422, "invalid")
	w.carol.do("GET", roomPath(w.secret, "/events?since=0"), nil).wantError(t, 404, "not_found")
}

func TestSequencesAreGapFreeUnderConcurrency(t *testing.T) {
	w := newWorld(t)
	var wg sync.WaitGroup
	for _, c := range []*client{w.admin, w.bob, w.admin, w.bob} {
		wg.Go(func() {
			for i := range 25 {
				if r := c.do("POST", roomPath(w.secret, "/messages"), map[string]any{"body": fmt.Sprint("n ", i)}); r.status != 201 {
					t.Errorf("post: %d %s", r.status, r.body)
				}
			}
		})
	}
	wg.Wait()
	events := w.bob.must(200, "GET", roomPath(w.secret, "/events?since=0"), nil)["events"].([]any)
	if len(events) != 100 {
		t.Fatalf("%d events, want 100", len(events))
	}
	for i, e := range events {
		if seq := e.(map[string]any)["seq"]; seq != float64(i+1) {
			t.Fatalf("event %d has seq %v", i, seq)
		}
	}
}

func TestSearch(t *testing.T) {
	w := newWorld(t)
	w.bob.post(w.allTalk, "the deploy went fine")
	w.admin.post(w.secret, "deploy the secret plans")
	w.bob.post(w.allTalk, "lunch?")
	hits := func(c *client, q string) int {
		t.Helper()
		return len(c.must(200, "GET", "/api/v1/search?q="+url.QueryEscape(q), nil)["messages"].([]any))
	}
	if got := hits(w.bob, "deploy"); got != 2 {
		t.Fatalf("bob finds %d deploys, want 2", got)
	}
	if got := hits(w.carol, "DEPLOY"); got != 1 {
		t.Fatalf("carol finds %d deploys, want 1 (not the secret room's)", got)
	}
	for _, q := range []string{"", `"`, "AND OR NOT", "deploy*(", "NEAR(a b)", "-", "***"} {
		r := w.bob.do("GET", "/api/v1/search?q="+url.QueryEscape(q), nil)
		if r.status != 200 {
			t.Fatalf("search %q: %d %s", q, r.status, r.body)
		}
	}
	w.bob.do("GET", "/api/v1/search?q="+strings.Repeat("a", 201), nil).wantError(t, 422, "invalid")
}

func TestMountedUnderAPrefix(t *testing.T) {
	w := newWorld(t)
	mux := http.NewServeMux()
	mux.Handle("/chat/", http.StripPrefix("/chat", w.chat))
	c := newClient(t, w.ts.URL)
	srv := newPrefixServer(t, mux)
	c.base = srv
	c.must(200, "POST", "/chat/api/v1/session", map[string]any{"email": "bob@example.com", "password": testPassword})
	c.must(200, "GET", "/chat/api/v1/rooms", nil)
	c.do("GET", "/chat/api/v1/nope", nil).wantError(t, 404, "not_found")
}

// unsafeMarkup names the first element, attribute or URL in fragment that
// could run script or load anything, or returns "".
func unsafeMarkup(fragment string) string {
	allowed := map[string]bool{"p": true, "br": true, "strong": true, "em": true, "del": true, "code": true, "pre": true,
		"blockquote": true, "ul": true, "ol": true, "li": true, "a": true, "span": true, "hr": true,
		"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true}
	z := html.NewTokenizer(strings.NewReader(fragment))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			if !allowed[tok.Data] {
				return "element " + tok.Data
			}
			for _, a := range tok.Attr {
				switch {
				case strings.HasPrefix(a.Key, "on") || a.Key == "style" || a.Key == "src":
					return "attribute " + a.Key
				case a.Key == "href":
					u, err := url.Parse(a.Val)
					if err != nil || (u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "mailto") {
						return "link to " + a.Val
					}
				}
			}
		}
	}
}

func TestPostRateLimit(t *testing.T) {
	w := newWorld(t, campfire.Config{PostRate: 1, PostBurst: 3})
	for i := range 3 {
		w.bob.post(w.allTalk, fmt.Sprint("quick ", i))
	}
	r := w.bob.do("POST", roomPath(w.allTalk, "/messages"), map[string]any{"body": "one too many"})
	r.wantError(t, 429, "rate_limited")
	if r.header.Get("Retry-After") != "1" {
		t.Fatalf("Retry-After = %q, want 1", r.header.Get("Retry-After"))
	}
	m := w.carol.post(w.allTalk, "others are not slowed")
	w.bob.do("POST", roomPath(w.allTalk, fmt.Sprintf("/messages/%d/boosts", id(m))), map[string]any{"content": "+1"}).wantError(t, 429, "rate_limited")
	msgs := w.bob.must(200, "GET", roomPath(w.allTalk, "/messages"), nil)["messages"].([]any)
	for _, m := range msgs {
		if m.(map[string]any)["body"].(map[string]any)["markdown"] == "one too many" {
			t.Fatal("a refused post was stored")
		}
	}
}
