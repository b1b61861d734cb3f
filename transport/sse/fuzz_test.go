package sse

import (
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/opencampfire/campfire"
)

// fuzzMaxRooms maps a fuzzed byte to a MaxRooms as New would set it.
func fuzzMaxRooms(b uint8) int {
	if b == 0 {
		return DefaultMaxRooms
	}
	return int(b)
}

// encodeRooms writes rooms back as rooms= would name them.
func encodeRooms(rooms []roomRequest) string {
	var b []byte
	for i, rq := range rooms {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, rq.id, 10)
		if rq.replay {
			b = append(b, ':')
			b = strconv.AppendInt(b, rq.since, 10)
		}
	}
	return string(b)
}

// checkRooms checks what must hold for any parsed room list.
func checkRooms(t *testing.T, rooms []roomRequest, maxRooms int) {
	t.Helper()
	if len(rooms) > maxRooms {
		t.Errorf("%d rooms, more than %d", len(rooms), maxRooms)
	}
	seen := map[int64]bool{}
	for _, rq := range rooms {
		if rq.id <= 0 || rq.since < 0 || !rq.replay && rq.since != 0 {
			t.Errorf("room %+v", rq)
		}
		if seen[rq.id] {
			t.Errorf("room %d twice in %+v", rq.id, rooms)
		}
		seen[rq.id] = true
	}
}

// FuzzParseRooms parses arbitrary query strings as GET /sse would read them
// (r.URL.Query()["rooms"]). A list is either refused with a validation error
// of the field rooms, or parsed into at most MaxRooms distinct positive room
// ids with non-negative seqs, one per item, that encode back to a list that
// parses the same. The seed corpus is in testdata/fuzz/FuzzParseRooms.
func FuzzParseRooms(f *testing.F) {
	for _, s := range []struct {
		query string
		max   uint8
	}{
		{"rooms=7:118,9:0", 0},
		{"rooms=7,9:,11:3", 0},
		{"rooms=7&rooms=9:4", 0},
		{"rooms=", 0},
		{"", 0},
		{"rooms=0", 0},
		{"rooms=-1", 0},
		{"rooms=+7", 0},
		{"rooms=7:-1", 0},
		{"rooms=7:+1", 0},
		{"rooms=7,7", 0},
		{"rooms=7:1,007:2", 0},
		{"rooms=1,2,3", 2},
		{"rooms=9223372036854775807:9223372036854775807", 0},
		{"rooms=9223372036854775808", 0},
		{"rooms=7:1:2", 0},
		{"rooms=,7", 0},
		{"rooms=7,", 0},
		{"rooms=7%2C9", 0},
		{"rooms=%37", 0},
		{"rooms=7;9", 0},
		{"rooms=1_000", 0},
		{"rooms=0x10", 0},
		{"rooms=%EF%BC%97", 0},
		{"rooms= 7", 0},
		{"rooms=7&rooms=", 0},
		{"rooms=" + strings.Repeat("1,", 100) + "1", 0},
		{"rooms=" + strings.Repeat(",", 1000), 0},
	} {
		f.Add(s.query, s.max)
	}
	f.Fuzz(func(t *testing.T, query string, max uint8) {
		maxRooms := fuzzMaxRooms(max)
		values, _ := url.ParseQuery(query) // as r.URL.Query does, errors ignored
		rooms, err := parseRooms(values["rooms"], maxRooms)
		if err != nil {
			var ve *campfire.ValidationError
			if !errors.As(err, &ve) || ve.Field != "rooms" || !errors.Is(err, campfire.ErrInvalid) {
				t.Fatalf("%q: error %v, want a ValidationError of rooms", query, err)
			}
			if rooms != nil {
				t.Errorf("%q: rooms %+v with an error", query, rooms)
			}
			return
		}
		checkRooms(t, rooms, maxRooms)
		list := strings.Join(values["rooms"], ",")
		if list == "" {
			if rooms != nil {
				t.Errorf("%q: no list, rooms %+v", query, rooms)
			}
			return
		}
		if n := strings.Count(list, ",") + 1; len(rooms) != n {
			t.Errorf("%q: %d items, %d rooms", query, n, len(rooms))
		}
		enc := encodeRooms(rooms)
		again, err := parseRooms([]string{enc}, maxRooms)
		if err != nil || !slices.Equal(again, rooms) {
			t.Errorf("%q parses to %+v; encoded again as %q, to %+v, %v", query, rooms, enc, again, err)
		}
	})
}

// FuzzResumeFrom applies arbitrary Last-Event-ID cursors to the rooms of
// an arbitrary rooms= list. A cursor changes only the positions of rooms
// already in the list, to non-negative seqs it names; a malformed cursor,
// or one naming more than MaxRooms rooms, changes nothing. The cursor the
// stream then writes (the id: of its events) resumes to the same
// positions. The seed corpus is in testdata/fuzz/FuzzResumeFrom.
func FuzzResumeFrom(f *testing.F) {
	for _, s := range []struct {
		rooms, last string
		max         uint8
	}{
		{"7,9", "7:120,9:4", 0},
		{"7:100,9", "7:120", 0},
		{"7,9", "7:120,11:5", 0},
		{"7", "", 0},
		{"7", "7", 0},
		{"7", "7:", 0},
		{"7", ":5", 0},
		{"7", "0:5", 0},
		{"7", "7:-1", 0},
		{"7", "7:+1", 0},
		{"7", "7:1,7:2", 0},
		{"7", "7:2,7:1", 0},
		{"7", "7:1:2", 0},
		{"7", "7:9223372036854775807", 0},
		{"7", "7:9223372036854775808", 0},
		{"7,9", "7:1,9:2,11:3", 2},
		{"7", "7:1,", 0},
		{"7", ",7:1", 0},
		{"7", "7:1 ", 0},
		{"7", " 7:1", 0},
		{"7", "7:0x10", 0},
		{"7", "7:\u0661", 0},
		{"7", strings.Repeat("7:1,", 100) + "7:2", 0},
		{"1,2,3", "3:30,2:20,1:10", 0},
		{"", "7:1", 0},
	} {
		f.Add(s.rooms, s.last, s.max)
	}
	f.Fuzz(func(t *testing.T, list, last string, max uint8) {
		maxRooms := fuzzMaxRooms(max)
		rooms, err := parseRooms([]string{list}, maxRooms)
		if err != nil {
			return
		}
		before := slices.Clone(rooms)
		resumeFrom(rooms, last, maxRooms)
		checkRooms(t, rooms, maxRooms)

		// The independent reading of the cursor: every item ID:SEQ, both
		// plain decimal, ID positive, at most maxRooms items; the last
		// position of a room wins.
		want := map[int64]int64{}
		items := strings.Split(last, ",")
		valid := len(items) <= maxRooms
		for _, item := range items {
			idText, seqText, ok := strings.Cut(item, ":")
			id, idErr := strconv.ParseInt(idText, 10, 64)
			seq, seqErr := strconv.ParseInt(seqText, 10, 64)
			if !ok || idErr != nil || seqErr != nil || id <= 0 || seq < 0 || !digits(idText) || !digits(seqText) {
				valid = false
				break
			}
			want[id] = seq
		}
		for i, rq := range rooms {
			b := before[i]
			if rq.id != b.id {
				t.Fatalf("resumeFrom(%q) changed the rooms: %+v, was %+v", last, rooms, before)
			}
			seq, named := want[rq.id]
			switch {
			case valid && named:
				if !rq.replay || rq.since != seq {
					t.Errorf("resumeFrom(%q): room %d at %+v, want since %d", last, rq.id, rq, seq)
				}
			case rq != b:
				t.Errorf("resumeFrom(%q) (valid %v) moved room %d: %+v, was %+v", last, valid, rq.id, rq, b)
			}
		}

		// The id: a stream writes from these positions resumes to them.
		c := newCursor(rooms)
		id := string(c.encode())
		fresh := make([]roomRequest, len(rooms))
		for i, rq := range rooms {
			fresh[i] = roomRequest{id: rq.id}
		}
		if id != "" {
			resumeFrom(fresh, id, maxRooms)
		}
		if !slices.Equal(fresh, rooms) {
			t.Errorf("cursor %q of %+v resumes to %+v", id, rooms, fresh)
		}
		// The encoding is what the package doc promises: ID:SEQ items.
		if id != "" && id != encodeRooms(replayed(rooms)) {
			t.Errorf("cursor %q, want %q", id, encodeRooms(replayed(rooms)))
		}
	})
}

func replayed(rooms []roomRequest) []roomRequest {
	var out []roomRequest
	for _, rq := range rooms {
		if rq.replay {
			out = append(out, rq)
		}
	}
	return out
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
