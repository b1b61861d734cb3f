package campfire_test

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/opencampfire/campfire"
)

// fuzzMemberBase is the id of the first fuzzed member.
const fuzzMemberBase = 101

// fuzzMembers makes a room from a newline-separated list of names: each
// line, cleaned into a name the rules allow (valid UTF-8, no <, > or @, no
// control characters, at most MaxNameLength characters, trimmed), is a
// member with id fuzzMemberBase+i, deactivated when bit i of inactive is
// set. Lines that leave nothing are skipped. The fixed members of
// renderMembers (ids 1 to 10, one deactivated) are in the room too.
func fuzzMembers(names string, inactive uint16) []campfire.User {
	room := slices.Clone(renderMembers)
	lines := strings.SplitN(names, "\n", 9)
	for i, line := range lines[:min(8, len(lines))] {
		name := strings.Map(func(r rune) rune {
			if r == '<' || r == '>' || r == '@' || unicode.IsControl(r) {
				return -1
			}
			return r
		}, strings.ToValidUTF8(line, ""))
		name = strings.TrimSpace(name)
		if utf8.RuneCountInString(name) > campfire.MaxNameLength {
			name = strings.TrimSpace(string([]rune(name)[:campfire.MaxNameLength]))
		}
		if name == "" {
			continue
		}
		status := campfire.StatusActive
		if inactive&(1<<i) != 0 {
			status = campfire.StatusDeactivated
		}
		room = append(room, campfire.User{ID: int64(fuzzMemberBase + i), Name: name, Status: status})
	}
	return room
}

// FuzzMentions renders arbitrary bodies in a room of arbitrarily named
// members and checks the mentions: every mention is of an active member, the
// HTML holds exactly the mentions reported, each showing the member's name
// escaped once, and none sits inside code, a preformatted block or a link.
// It then checks that each fuzzed member can be mentioned: by <@ID> always, and by
// @Name when no other active member has that name or first name. The seed
// corpus is in testdata/fuzz/FuzzMentions.
func FuzzMentions(f *testing.F) {
	for _, s := range []struct {
		body, names string
		inactive    uint16
	}{
		{"Hi @Bob and @Ada Lovelace <@101>", "Zed", 0},
		{"@Sam Smith @sam <@101> <@102>", "Sam Smith\nsam smith", 0},
		{"@Ann @Ann Lee @Ann Leeds", "Ann\nAnn Lee\nAnn Leeds", 0},
		{"@Gone <@101>", "Gone", 1},
		{"`@Zed` ```\n@Zed\n``` [@Zed](https://x.example) <https://x.example/@Zed>", "Zed", 0},
		{"    @Zed indented code", "Zed", 0},
		{"[a <@101> b](https://x.example) ![<@101>](https://x.example/i.png)", "Zed", 0},
		{"**@Tom & \"J.R.\" (QA)+** _<@8>_", "", 0},
		{"@&lt;s @&amp; @\"onload=", "&lt;s\n&amp;\n\"onload=", 0},
		{"@Zoë Ångström @zoë @ZOË", "Zoë\nzoë ångström", 0},
		{"@Kelvin @kelvin sign", "\u212aelvin", 0},
		{"bob@example.com x@Zed @Zed's", "Zed", 0},
		{"> - @Zed\n>   1. <@101>", "Zed", 0},
		{"@Zed\u202e @\u200bZed", "\u200bZed", 0},
		{"<@00101> <@101 > <@-101> <@99999999999999999999>", "Zed", 0},
		{"@*a* @[x](javascript:alert(1)) @`c`", "*a*\n[x](javascript:alert(1))\n`c`", 0},
		{strings.Repeat("@Zed ", 30), "Zed\nZed Two", 0},
		{"@A @B @C @D @E @F @G @H", "A\nB\nC\nD\nE\nF\nG\nH", 0xaa},
		{"@Ada", "ada\nADA LOVELACE", 0},
		{"@x\n@x y\n@x y z", "x y\nx y z\nx", 4},
	} {
		f.Add(s.body, s.names, s.inactive)
	}
	r := campfire.NewRenderer()
	f.Fuzz(func(t *testing.T, body, names string, inactive uint16) {
		room := fuzzMembers(names, inactive)
		active := map[int64]string{}
		for _, m := range room {
			if m.Active() {
				active[m.ID] = strings.TrimSpace(m.Name)
			}
		}

		got, err := r.Render(body, room)
		if !validBody(body) {
			if !errors.Is(err, campfire.ErrInvalid) {
				t.Fatalf("Render(%q) = %v, want ErrInvalid", body, err)
			}
		} else {
			if err != nil {
				t.Fatalf("Render(%q): %v", body, err)
			}
			checkMentions(t, got, active)
			// More than 16 lookups sort the members and search them;
			// the answers must not change.
			if lead := indexingLead(room); validBody(lead + body) {
				again, err := r.Render(lead+body, room)
				if err != nil || !slices.Equal(again.Mentions, got.Mentions) {
					t.Errorf("after 20 lookups: Mentions %v, %v; want %v", again.Mentions, err, got.Mentions)
				}
			}
		}

		// Every fuzzed member can be mentioned (the fixed ones are
		// render_test's).
		for _, m := range room[len(renderMembers):] {
			name := strings.TrimSpace(m.Name)
			var want []int64
			if m.Active() {
				want = []int64{m.ID}
			}
			token := "<@" + strconv.FormatInt(m.ID, 10) + ">"
			if got, err := r.Render(token, room); err != nil || !slices.Equal(got.Mentions, want) {
				t.Errorf("Render(%q) with %q: Mentions %v, %v; want %v", token, name, got.Mentions, err, want)
			} else {
				checkMentions(t, got, active)
			}
			// A body loses bidi controls, so a name with one cannot be
			// typed; its id can.
			unique := m.Active() && campfire.BodyAsStored(name) == name && !slices.ContainsFunc(room, func(o campfire.User) bool {
				return o.ID != m.ID && o.Active() &&
					(strings.EqualFold(strings.TrimSpace(o.Name), name) || strings.EqualFold(firstWordOf(o.Name), name))
			})
			got, err := r.Render("@"+name, room)
			if err != nil {
				t.Fatalf("Render(%q): %v", "@"+name, err)
			}
			checkMentions(t, got, active)
			switch {
			case !m.Active() && slices.Contains(got.Mentions, m.ID):
				t.Errorf("Render(%q): Mentions %v name %d, who is deactivated", "@"+name, got.Mentions, m.ID)
			case unique && !slices.Equal(got.Mentions, want):
				t.Errorf("Render(%q): Mentions %v; want %v", "@"+name, got.Mentions, want)
			}
		}
	})
}

// indexingLead is a paragraph of 20 @s that mention nobody in room.
func indexingLead(room []campfire.User) string {
	for _, c := range "-+=~^%$!?" {
		if !slices.ContainsFunc(room, func(u campfire.User) bool { return strings.HasPrefix(strings.TrimSpace(u.Name), string(c)) }) {
			return strings.Repeat("@"+string(c)+" ", 20) + "\n\n"
		}
	}
	panic("no free lead")
}

func firstWordOf(name string) string {
	if f := strings.Fields(name); len(f) > 0 {
		return f[0]
	}
	return ""
}

// checkMentions checks a rendered body's mentions against the room's active
// members (id to trimmed name).
func checkMentions(t *testing.T, got campfire.Rendered, active map[int64]string) {
	t.Helper()
	if !slices.IsSorted(got.Mentions) || len(slices.Compact(slices.Clone(got.Mentions))) != len(got.Mentions) {
		t.Errorf("Mentions %v are not distinct and ascending", got.Mentions)
	}
	for _, id := range got.Mentions {
		if _, ok := active[id]; !ok {
			t.Errorf("Mentions %v name %d, not an active member", got.Mentions, id)
		}
	}
	h := got.Body.HTML
	for _, p := range htmlProblems(h) {
		t.Errorf("%s\nHTML: %q", p, h)
	}
	nodes, err := parseBodyFragment(h)
	if err != nil {
		t.Fatalf("parse %q: %v", h, err)
	}
	var ids []int64
	spans := 0
	for _, root := range nodes {
		for n := range htmlTree(root) {
			if n.Type != html.ElementNode || n.DataAtom != atom.Span {
				continue
			}
			spans++
			var id int64
			for _, a := range n.Attr {
				if a.Key == "data-user-id" {
					id, _ = strconv.ParseInt(a.Val, 10, 64)
				}
			}
			ids = append(ids, id)
			name, ok := active[id]
			if !ok {
				t.Errorf("span of %d, not an active member: %q", id, h)
				continue
			}
			if c := n.FirstChild; c == nil || c.Type != html.TextNode || c.Data != "@"+name || c.NextSibling != nil {
				t.Errorf("span of %d does not show exactly @%s: %q", id, name, h)
			}
			for p := n.Parent; p != nil; p = p.Parent {
				switch p.DataAtom {
				case atom.Code, atom.Pre, atom.A, atom.Span:
					t.Errorf("mention of %d inside <%s>: %q", id, p.Data, h)
				}
			}
			// Escaped once, as html.EscapeString does: not twice, not raw.
			want := `<span class="mention" data-user-id="` + strconv.FormatInt(id, 10) + `">@` + html.EscapeString(name) + `</span>`
			if !strings.Contains(h, want) {
				t.Errorf("HTML lacks %q: %q", want, h)
			}
		}
	}
	if n := strings.Count(h, "<span"); n != spans {
		t.Errorf("%d <span in the markup, %d span elements: %q", n, spans, h)
	}
	slices.Sort(ids)
	if ids = slices.Compact(ids); !slices.Equal(ids, got.Mentions) {
		t.Errorf("HTML mentions %v, Mentions %v: %q", ids, got.Mentions, h)
	}
}

// TestRenderUnresolvedIDTokenIsNotAName: a <@ID> that names no active
// member mentions nobody, even a member whose name starts with those
// digits (found by FuzzMentions: <@7>, for a deactivated 7, mentioned
// "7 0").
func TestRenderUnresolvedIDTokenIsNotAName(t *testing.T) {
	room := append(slices.Clone(renderMembers),
		campfire.User{ID: 101, Name: "7 0", Status: campfire.StatusActive},
		campfire.User{ID: 102, Name: "42", Status: campfire.StatusActive})
	r := campfire.NewRenderer()
	for _, tt := range []struct {
		in   string
		want []int64
	}{
		{"<@7>", nil},  // deactivated
		{"<@42>", nil}, // no such member
		{"<@101>", []int64{101}},
		{"<@99999999999999999999999>", nil},
		{"@7 0 and @42", []int64{101, 102}},
		{"<@42 >", []int64{102}}, // not an id token: a name in angle brackets
		{"<@bob>", []int64{5}},
	} {
		got, err := r.Render(tt.in, room)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Mentions, tt.want) {
			t.Errorf("Render(%q).Mentions = %v, want %v (%s)", tt.in, got.Mentions, tt.want, got.Body.HTML)
		}
	}
}
