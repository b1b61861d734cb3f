package campfire_test

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
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

// The XSS corpus: hostile inputs from testdata/xss/vectors.txt and a
// generated set of scheme obfuscations, each rendered raw and in every
// markdown placement, and each rendered output held to the allow-list of
// render_test.go (safeHTMLAttrs, via unsafeHTMLNode).

// loadXSSVectors reads testdata/xss/vectors.txt (its format is described
// at the top of the file).
func loadXSSVectors(tb testing.TB) []string {
	tb.Helper()
	f, err := os.Open("testdata/xss/vectors.txt")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case line == "" || strings.HasPrefix(line, ";;"):
			continue
		case strings.HasPrefix(line, "q:"):
			v, err := strconv.Unquote(line[2:])
			if err != nil {
				tb.Fatalf("vectors.txt:%d: bad quoted vector: %v", n, err)
			}
			line = v
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// generatedXSSVectors are the ways a dangerous scheme can be spelled so that
// a browser still reads it as that scheme: entity-encoded letter by letter
// (decimal, hex, with and without semicolons, zero-padded), percent-encoded,
// mixed case, with tabs, newlines and control characters inside or before
// it, with the colon encoded; and very long attributes and URLs.
func generatedXSSVectors() []string {
	var out []string
	add := func(vs ...string) { out = append(out, vs...) }
	for _, s := range []struct{ scheme, payload string }{
		{"javascript", "alert(1)"},
		{"vbscript", "msgbox(1)"},
		{"data", "text/html,<script>alert(1)</script>"},
	} {
		scheme, payload := s.scheme, s.payload
		each := func(format string) string {
			var b strings.Builder
			for _, c := range scheme + ":" {
				fmt.Fprintf(&b, format, c)
			}
			return b.String() + payload
		}
		add(
			each("&#%d;"), each("&#%d"), each("&#%07d;"), each("&#%07d"),
			each("&#x%x;"), each("&#x%X;"), each("&#X%x"), each("&#x%08x;"), each("&#x%08X"),
			each("%%%02x"), each("%%%02X"),
		)
		var mixed, upper strings.Builder
		for i, c := range scheme {
			if i%2 == 0 {
				mixed.WriteRune(unicode.ToUpper(c))
			} else {
				mixed.WriteRune(c)
			}
			upper.WriteRune(unicode.ToUpper(c))
		}
		add(mixed.String()+":"+payload, upper.String()+":"+payload)
		for _, colon := range []string{"&colon;", "&#58;", "&#058", "&#x3a;", "&#X3A", "&#x00003a;", "%3a", "%3A", "\\:", "&#xff1a;", "\uff1a"} {
			add(scheme + colon + payload)
		}
		// Inside the scheme: after its first letter, and in its middle.
		for _, in := range []string{"\t", "\n", "\r", "\r\n", "\f", "\v", " ", "\x00", "\x01", "\x7f", "\u00ad", "\u200b", "\u200d", "\u2028", "\ufeff",
			"&#9;", "&#x9;", "&#x09", "&#10;", "&#x0a;", "&#13;", "&#x0D", "&Tab;", "&NewLine;", "&#0;", "&#x0;", "%09", "%0a", "%00"} {
			add(scheme[:1]+in+scheme[1:]+":"+payload, scheme[:4]+in+scheme[4:]+":"+payload)
		}
		// Before it: browsers strip leading C0 controls and spaces.
		for c := rune(1); c <= 0x20; c++ {
			add(string(c) + scheme + ":" + payload)
		}
		add("&#32;"+scheme+":"+payload, "&#x1f;"+scheme+":"+payload, "\u00a0"+scheme+":"+payload, "\u3000"+scheme+":"+payload)
		add(`<a href="`+each("&#%d;")+`">x</a>`, `<a href="`+each("&#x%x")+`">x</a>`)
	}
	long := strings.Repeat("A", 9000)
	add(
		`<img src=x alt="`+long+`" onerror=alert(1)>`,
		`<a href="https://ok.example/`+long+`" onclick="alert(1)">x</a>`,
		"[x](https://ok.example/"+long+`"onclick="alert(1))`,
		"[x](javascript:"+long+")",
		"[x](https://ok.example/"+strings.Repeat("%", 4000)+")",
		"[x](https://ok.example/"+strings.Repeat("&amp;", 1500)+")",
		"[x](<"+strings.Repeat("<", 3000)+">)",
		"<"+strings.Repeat("a", 9000)+" onclick=alert(1)>",
		strings.Repeat("<b>", 3000)+"<script>alert(1)</script>",
		strings.Repeat("<svg>", 1500)+"<script>alert(1)</script>",
		strings.Repeat("[", 3000)+"x"+strings.Repeat("](javascript:alert(1))", 300),
		strings.Repeat("*", 3000)+"<script>alert(1)</script>"+strings.Repeat("*", 3000),
		strings.Repeat("> ", 2000)+"[x](javascript:alert(1))",
		strings.Repeat("- ", 2000)+"<img src=x onerror=alert(1)>",
		strings.Repeat("<!--", 2000)+"<script>alert(1)</script>",
		strings.Repeat("&#106;", 1600)+"avascript:alert(1)",
		strings.Repeat("a", campfire.MaxBodyLength)+"<script>",
	)
	return out
}

type xssPlacement struct {
	name  string
	place func(v string) string
}

// xssPlacements put a vector everywhere markdown lets it go.
var xssPlacements = []xssPlacement{
	{"Raw", func(v string) string { return v }},
	{"LinkText", func(v string) string { return "[" + v + "](https://ok.example)" }},
	{"LinkTarget", func(v string) string { return "[x](" + v + ")" }},
	{"LinkTargetAngle", func(v string) string { return "[x](<" + v + ">)" }},
	{"LinkTitle", func(v string) string { return `[x](https://ok.example "` + v + `")` }},
	{"ImageSource", func(v string) string { return "![x](" + v + ")" }},
	{"ImageAlt", func(v string) string { return "![" + v + "](https://ok.example/i.png)" }},
	{"Autolink", func(v string) string { return "<" + v + ">" }},
	{"Reference", func(v string) string { return "[x][r] [r]\n\n[r]: " + v }},
	{"Emphasis", func(v string) string { return "*" + v + "* _" + v + "_" }},
	{"Strong", func(v string) string { return "**" + v + "**" }},
	{"Blockquote", func(v string) string { return "> " + v }},
	{"ListItem", func(v string) string { return "- " + v + "\n  1. " + v }},
	{"Heading", func(v string) string { return "## " + v }},
	{"Inline", func(v string) string { return "hi " + v + " there" }},
}

// validBody is what Render accepts, mirroring its documented rules.
func validBody(s string) bool {
	n := campfire.BodyAsStored(s)
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0) && !campfire.Blank(n) &&
		utf8.RuneCountInString(n) <= campfire.MaxBodyLength
}

// renderProblems renders body and says everything wrong with the answer.
func renderProblems(r *campfire.Renderer, body string, members []campfire.User) []string {
	got, err := r.Render(body, members)
	return renderedProblems(body, got, err)
}

// renderedProblems says everything wrong with what Render answered for body.
func renderedProblems(body string, got campfire.Rendered, err error) []string {
	if !validBody(body) {
		var ve *campfire.ValidationError
		if !errors.Is(err, campfire.ErrInvalid) || !errors.As(err, &ve) || ve.Field != "body" {
			return []string{fmt.Sprintf("invalid body accepted: err = %v", err)}
		}
		return nil
	}
	if err != nil {
		return []string{fmt.Sprintf("Render: %v", err)}
	}
	var problems []string
	problems = append(problems, htmlProblems(got.Body.HTML)...)

	// Mentions: the spans are the real mentions, no more.
	ids := spanMentionIDs(got.Body.HTML)
	slices.Sort(ids)
	if ids = slices.Compact(ids); !slices.Equal(ids, got.Mentions) {
		problems = append(problems, fmt.Sprintf("mention spans %v, Mentions %v", ids, got.Mentions))
	}

	// Plain text is text, set with textContent: it must be valid UTF-8
	// without NUL, and never empty.
	pt := got.Body.PlainText
	if !utf8.ValidString(pt) || strings.ContainsRune(pt, 0) || pt == "" || pt != strings.TrimSpace(pt) {
		problems = append(problems, fmt.Sprintf("PlainText %q is not valid trimmed text", pt))
	}
	if got.Body.Markdown != campfire.BodyAsStored(body) {
		problems = append(problems, "Markdown is not the body as typed (less its bidi controls)")
	}
	return problems
}

// htmlProblems checks rendered HTML three ways: its tokens, the tree a
// browser builds from it, and the tree built from that tree's serialization
// (the innerHTML round trip that mutation XSS exploits). Each must hold only
// allowed elements and attributes, and every href must be http, https,
// mailto or relative, to url.Parse and to a browser's scheme rules alike.
func htmlProblems(s string) []string {
	var problems []string
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		problems = append(problems, "HTML is not valid UTF-8 or holds NUL")
	}

	z := html.NewTokenizer(strings.NewReader(s))
tokens:
	for {
		switch tt := z.Next(); tt {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				problems = append(problems, fmt.Sprintf("tokenizer: %v", z.Err()))
			}
			break tokens
		case html.TextToken:
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			allowed, ok := safeHTMLAttrs[tok.Data]
			if !ok {
				problems = append(problems, fmt.Sprintf("token <%s>", tok.Data))
				continue
			}
			for _, a := range tok.Attr {
				if check, ok := allowed[a.Key]; !ok || !check(a.Val) {
					problems = append(problems, fmt.Sprintf("token <%s %s=%q>", tok.Data, a.Key, a.Val))
				}
				if a.Key == "href" && !browserSafeHref(a.Val) {
					problems = append(problems, fmt.Sprintf("href %q has a scheme a browser would run", a.Val))
				}
			}
		default:
			problems = append(problems, fmt.Sprintf("token of type %v: %q", tt, z.Raw()))
		}
	}

	nodes, err := parseBodyFragment(s)
	if err != nil {
		return append(problems, fmt.Sprintf("parse: %v", err))
	}
	problems = append(problems, treeProblems(nodes)...)
	var again bytes.Buffer
	for _, n := range nodes {
		if err := html.Render(&again, n); err != nil {
			return append(problems, fmt.Sprintf("serialize: %v", err))
		}
	}
	reparsed, err := parseBodyFragment(again.String())
	if err != nil {
		return append(problems, fmt.Sprintf("reparse: %v", err))
	}
	problems = append(problems, treeProblems(reparsed)...)
	if a, b := treeShape(nodes), treeShape(reparsed); a != b {
		problems = append(problems, fmt.Sprintf("the tree changes when serialized and parsed again (mutation):\n%s\n%s", a, b))
	}
	return problems
}

func parseBodyFragment(s string) ([]*html.Node, error) {
	body := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	return html.ParseFragment(strings.NewReader(s), body)
}

func treeProblems(nodes []*html.Node) []string {
	var problems []string
	for _, root := range nodes {
		for n := range htmlTree(root) {
			if msg := unsafeHTMLNode(n); msg != "" {
				problems = append(problems, msg)
			}
			if n.Type == html.ElementNode {
				for _, a := range n.Attr {
					if a.Key == "href" && !browserSafeHref(a.Val) {
						problems = append(problems, fmt.Sprintf("href %q has a scheme a browser would run", a.Val))
					}
				}
			}
		}
	}
	return problems
}

// treeShape is the elements, attributes and text of a tree, to compare.
func treeShape(nodes []*html.Node) string {
	var b strings.Builder
	for _, root := range nodes {
		for n := range htmlTree(root) {
			switch n.Type {
			case html.ElementNode:
				fmt.Fprintf(&b, "<%s%s", n.Namespace, n.Data)
				for _, a := range n.Attr {
					fmt.Fprintf(&b, " %s=%q", a.Key, a.Val)
				}
				b.WriteString(">")
			case html.TextNode:
				fmt.Fprintf(&b, "%q", n.Data)
			default:
				fmt.Fprintf(&b, "[%d %q]", n.Type, n.Data)
			}
		}
	}
	return b.String()
}

// browserSafeHref applies the WHATWG URL parser's view of a scheme, a second
// opinion next to isSafeHTMLHref's url.Parse: leading and trailing C0
// controls and spaces are stripped, tabs and newlines anywhere removed, and
// the scheme is the ASCII letters, digits, +, - and . before the first
// colon, starting with a letter.
func browserSafeHref(v string) bool {
	v = strings.TrimFunc(v, func(r rune) bool { return r <= 0x20 })
	v = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, v)
	colon := strings.IndexByte(v, ':')
	if colon <= 0 {
		return true // relative
	}
	scheme := v[:colon]
	for i, c := range []byte(scheme) {
		letter := 'a' <= c|0x20 && c|0x20 <= 'z'
		if !letter && (i == 0 || !('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return true // not a scheme: a relative path with a colon in it
		}
	}
	switch strings.ToLower(scheme) {
	case "http", "https", "mailto":
		return true
	}
	return false
}

// spanMentionIDs are the data-user-id values of the spans in s.
func spanMentionIDs(s string) []int64 {
	nodes, err := parseBodyFragment(s)
	if err != nil {
		return nil
	}
	var ids []int64
	for _, root := range nodes {
		for n := range htmlTree(root) {
			if n.Type == html.ElementNode && n.DataAtom == atom.Span {
				for _, a := range n.Attr {
					if a.Key == "data-user-id" {
						id, _ := strconv.ParseInt(a.Val, 10, 64)
						ids = append(ids, id)
					}
				}
			}
		}
	}
	return ids
}

// TestXSSCorpus renders every vector in every placement.
func TestXSSCorpus(t *testing.T) {
	vectors := append(loadXSSVectors(t), generatedXSSVectors()...)
	if len(vectors) < 300 {
		t.Fatalf("only %d vectors", len(vectors))
	}
	r := campfire.NewRenderer()
	t.Logf("%d vectors x %d placements = %d renders", len(vectors), len(xssPlacements), len(vectors)*len(xssPlacements))
	for _, p := range xssPlacements {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			for i, v := range vectors {
				body := p.place(v)
				for _, msg := range renderProblems(r, body, renderMembers) {
					t.Errorf("vector %d: %s\nbody: %.300q", i, msg, body)
				}
			}
		})
	}
}

// TestXSSCorpusSchemesNeverLinked: a vector that is a dangerous URL, placed
// as a link target, image source, autolink or reference, yields no anchor at
// all (not merely a sanitized one): the text stays, the link goes.
func TestXSSCorpusSchemesNeverLinked(t *testing.T) {
	r := campfire.NewRenderer()
	schemes := []string{"javascript:", "vbscript:", "data:", "livescript:", "mocha:", "file:", "blob:", "ftp:", "filesystem:",
		"view-source:", "jar:", "intent:", "chrome:", "about:", "ms-its:", "x-javascript:", "tel:", "sms:"}
	for _, v := range append(loadXSSVectors(t), generatedXSSVectors()...) {
		lower := strings.ToLower(v)
		if !slices.ContainsFunc(schemes, func(s string) bool { return strings.HasPrefix(lower, s) }) {
			continue
		}
		for _, p := range xssPlacements {
			switch p.name {
			case "LinkTarget", "LinkTargetAngle", "ImageSource", "Autolink", "Reference":
			default:
				continue
			}
			body := p.place(v)
			if !validBody(body) {
				continue
			}
			got, err := r.Render(body, renderMembers)
			if err != nil {
				t.Fatalf("Render(%q): %v", body, err)
			}
			if strings.Contains(got.Body.HTML, "<a ") {
				t.Errorf("%s of %q is linked: %s", p.name, v, got.Body.HTML)
			}
		}
	}
}

// TestXSSCorpusNULRefused: a body with NUL anywhere is refused, in every
// placement, as is one that is not UTF-8.
func TestXSSCorpusNULRefused(t *testing.T) {
	r := campfire.NewRenderer()
	for _, v := range []string{"\x00", "a\x00", "\x00<script>", "[x](java\x00script:alert(1))", "<scr\x00ipt>", "\xff<script>", "caf\xc3", "\xed\xa0\x80"} {
		for _, p := range xssPlacements {
			_, err := r.Render(p.place(v), renderMembers)
			var ve *campfire.ValidationError
			if !errors.As(err, &ve) || ve.Field != "body" {
				t.Errorf("%s of %q: err = %v, want a ValidationError of body", p.name, v, err)
			}
		}
	}
}

// hostileNames are user names the name rules allow (no <, > or @, no
// control characters) that look like markup, entities, links or scripts.
var hostileNames = []string{
	`&lt;script&gt;alert(1)&lt;/script&gt;`,
	`&lt;s`,
	`&amp;lt;img src=x onerror=alert(1)&amp;gt;`,
	`&#60;img src=x onerror=alert(1)&#62;`,
	`&#x3C;/span&#x3E;&#x3C;script&#x3E;`,
	`"onload="alert(1)`,
	`" onmouseover="alert(1)" x="`,
	`' onclick='alert(1)`,
	`"/><svg onload=alert(1)`,
	`&quot;&gt;&lt;svg onload=alert(1)&gt;`,
	`Tom & Jerry`,
	`&`,
	`&amp;`,
	`"`,
	`'`,
	"`",
	`\`,
	`\"`,
	`javascript:alert(1)`,
	`[x](javascript:alert(1))`,
	`![x](javascript:alert(1))`,
	`*bold* _em_ **strong**`,
	"`code` span",
	`~~del~~`,
	`# Heading`,
	`> quote`,
	`- item`,
	`{{constructor.constructor('alert(1)')()}}`,
	`${alert(1)}`,
	`%3Cscript%3E`,
	`\u003cscript\u003e`,
	`＜script＞alert(1)＜/script＞`,
	"\u202egnp.exe",
	"Mal\u200dlory",
	"\u200bZed",
	"Ρaypal", // Greek capital rho
	"аdmin",  // Cyrillic a
	"\ufeffBom",
	"𝓢𝓬𝓻𝓲𝓹𝓽",
	"Zoë \u0301\u0301 Ångström",
	"data:text/html,x",
	"<@1>", // refused: < >
	"x@y",  // refused: @
	"<script>alert(1)</script>",
	"a\tb",  // refused: control
	"a\x00", // refused: control
	strings.Repeat("&", 81),
}

// validUserName mirrors the documented name rules.
func validUserName(name string) bool {
	n := strings.TrimSpace(name)
	return n != "" && utf8.ValidString(n) && utf8.RuneCountInString(n) <= campfire.MaxNameLength &&
		!strings.ContainsFunc(n, unicode.IsControl) && !strings.ContainsAny(n, "<>@") && campfire.VisibleLabel(n)
}

// TestXSSMentionNames renders mentions of members with hostile names: the
// name is shown, escaped, as the text of the mention span, and nothing else
// comes of it.
func TestXSSMentionNames(t *testing.T) {
	r := campfire.NewRenderer()
	names := slices.Clone(hostileNames)
	for _, v := range loadXSSVectors(t) {
		if validUserName(v) {
			names = append(names, v)
		}
	}
	const id = 1000
	for _, name := range names {
		if !validUserName(name) {
			continue
		}
		name = strings.TrimSpace(name)
		members := append(slices.Clone(renderMembers), campfire.User{ID: id, Name: name, Status: campfire.StatusActive})
		// Whether "@name" can only mean this member: no other full name or
		// first name is the same under case folding.
		unique := !slices.ContainsFunc(renderMembers, func(u campfire.User) bool {
			return strings.EqualFold(u.Name, name) || strings.EqualFold(strings.Fields(u.Name)[0], name)
		})
		for _, body := range []string{"<@1000>", "@" + name, "hi <@1000>, **<@1000>** > [x](https://ok.example) `<@1000>`"} {
			got, err := r.Render(body, members)
			if err != nil {
				t.Fatalf("Render(%q): %v", body, err)
			}
			for _, msg := range renderProblems(r, body, members) {
				t.Errorf("name %q, body %q: %s", name, body, msg)
			}
			if body == "@"+name && !unique {
				continue
			}
			if !slices.Equal(got.Mentions, []int64{id}) {
				t.Errorf("name %q, body %q: Mentions = %v, want [%d]\n%s", name, body, got.Mentions, id, got.Body.HTML)
				continue
			}
			// Escaped once: the browser shows exactly the name.
			want := `<span class="mention" data-user-id="1000">@` + html.EscapeString(name) + `</span>`
			if !strings.Contains(got.Body.HTML, want) {
				t.Errorf("name %q: HTML %q lacks %q", name, got.Body.HTML, want)
			}
			for _, m := range htmlMentions(t, got.Body.HTML) {
				if m.id != id || m.text != "@"+name {
					t.Errorf("name %q: mention %+v shows something else", name, m)
				}
			}
			if !strings.Contains(got.Body.PlainText, "@"+name) {
				t.Errorf("name %q: PlainText %q lacks it", name, got.Body.PlainText)
			}
		}
	}
}

// jsonText decodes an answer and checks that it is JSON text a browser would
// never take for markup: the JSON content type and no raw < or > (they are
// escaped as \u003c and \u003e).
func jsonText(tb testing.TB, r *response) map[string]any {
	tb.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Errorf("Content-Type %q, want application/json", ct)
	}
	if bytes.ContainsAny(r.body, "<>") {
		tb.Errorf("JSON answer holds raw < or >: %s", r.body)
	}
	return r.json(tb)
}

// TestXSSNamesBiosRoomsBoostsAreText sends the corpus as room names, bios,
// user names, account names and boosts through the HTTP API: what is
// accepted comes back exactly, as a JSON string, never as markup; what the
// rules forbid is refused. A user name reaches HTML only in mentions and
// in the avatar's SVG, which are checked too.
func TestXSSNamesBiosRoomsBoostsAreText(t *testing.T) {
	w := newWorld(t)
	var vectors []string
	for _, v := range append(loadXSSVectors(t), hostileNames...) {
		// JSON strings carry only UTF-8; the rest cannot be sent.
		if utf8.ValidString(v) {
			vectors = append(vectors, v)
		}
	}
	validName := func(v string, max int) bool {
		n := strings.TrimSpace(v)
		return n != "" && utf8.RuneCountInString(n) <= max && !strings.ContainsFunc(n, unicode.IsControl) && campfire.VisibleLabel(n)
	}
	str := func(m map[string]any, keys ...string) string {
		var v any = m
		for _, k := range keys {
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("no %v in %v", keys, m)
			}
			v = m[k]
		}
		s, _ := v.(string)
		return s
	}

	t.Run("RoomNames", func(t *testing.T) {
		for i, v := range vectors {
			path := roomPath(w.secret, "")
			if i%25 == 0 {
				// Now and then a new room rather than a rename.
				res := w.admin.do("POST", "/api/v1/rooms", map[string]any{"kind": "closed", "name": v})
				if !validName(v, campfire.MaxRoomNameLength) {
					res.wantError(t, 422, "invalid")
					continue
				}
				if res.status != 201 {
					t.Fatalf("POST /rooms name %q: %d %s", v, res.status, res.body)
				}
				path = roomPath(id(jsonText(t, res)["room"]), "")
			} else {
				res := w.admin.do("PATCH", path, map[string]any{"name": v})
				if !validName(v, campfire.MaxRoomNameLength) {
					res.wantError(t, 422, "invalid")
					continue
				}
				if got := str(jsonText(t, res), "room", "name"); got != strings.TrimSpace(v) {
					t.Errorf("PATCH room name %q: answer %q", v, got)
				}
			}
			if got := str(jsonText(t, w.admin.do("GET", path, nil)), "room", "name"); got != strings.TrimSpace(v) {
				t.Errorf("room name %q reads back as %q", v, got)
			}
		}
	})

	t.Run("Bios", func(t *testing.T) {
		for _, v := range vectors {
			res := w.bob.do("PATCH", "/api/v1/users/me", map[string]any{"bio": v})
			want := strings.TrimSpace(v)
			hasControl := strings.ContainsFunc(want, func(r rune) bool { return r != '\n' && unicode.IsControl(r) })
			if campfire.Blank(want) {
				want = ""
			}
			if utf8.RuneCountInString(want) > campfire.MaxBioLength || hasControl || want != "" && !campfire.VisibleLabel(want) {
				res.wantError(t, 422, "invalid")
				continue
			}
			if res.status != 200 {
				t.Errorf("bio %q: %d %s", v, res.status, res.body)
				continue
			}
			if got := str(jsonText(t, res), "user", "bio"); got != want {
				t.Errorf("bio %q: answer %q", v, got)
			}
			if got := str(jsonText(t, w.carol.do("GET", fmt.Sprintf("/api/v1/users/%d", w.bobID), nil)), "user", "bio"); got != want {
				t.Errorf("bio %q reads back as %q", v, got)
			}
		}
	})

	t.Run("AccountName", func(t *testing.T) {
		for _, v := range vectors[:60] {
			res := w.admin.do("PATCH", "/api/v1/account", map[string]any{"name": v})
			if !validName(v, campfire.MaxRoomNameLength) {
				res.wantError(t, 422, "invalid")
				continue
			}
			if res.status != 200 {
				t.Fatalf("account name %q: %d %s", v, res.status, res.body)
			}
			if got := str(jsonText(t, w.carol.do("GET", "/api/v1/account", nil)), "name"); got != strings.TrimSpace(v) {
				t.Errorf("account name %q reads back as %q", v, got)
			}
		}
	})

	t.Run("Boosts", func(t *testing.T) {
		msg := w.admin.post(w.allTalk, "boost me")
		boosts := fmt.Sprintf("/api/v1/rooms/%d/messages/%d/boosts", w.allTalk, id(msg))
		short := []string{"<script>", "<img src=x>", "javascript:", "&lt;b&gt;", `"><svg/onload=`, "<!--", "]]>",
			"\u202egnp.exe", "＜script＞", "{{7*7}}", "${alert(1)}", "<@1>", "@Ada", "**x**", "[x](y)", "&amp;", "&#60;", "'\"`",
			"a\tb", "a\x00b", "\x1b[31m", "<svg onload=alert(1)>", "   <b>   "}
		for _, v := range vectors {
			if utf8.RuneCountInString(v) <= campfire.MaxBoostLength {
				short = append(short, v)
			}
		}
		want := map[string]bool{}
		for _, v := range short {
			res := w.bob.do("POST", boosts, map[string]any{"content": v})
			c := strings.TrimSpace(v)
			if n := utf8.RuneCountInString(c); n < 1 || n > campfire.MaxBoostLength || strings.ContainsFunc(c, unicode.IsControl) || !campfire.VisibleLabel(c) {
				res.wantError(t, 422, "invalid")
				continue
			}
			if res.status != 201 {
				t.Errorf("boost %q: %d %s", v, res.status, res.body)
				continue
			}
			if got := str(jsonText(t, res), "boost", "content"); got != c {
				t.Errorf("boost %q: answer %q", v, got)
			}
			want[c] = true
		}
		page := jsonText(t, w.carol.do("GET", roomPath(w.allTalk, "/messages"), nil))
		got := map[string]bool{}
		for _, m := range page["messages"].([]any) {
			for _, b := range m.(map[string]any)["boosts"].([]any) {
				got[b.(map[string]any)["content"].(string)] = true
			}
		}
		for c := range want {
			if !got[c] {
				t.Errorf("boost %q does not read back", c)
			}
		}
	})

	t.Run("UserNames", func(t *testing.T) {
		names := slices.Clone(hostileNames)
		for _, v := range vectors {
			if utf8.RuneCountInString(v) <= campfire.MaxNameLength+1 && len(names) < 150 {
				names = append(names, v)
			}
		}
		for _, name := range names {
			res := w.bob.do("PATCH", "/api/v1/users/me", map[string]any{"name": name})
			if !validUserName(name) {
				res.wantError(t, 422, "invalid")
				continue
			}
			want := strings.TrimSpace(name)
			if res.status != 200 {
				t.Fatalf("name %q: %d %s", name, res.status, res.body)
			}
			if got := str(jsonText(t, res), "user", "name"); got != want {
				t.Errorf("name %q: answer %q", name, got)
			}
			if got := str(jsonText(t, w.carol.do("GET", fmt.Sprintf("/api/v1/users/%d", w.bobID), nil)), "user", "name"); got != want {
				t.Errorf("name %q reads back as %q", name, got)
			}
			checkAvatar(t, w.carol.do("GET", fmt.Sprintf("/api/v1/users/%d/avatar", w.bobID), nil), want)

			// A mention by id shows the name, as text, in the message's HTML.
			body := fmt.Sprintf("hi <@%d>!", w.bobID)
			msg := jsonText(t, w.admin.do("POST", roomPath(w.allTalk, "/messages"), map[string]any{"body": body}))["message"].(map[string]any)
			h := str(msg, "body", "html")
			for _, p := range htmlProblems(h) {
				t.Errorf("name %q: message HTML %q: %s", name, h, p)
			}
			mentions := htmlMentions(t, h)
			if len(mentions) != 1 || mentions[0].id != w.bobID || mentions[0].text != "@"+want {
				t.Errorf("name %q: mentions %+v in %q", name, mentions, h)
			}
			if got := str(msg, "body", "markdown"); got != body {
				t.Errorf("markdown %q, want %q", got, body)
			}
		}
	})
}

// checkAvatar parses an avatar as the XML it is served as: only the
// elements and attributes the avatar draws with, no script, no event
// handler, no reference to anything outside it, and the initials as text.
func checkAvatar(tb testing.TB, res *response, name string) {
	tb.Helper()
	if res.status != 200 {
		tb.Fatalf("avatar: %d %s", res.status, res.body)
	}
	for k, v := range map[string]string{
		"Content-Type":            "image/svg+xml",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
	} {
		if got := res.header.Get(k); got != v {
			tb.Errorf("avatar %s: %q, want %q", k, got, v)
		}
	}
	allowed := map[string][]string{
		"svg":  {"xmlns", "viewBox"},
		"rect": {"width", "height", "fill"},
		"text": {"x", "y", "dy", "text-anchor", "fill", "font-family", "font-size"},
	}
	dec := xml.NewDecoder(bytes.NewReader(res.body))
	dec.Strict = true
	var text strings.Builder
	var open []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatalf("avatar for %q is not well-formed XML: %v\n%s", name, err, res.body)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			attrs, ok := allowed[tok.Name.Local]
			if !ok || tok.Name.Space != "http://www.w3.org/2000/svg" {
				tb.Errorf("avatar for %q: element %v", name, tok.Name)
			}
			for _, a := range tok.Attr {
				key := a.Name.Local
				if a.Name.Space != "" || !slices.Contains(attrs, key) ||
					strings.HasPrefix(strings.ToLower(key), "on") || strings.Contains(strings.ToLower(a.Value), "url(") {
					tb.Errorf("avatar for %q: attribute %v=%q on <%s>", name, a.Name, a.Value, tok.Name.Local)
				}
			}
			open = append(open, tok.Name.Local)
		case xml.EndElement:
			open = open[:len(open)-1]
		case xml.CharData:
			if len(open) == 0 || open[len(open)-1] != "text" {
				if strings.TrimSpace(string(tok)) != "" {
					tb.Errorf("avatar for %q: text %q outside <text>", name, tok)
				}
				continue
			}
			text.Write(tok)
		default:
			tb.Errorf("avatar for %q: %T %v", name, tok, tok)
		}
	}
	if want := expectedInitials(name); text.String() != want {
		tb.Errorf("avatar for %q shows %q, want %q", name, text.String(), want)
	}
	if strings.ContainsAny(text.String(), "<>&\"'") {
		tb.Errorf("avatar initials %q hold markup characters", text.String())
	}
}

// expectedInitials: the first letter or digit of each of the first words
// that start with one, up to two, upper-cased.
func expectedInitials(name string) string {
	var out []rune
	for _, w := range strings.Fields(name) {
		r, _ := utf8.DecodeRuneInString(w)
		if (unicode.IsLetter(r) || unicode.IsDigit(r)) && len(out) < 2 {
			out = append(out, unicode.ToUpper(r))
		}
	}
	return string(out)
}

// TestXSSAvatarPathIsNotEchoed: the avatar endpoint answers non-ids with
// 404, not with markup echoing the path.
func TestXSSAvatarPathIsNotEchoed(t *testing.T) {
	w := newWorld(t)
	for _, p := range []string{"%3Cscript%3E", "javascript:alert(1)", "0", "-1", "1e3", "99999999999999999999"} {
		res := w.bob.do("GET", "/api/v1/users/"+p+"/avatar", nil)
		if res.status != http.StatusNotFound {
			t.Errorf("avatar %s: %d, want 404", p, res.status)
		}
		if bytes.Contains(bytes.ToLower(res.body), []byte("script")) || bytes.ContainsAny(res.body, "<>") {
			t.Errorf("avatar %s: answer echoes the path: %s", p, res.body)
		}
	}
}

// TestXSSCheckerCatches proves the checks above fail on what they exist to
// catch, so that a corpus that passes means something.
func TestXSSCheckerCatches(t *testing.T) {
	for _, s := range []string{
		`<script>alert(1)</script>`,
		`<img src=x onerror=alert(1)>`,
		`<p onclick=alert(1)>x</p>`,
		`<a href="javascript:alert(1)">x</a>`,
		`<a href="JaVaScRiPt:alert(1)">x</a>`,
		`<a href="&#106;avascript:alert(1)">x</a>`,
		`<a href="jav&#x09;ascript:alert(1)">x</a>`,
		`<a href=" javascript:alert(1)">x</a>`,
		`<a href="&#x01;javascript:alert(1)">x</a>`,
		`<a href="data:text/html,x">x</a>`,
		`<a href="vbscript:x">x</a>`,
		`<a href="https://ok.example" target="_blank">x</a>`,
		`<a>x</a>`,
		`<span>x</span>`,
		`<span class="mention" data-user-id="1"><b>@x</b></span>`,
		`<code class="x">x</code>`,
		`<p style="color:red">x</p>`,
		`<!-- x -->`,
		`<svg><p>x</p></svg>`,
		`<math><mi>x</mi></math>`,
		`<noscript><p title="</noscript><img src=x onerror=alert(1)>"></p></noscript>`,
		`<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>`,
		"<p>a\x00b</p>",
	} {
		if len(htmlProblems(s)) == 0 {
			t.Errorf("htmlProblems(%q) found nothing", s)
		}
	}
	for _, s := range []string{
		`<p>ok <strong>b</strong> <a href="https://ok.example" rel="nofollow noreferrer noopener" target="_blank">x</a></p>`,
		`<p><a href="/rooms/1" rel="nofollow noreferrer">r</a> <a href="mailto:a@example.com" rel="nofollow noreferrer">m</a></p>`,
		`<p>&lt;script&gt;alert(1)&lt;/script&gt; javascript:alert(1)</p>`,
		`<pre><code class="language-go">x &lt; y</code></pre>`,
	} {
		if p := htmlProblems(s); len(p) != 0 {
			t.Errorf("htmlProblems(%q) = %v, want none", s, p)
		}
	}
}
