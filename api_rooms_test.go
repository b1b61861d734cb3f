package campfire_test

import (
	"fmt"
	"testing"
)

func TestRooms(t *testing.T) {
	w := newWorld(t)
	t.Run("EachSeesOnlyTheirRooms", func(t *testing.T) {
		for _, tc := range []struct {
			who  *client
			want []int64
		}{
			{w.admin, []int64{w.allTalk, w.secret, w.dm}},
			{w.bob, []int64{w.allTalk, w.secret, w.dm}},
			{w.carol, []int64{w.allTalk}},
		} {
			var got []int64
			for _, r := range tc.who.must(200, "GET", "/api/v1/rooms", nil)["rooms"].([]any) {
				got = append(got, id(r))
				if r.(map[string]any)["membership"] == nil {
					t.Fatalf("room without membership: %v", r)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("rooms = %v, want %v", got, tc.want)
			}
		}
	})
	t.Run("OutsidersGet404ForEverythingInARoom", func(t *testing.T) {
		for _, probe := range []struct{ method, path string }{
			{"GET", ""}, {"PATCH", ""}, {"DELETE", ""}, {"PUT", "/involvement"}, {"POST", "/read"},
			{"GET", "/messages"}, {"POST", "/messages"}, {"GET", "/events"},
			{"POST", "/typing"}, {"POST", "/presence"},
		} {
			for _, room := range []int64{w.secret, w.dm, 999999} {
				var body any
				if probe.method != "GET" && probe.method != "DELETE" {
					body = map[string]any{"name": "x", "body": "x", "involvement": "everything", "state": "start"}
				}
				r := w.carol.do(probe.method, roomPath(room, probe.path), body)
				if r.status != 404 {
					t.Errorf("carol %s room %d%s: %d %s", probe.method, room, probe.path, r.status, r.body)
				}
			}
		}
		w.carol.do("GET", "/api/v1/rooms/abc", nil).wantError(t, 404, "not_found")
	})
	t.Run("OpenRoomsIncludeEveryone", func(t *testing.T) {
		r := w.bob.must(201, "POST", "/api/v1/rooms", map[string]any{"kind": "open", "name": "  Watercooler  "})["room"].(map[string]any)
		if r["name"] != "Watercooler" || r["kind"] != "open" || int64(r["creator_id"].(float64)) != w.bobID {
			t.Fatalf("room = %v", r)
		}
		w.carol.must(200, "GET", roomPath(id(r), ""), nil)
		// A later newcomer joins it too.
		dan, _ := w.join(t, "Dan", "dan@example.com")
		dan.must(200, "GET", roomPath(id(r), ""), nil)
	})
	t.Run("ClosedRoomsHoldTheInvited", func(t *testing.T) {
		r := w.carol.must(201, "POST", "/api/v1/rooms", map[string]any{"kind": "closed", "name": "Carol's", "user_ids": []int64{w.bobID}})["room"]
		w.bob.must(200, "GET", roomPath(id(r), ""), nil)
		w.admin.do("GET", roomPath(id(r), ""), nil).wantError(t, 404, "not_found")
	})
	t.Run("DirectRoomsAreOnePerSetOfPeople", func(t *testing.T) {
		res := w.bob.do("POST", "/api/v1/rooms", map[string]any{"kind": "direct", "user_ids": []int64{w.adminID}})
		if res.status != 200 || id(res.json(t)["room"]) != w.dm {
			t.Fatalf("asking again: %d %s; want 200 and room %d", res.status, res.body, w.dm)
		}
		r := res.json(t)["room"].(map[string]any)
		if r["membership"].(map[string]any)["involvement"] != "everything" || fmt.Sprint(r["user_ids"]) != fmt.Sprint([]any{float64(w.adminID), float64(w.bobID)}) {
			t.Fatalf("direct room = %v", r)
		}
		three := w.carol.must(201, "POST", "/api/v1/rooms", map[string]any{"kind": "direct", "user_ids": []int64{w.adminID, w.bobID}})["room"]
		if id(three) == w.dm {
			t.Fatal("a room of three is a different room")
		}
		w.carol.do("POST", "/api/v1/rooms", map[string]any{"kind": "direct", "user_ids": []int64{}}).wantError(t, 422, "invalid")
		w.carol.do("POST", "/api/v1/rooms", map[string]any{"kind": "direct", "user_ids": []int64{424242}}).wantError(t, 422, "invalid")
	})
	t.Run("Validation", func(t *testing.T) {
		for _, body := range []map[string]any{
			{"kind": "lobby", "name": "x"},
			{"name": "x"},
			{"kind": "open"},
			{"kind": "open", "name": "   "},
			{"kind": "closed", "name": "x", "user_ids": []int64{-1}},
		} {
			w.bob.do("POST", "/api/v1/rooms", body).wantError(t, 422, "invalid")
		}
	})
	t.Run("OnlyCreatorOrAdminChangesARoom", func(t *testing.T) {
		r := id(w.bob.must(201, "POST", "/api/v1/rooms", map[string]any{"kind": "open", "name": "Bob's"})["room"])
		w.carol.do("PATCH", roomPath(r, ""), map[string]any{"name": "Mine"}).wantError(t, 403, "forbidden")
		w.carol.do("DELETE", roomPath(r, ""), nil).wantError(t, 403, "forbidden")
		if got := w.bob.must(200, "PATCH", roomPath(r, ""), map[string]any{"name": "Bob's place"})["room"].(map[string]any); got["name"] != "Bob's place" {
			t.Fatalf("renamed = %v", got)
		}
		w.admin.must(200, "PATCH", roomPath(r, ""), map[string]any{"name": "Admin's now"})
		w.admin.do("PATCH", roomPath(w.dm, ""), map[string]any{"name": "x"}).wantError(t, 422, "invalid")
		w.admin.do("PATCH", roomPath(r, ""), map[string]any{"kind": "direct"}).wantError(t, 422, "invalid")
		w.admin.do("PATCH", roomPath(r, ""), map[string]any{"user_ids": []int64{w.bobID}}).wantError(t, 422, "invalid")
	})
	t.Run("ConvertingAndRevisingMembers", func(t *testing.T) {
		r := id(w.bob.must(201, "POST", "/api/v1/rooms", map[string]any{"kind": "closed", "name": "Plans"})["room"])
		w.carol.do("GET", roomPath(r, ""), nil).wantError(t, 404, "not_found")
		w.bob.must(200, "PATCH", roomPath(r, ""), map[string]any{"kind": "open"})
		w.carol.must(200, "GET", roomPath(r, ""), nil)
		w.bob.must(200, "PATCH", roomPath(r, ""), map[string]any{"kind": "closed", "user_ids": []int64{w.adminID}})
		w.carol.do("GET", roomPath(r, ""), nil).wantError(t, 404, "not_found")
		w.admin.must(200, "GET", roomPath(r, ""), nil)
		w.bob.must(200, "GET", roomPath(r, ""), nil) // the creator always stays
	})
	t.Run("DeletingARoom", func(t *testing.T) {
		r := id(w.bob.must(201, "POST", "/api/v1/rooms", map[string]any{"kind": "open", "name": "Doomed"})["room"])
		w.bob.must(204, "DELETE", roomPath(r, ""), nil)
		w.bob.do("GET", roomPath(r, ""), nil).wantError(t, 404, "not_found")
		// Any participant may delete a direct room.
		d := id(w.carol.must(201, "POST", "/api/v1/rooms", map[string]any{"kind": "direct", "user_ids": []int64{w.bobID}})["room"])
		w.bob.must(204, "DELETE", roomPath(d, ""), nil)
		w.carol.do("GET", roomPath(d, ""), nil).wantError(t, 404, "not_found")
	})
	t.Run("Involvement", func(t *testing.T) {
		r := w.bob.must(200, "PUT", roomPath(w.allTalk, "/involvement"), map[string]any{"involvement": "invisible"})["room"].(map[string]any)
		if r["membership"].(map[string]any)["involvement"] != "invisible" {
			t.Fatalf("room = %v", r)
		}
		w.bob.do("PUT", roomPath(w.allTalk, "/involvement"), map[string]any{"involvement": "loud"}).wantError(t, 422, "invalid")
		// Invisible rooms are never marked unread.
		w.carol.post(w.allTalk, "anyone?")
		if unread(t, w.bob, w.allTalk) {
			t.Fatal("an invisible room was marked unread")
		}
		w.bob.must(200, "PUT", roomPath(w.allTalk, "/involvement"), map[string]any{"involvement": "mentions"})
	})
	t.Run("UnreadAndRead", func(t *testing.T) {
		w.admin.post(w.secret, "news")
		if !unread(t, w.bob, w.secret) {
			t.Fatal("bob's room is not unread after admin posted")
		}
		if unread(t, w.admin, w.secret) {
			t.Fatal("the author's own room turned unread")
		}
		w.bob.must(204, "POST", roomPath(w.secret, "/read"), nil)
		if unread(t, w.bob, w.secret) {
			t.Fatal("still unread after reading")
		}
	})
}

func unread(t *testing.T, c *client, room int64) bool {
	t.Helper()
	r := c.must(200, "GET", roomPath(room, ""), nil)["room"].(map[string]any)
	return r["membership"].(map[string]any)["unread"].(bool)
}

// Presence over plain HTTP counts per session: one device going away
// leaves the user present through another, so the room is not marked unread.
func TestHTTPPresenceCountsEachSession(t *testing.T) {
	w := newWorld(t)
	phone := newClient(t, w.ts.URL)
	phone.must(200, "POST", "/api/v1/session", map[string]any{"email": "bob@example.com", "password": testPassword})
	w.bob.must(204, "POST", roomPath(w.secret, "/presence"), map[string]any{"state": "present"})
	phone.must(204, "POST", roomPath(w.secret, "/presence"), map[string]any{"state": "present"})
	phone.must(204, "POST", roomPath(w.secret, "/presence"), map[string]any{"state": "absent"})
	w.admin.post(w.secret, "are you there?")
	if unread(t, w.bob, w.secret) {
		t.Fatal("bob is present on his laptop, yet the room turned unread")
	}
	w.bob.must(204, "POST", roomPath(w.secret, "/presence"), map[string]any{"state": "absent"})
	w.admin.post(w.secret, "gone now")
	if !unread(t, w.bob, w.secret) {
		t.Fatal("bob left on every device, yet the room is not unread")
	}
	w.bob.do("POST", roomPath(w.secret, "/presence"), map[string]any{"state": "here"}).wantError(t, 422, "invalid")
}
