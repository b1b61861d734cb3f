package campfire_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"testing"
)

// FuzzMessageCursors sends arbitrary query strings to GET
// /rooms/{id}/messages (in process, without a socket) and checks the answer
// against a model of the room: malformed cursors and ids of messages in
// other rooms are 404, two cursors or a bad limit are 422, and a page holds
// only the room's live messages, oldest first, at most limit of them, on
// the right side of the cursor. Never a 500. The root has no pure cursor
// parser to fuzz: the handler is the parser. The seed corpus is in
// testdata/fuzz/FuzzMessageCursors.
func FuzzMessageCursors(f *testing.F) {
	w := newWorld(f)
	// The room's messages interleave with the secret room's, so that ids
	// of another room's messages sit between this room's.
	var live, all, foreign []int64
	for i := range 14 {
		m := w.bob.post(w.allTalk, fmt.Sprintf("message %d", i))
		all = append(all, id(m))
		if i%3 == 0 {
			foreign = append(foreign, id(w.bob.post(w.secret, fmt.Sprintf("secret %d", i))))
		}
	}
	deleted := all[5]
	w.bob.must(204, "DELETE", roomPath(w.allTalk, fmt.Sprintf("/messages/%d", deleted)), nil)
	for _, x := range all {
		if x != deleted {
			live = append(live, x)
		}
	}
	path := roomPath(w.allTalk, "/messages")
	cookies := w.bob.http.Jar.Cookies(mustURL(f, w.ts.URL))

	for _, s := range []string{
		"", "limit=5", "limit=100", "limit=101", "limit=0", "limit=-1", "limit=1e2", "limit=+5", "limit= 5",
		"before=10", "after=3", "around=8", "around=8&limit=3", "around=1&limit=4", "before=1", "after=9223372036854775807",
		"before=0", "before=-3", "before=abc", "before=", "before=9223372036854775808", "before=+9", "before=0009",
		"before=3&after=9", "before=3&around=", "after=x&before=3", "before=3&before=x", "Before=3",
		fmt.Sprintf("before=%d", foreign[1]), fmt.Sprintf("around=%d", foreign[2]), fmt.Sprintf("after=%d&limit=2", deleted),
		fmt.Sprintf("around=%d&limit=1", deleted), "before=%33", "before=3;after=4", "before=3%00", "around=%2B7", "limit=50&limit=x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		req := httptest.NewRequest("GET", path, nil)
		req.URL.RawQuery = rawQuery
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		w.chat.ServeHTTP(rec, req)
		res := &response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}

		// The model: what the protocol says the answer is.
		q, _ := url.ParseQuery(rawQuery)
		var cursor struct {
			name string
			id   int64
		}
		cursors := 0
		for _, name := range []string{"before", "after", "around"} {
			v := q.Get(name)
			if v == "" {
				continue
			}
			cursors++
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				res.wantError(t, 404, "not_found")
				return
			}
			cursor.name, cursor.id = name, n
		}
		if cursors > 1 {
			res.wantError(t, 422, "invalid")
			return
		}
		limit := 50
		if v := q.Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 100 {
				res.wantError(t, 422, "invalid")
				return
			}
			limit = n
		}
		if cursors == 1 && !slices.Contains(all, cursor.id) {
			res.wantError(t, 404, "not_found")
			return
		}
		if res.status != http.StatusOK {
			t.Fatalf("%q: %d %s", rawQuery, res.status, res.body)
		}
		var page struct {
			Messages []struct {
				ID     int64 `json:"id"`
				RoomID int64 `json:"room_id"`
			} `json:"messages"`
			MoreBefore *bool `json:"more_before"`
			MoreAfter  *bool `json:"more_after"`
		}
		if err := json.Unmarshal(res.body, &page); err != nil || page.Messages == nil || page.MoreBefore == nil || page.MoreAfter == nil {
			t.Fatalf("%q: page %s: %v", rawQuery, res.body, err)
		}
		var ids []int64
		for _, m := range page.Messages {
			if m.RoomID != w.allTalk {
				t.Errorf("%q: message %d of room %d", rawQuery, m.ID, m.RoomID)
			}
			ids = append(ids, m.ID)
		}
		if len(ids) > limit {
			t.Errorf("%q: %d messages, limit %d", rawQuery, len(ids), limit)
		}
		// A contiguous run of the live messages, oldest first.
		start := 0
		if len(ids) > 0 {
			start = slices.Index(live, ids[0])
			if start < 0 || start+len(ids) > len(live) || !slices.Equal(live[start:start+len(ids)], ids) {
				t.Fatalf("%q: %v is not a run of the live messages %v", rawQuery, ids, live)
			}
		}
		var want []int64
		switch cursor.name {
		case "":
			want = live[max(0, len(live)-limit):]
		case "before":
			older := live[:countBelow(live, cursor.id)]
			want = older[max(0, len(older)-limit):]
		case "after":
			newer := live[countBelow(live, cursor.id+1):]
			want = newer[:min(limit, len(newer))]
		case "around":
			// Up to limit in all: half before the cursor, the other half
			// (with the odd one) from the cursor on; a side that runs
			// short leaves its share to the other.
			split := countBelow(live, cursor.id)
			na := min(len(live)-split, limit-min(split, limit/2))
			nb := min(split, limit-na)
			want = live[split-nb : split+na]
		}
		if !slices.Equal(ids, want) {
			t.Errorf("%q: messages %v, want %v", rawQuery, ids, want)
		}
		if len(ids) > 0 {
			if wantBefore := start > 0; *page.MoreBefore != wantBefore {
				t.Errorf("%q: more_before %v, want %v", rawQuery, *page.MoreBefore, wantBefore)
			}
			if wantAfter := start+len(ids) < len(live); *page.MoreAfter != wantAfter {
				t.Errorf("%q: more_after %v, want %v", rawQuery, *page.MoreAfter, wantAfter)
			}
		}
	})
}

// countBelow is how many of the ascending ids are below x.
func countBelow(ids []int64, x int64) int {
	n, _ := slices.BinarySearch(ids, x)
	return n
}
