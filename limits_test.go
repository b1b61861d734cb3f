package campfire_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/opencampfire/campfire"
)

// TestWriteLimits: a script repeating any write gets 429 rate_limited with
// Retry-After once it has spent the documented burst (PROTOCOL.md, "Write
// limits"), while another person doing the same is served, and the host's
// calls from Go are not limited.
func TestWriteLimits(t *testing.T) {
	clock := newHandClock()
	// PostRate set (to its default) keeps every limit at its default.
	w := newWorld(t, campfire.Config{PostRate: 5, Now: clock.Now})
	ctx := context.Background()
	bob, err := w.chat.Store().User(ctx, w.bobID)
	if err != nil {
		t.Fatal(err)
	}
	// The host posts from Go as much as it likes.
	var mids []int64
	for i := range 60 {
		m, _, err := w.chat.PostMessage(ctx, w.allTalk, bob, fmt.Sprint("from Go ", i), "")
		if err != nil {
			t.Fatalf("PostMessage %d: %v", i, err)
		}
		mids = append(mids, m.ID)
	}
	bobsRoom := id(w.bob.must(201, "POST", "/api/v1/rooms", map[string]any{"kind": "open", "name": "Bob's"})["room"])
	bobsClosed := id(w.bob.must(201, "POST", "/api/v1/rooms", map[string]any{"kind": "closed", "name": "Bob's closed"})["room"])
	msgPath := func(i int) string { return roomPath(w.allTalk, fmt.Sprintf("/messages/%d", mids[i])) }

	cases := []struct {
		name       string
		burst      int
		retryAfter string
		do         func(c *client, i int) *response
		other      *client // someone else doing the same, who is served; nil: only admins may
	}{
		{"EditMessages", 20, "1", func(c *client, i int) *response {
			return c.do("PATCH", msgPath(0), map[string]any{"body": fmt.Sprint("edit ", i)})
		}, nil},
		{"DeleteMessages", 20, "1", func(c *client, i int) *response {
			return c.do("DELETE", msgPath(1+i), nil)
		}, nil},
		{"Boosts", 20, "1", func(c *client, i int) *response {
			return c.do("POST", msgPath(59)+"/boosts", map[string]any{"content": fmt.Sprint("+", i)})
		}, w.carol},
		{"CreateRooms", 10, "6", func(c *client, i int) *response {
			return c.do("POST", "/api/v1/rooms", map[string]any{"kind": "open", "name": fmt.Sprint("Spam ", i)})
		}, w.carol},
		{"RenameRooms", 10, "6", func(c *client, i int) *response {
			return c.do("PATCH", roomPath(bobsRoom, ""), map[string]any{"name": fmt.Sprint("Bob's ", i)})
		}, nil},
		{"ChangeMembers", 10, "6", func(c *client, i int) *response {
			members := [][]int64{{w.carolID}, {}}[i%2]
			return c.do("PATCH", roomPath(bobsClosed, ""), map[string]any{"user_ids": members})
		}, nil},
		{"Profile", 10, "6", func(c *client, i int) *response {
			return c.do("PATCH", "/api/v1/users/me", map[string]any{"bio": fmt.Sprint("bio ", i)})
		}, w.carol},
		{"Involvement", 30, "1", func(c *client, i int) *response {
			inv := []string{"mentions", "everything"}[i%2]
			return c.do("PUT", roomPath(w.allTalk, "/involvement"), map[string]any{"involvement": inv})
		}, w.carol},
		{"Reads", 30, "1", func(c *client, i int) *response {
			return c.do("POST", roomPath(w.allTalk, "/read"), nil)
		}, w.carol},
		{"Typing", 30, "1", func(c *client, i int) *response {
			return c.do("POST", roomPath(w.allTalk, "/typing"), map[string]any{"state": []string{"start", "stop"}[i%2]})
		}, w.carol},
		{"Presence", 30, "1", func(c *client, i int) *response {
			return c.do("POST", roomPath(w.allTalk, "/presence"), map[string]any{"state": []string{"present", "absent"}[i%2]})
		}, w.carol},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Every bucket starts full.
			clock.Advance(time.Hour)
			for i := range tc.burst {
				if r := tc.do(w.bob, i); r.status == 429 || r.status >= 300 {
					t.Fatalf("request %d of the burst of %d: %d %s", i+1, tc.burst, r.status, r.body)
				}
			}
			r := tc.do(w.bob, tc.burst)
			r.wantError(t, 429, "rate_limited")
			if got := r.header.Get("Retry-After"); got != tc.retryAfter {
				t.Fatalf("Retry-After %q, want %q", got, tc.retryAfter)
			}
			if tc.other != nil {
				if r := tc.do(tc.other, 0); r.status == 429 {
					t.Fatalf("another person was refused: %s", r.body)
				}
			}
			// The wait is what Retry-After said.
			clock.Advance(6 * time.Second)
			if r := tc.do(w.bob, tc.burst+1); r.status == 429 {
				t.Fatalf("refused after Retry-After: %s", r.body)
			}
		})
	}

	t.Run("Admin", func(t *testing.T) {
		clock.Advance(time.Hour)
		for i := range 10 {
			w.admin.must(200, "PATCH", "/api/v1/account", map[string]any{"name": fmt.Sprint("Campfire ", i)})
		}
		r := w.admin.do("POST", "/api/v1/account/join_code", nil)
		r.wantError(t, 429, "rate_limited")
		if got := r.header.Get("Retry-After"); got != "6" {
			t.Fatalf("Retry-After %q, want 6", got)
		}
	})

	t.Run("GoIsNotLimited", func(t *testing.T) {
		for i := range 30 {
			if _, _, err := w.chat.PostMessage(ctx, w.allTalk, bob, fmt.Sprint("still from Go ", i), ""); err != nil {
				t.Fatalf("PostMessage while bob is limited: %v", err)
			}
		}
	})
}

// TestWriteLimitsConfigured: each limit follows Config.Limits, and a
// negative rate turns it off.
func TestWriteLimitsConfigured(t *testing.T) {
	clock := newHandClock()
	w := newWorld(t, campfire.Config{Now: clock.Now, Limits: campfire.Limits{
		Rooms:   campfire.Rate{PerSecond: 1.0 / 60, Burst: 2},
		Profile: campfire.Rate{PerSecond: -1},
	}})
	for i := range 2 {
		w.bob.must(201, "POST", "/api/v1/rooms", map[string]any{"kind": "open", "name": fmt.Sprint("R", i)})
	}
	r := w.bob.do("POST", "/api/v1/rooms", map[string]any{"kind": "open", "name": "R3"})
	r.wantError(t, 429, "rate_limited")
	if got := r.header.Get("Retry-After"); got != "60" {
		t.Fatalf("Retry-After %q, want 60", got)
	}
	for i := range 100 {
		w.bob.must(200, "PATCH", "/api/v1/users/me", map[string]any{"bio": strings.Repeat("b", i%10+1)})
	}
}

// TestMessageSizeIsCapped: a body whose message would encode past
// MaxMessageBytes (10,000 "<" take 210 KB) is refused with 422, posted or
// edited in; a 10,000-character paste of HTML source fits.
func TestMessageSizeIsCapped(t *testing.T) {
	w := newWorld(t)
	var paste strings.Builder
	paste.WriteString("```\n")
	for paste.Len() < 9960 {
		paste.WriteString(`<div class="x" onclick='go("a&b")'>` + "\n")
	}
	paste.WriteString("```")
	r := w.bob.do("POST", roomPath(w.allTalk, "/messages"), map[string]any{"body": paste.String()})
	if r.status != 201 || len(r.body) > campfire.MaxMessageBytes+100 {
		t.Fatalf("a 10,000-character paste of HTML: %d, %d bytes", r.status, len(r.body))
	}
	t.Logf("a %d-character paste of HTML: %d bytes", len(paste.String()), len(r.body))
	for _, body := range []string{strings.Repeat("<", 10000), strings.Repeat("&", 10000), "www.a.co/" + strings.Repeat("&", 9991)} {
		e := w.bob.do("POST", roomPath(w.allTalk, "/messages"), map[string]any{"body": body}).wantError(t, 422, "invalid")
		if e["field"] != "body" {
			t.Fatalf("error %v, want field body", e)
		}
	}
	m := w.bob.post(w.allTalk, "short")
	w.bob.do("PATCH", roomPath(w.allTalk, fmt.Sprintf("/messages/%d", id(m))), map[string]any{"body": strings.Repeat("<", 10000)}).
		wantError(t, 422, "invalid")
	got := w.bob.must(200, "GET", roomPath(w.allTalk, "/messages"), nil)["messages"].([]any)
	last := got[len(got)-1].(map[string]any)["body"].(map[string]any)["markdown"]
	if last != "short" {
		t.Fatalf("after a refused edit the message reads %.40q", last)
	}
}
