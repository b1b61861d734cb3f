package campfire_test

import (
	"errors"
	"reflect"
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

// FuzzRender renders arbitrary markdown in a room with one arbitrarily named
// extra member (id 99) and checks what must hold for every body. The seed
// corpus is in testdata/fuzz/FuzzRender.
func FuzzRender(f *testing.F) {
	for _, s := range []struct{ markdown, name string }{
		{"Hi @Bob, **ship it**", "Bob"},
		{"@Ada Lovelace and @ada and <@1> <@99>", "Ada"},
		{"[x](javascript:alert(1)) <script>alert(1)</script>", "x"},
		{"![@Bob](https://example.com/a.png) [@Bob](https://example.com)", "Bob"},
		{"```go\n@Bob <@5>\n```\n`@Bob`", "Bob"},
		{"@Tom & \"J.R.\" (QA)+ hi", `Tom & "J.R." (QA)+`},
		{"/play tada", "tada"},
		{"> - *a **b** ~~c~~*\n> 2. d", "d"},
		{"a\r\nb\rc", "a b"},
		{"@Zoë <@99> @zoë", "Zoë Ångström"},
		{"[a <https://b.example>](https://c.example) [![i](https://i.example)](https://l.example)", "i"},
		{"<@99>", "<script>alert(1)</script>"},
	} {
		f.Add(s.markdown, s.name)
	}
	r := campfire.NewRenderer()
	f.Fuzz(func(t *testing.T, markdown, name string) {
		room := slices.Clone(renderMembers)
		if utf8.ValidString(name) && !strings.ContainsFunc(name, unicode.IsControl) {
			room = append(room, campfire.User{ID: 99, Name: name, Status: campfire.StatusActive})
		}
		names := map[int64]string{}
		for _, m := range room {
			if m.Active() {
				names[m.ID] = strings.TrimSpace(m.Name)
			}
		}

		got, err := r.Render(markdown, room)

		normalized := campfire.BodyAsStored(markdown)
		valid := utf8.ValidString(markdown) && !strings.ContainsRune(markdown, 0) &&
			!campfire.Blank(normalized) && utf8.RuneCountInString(normalized) <= campfire.MaxBodyLength
		if !valid {
			if !errors.Is(err, campfire.ErrInvalid) {
				t.Fatalf("Render(%q) = %v, want an error matching ErrInvalid", markdown, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Render(%q): %v", markdown, err)
		}

		if got.Body.Markdown != normalized {
			t.Errorf("Markdown = %q, want %q", got.Body.Markdown, normalized)
		}
		if !utf8.ValidString(got.Body.HTML) || !utf8.ValidString(got.Body.PlainText) {
			t.Errorf("invalid UTF-8 out: %q %q", got.Body.HTML, got.Body.PlainText)
		}
		assertSafeHTML(t, got.Body.HTML)

		if got.Body.PlainText == "" || got.Body.PlainText != strings.TrimSpace(got.Body.PlainText) {
			t.Errorf("PlainText %q is empty or not trimmed", got.Body.PlainText)
		}
		// '<' reaches the plain text only as the author's text or a name:
		// never as markup.
		if !strings.ContainsAny(markdown, "<&") && !strings.Contains(name, "<") && strings.Contains(got.Body.PlainText, "<") {
			t.Errorf("PlainText %q has a '<' the input did not", got.Body.PlainText)
		}

		// Mentions: distinct, ascending, active members, and exactly the
		// mentions in the HTML, each showing the member's name.
		if !slices.IsSorted(got.Mentions) || len(slices.Compact(slices.Clone(got.Mentions))) != len(got.Mentions) {
			t.Errorf("Mentions %v not distinct and ascending", got.Mentions)
		}
		inHTML := htmlMentions(t, got.Body.HTML)
		var ids []int64
		for _, m := range inHTML {
			want, ok := names[m.id]
			if !ok {
				t.Errorf("mention of %d, who is not an active member", m.id)
			}
			if m.text != "@"+want {
				t.Errorf("mention of %d shows %q, want %q", m.id, m.text, "@"+want)
			}
			ids = append(ids, m.id)
		}
		slices.Sort(ids)
		if ids = slices.Compact(ids); !slices.Equal(ids, got.Mentions) {
			t.Errorf("Mentions = %v, but the HTML mentions %v", got.Mentions, ids)
		}

		if got.Sound != "" && (!campfire.IsSound(got.Sound) || strings.TrimSpace(markdown) != "/play "+got.Sound) {
			t.Errorf("Sound = %q for %q", got.Sound, markdown)
		}

		// More than 16 lookups switch mention lookup from scanning the
		// members to searching them sorted; the answers must not change.
		lead := strings.Repeat("@- ", 20)
		if strings.HasPrefix(strings.TrimSpace(name), "-") {
			lead = strings.Repeat("@+ ", 20)
		}
		if utf8.RuneCountInString(lead+"\n\n"+normalized) <= campfire.MaxBodyLength {
			indexed, err := r.Render(lead+"\n\n"+markdown, room)
			if err != nil || !slices.Equal(indexed.Mentions, got.Mentions) {
				t.Errorf("after 20 lookups: Mentions = %v, %v; want %v", indexed.Mentions, err, got.Mentions)
			}
		}

		again, err := r.Render(markdown, room)
		if err != nil || !reflect.DeepEqual(got, again) {
			t.Errorf("second render differs: %+v, %v\nfirst: %+v", again, err, got)
		}
	})
}

type htmlMention struct {
	id   int64
	text string
}

// htmlMentions returns the mention spans of a rendered body.
func htmlMentions(t *testing.T, s string) []htmlMention {
	t.Helper()
	body := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(s), body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	var out []htmlMention
	for _, root := range nodes {
		for n := range htmlTree(root) {
			if n.Type != html.ElementNode || n.DataAtom != atom.Span {
				continue
			}
			var m htmlMention
			for _, a := range n.Attr {
				if a.Key == "data-user-id" {
					m.id, _ = strconv.ParseInt(a.Val, 10, 64)
				}
			}
			if c := n.FirstChild; c != nil && c.Type == html.TextNode {
				m.text = c.Data
			}
			out = append(out, m)
		}
	}
	return out
}
