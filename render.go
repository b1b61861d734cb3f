package campfire

import (
	"bytes"
	"cmp"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
	nethtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Renderer turns markdown into a safe Body. Build one with NewRenderer and
// share it; it is safe for concurrent use.
//
// The dialect is CommonMark with GitHub's autolinks (bare http, https and
// www. URLs and email addresses) and ~~strikethrough~~. A newline is a line
// break, as people expect in a chat. Raw HTML is never rendered: it is shown
// as the text the author typed. Images are not rendered either (an <img>
// pointing at any host would leak every viewer's IP address to it): a
// markdown image becomes a link to the image, labelled with its alt text.
// Links go only to http, https, mailto or relative URLs; any other link
// keeps its text and loses its anchor. Quotes, lists and emphasis nest at
// most 32 deep. A body with nothing to read (only a rule, say, or link
// reference definitions) is shown as typed, so PlainText is never empty. The
// HTML is then sanitized again with a strict allow-list, so a bug in the
// markdown layer cannot reach a page.
type Renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
	// directoryKey carries the mentionable members of one Render call to the
	// mention parser.
	directoryKey parser.ContextKey
}

// Rendered is a body with what it refers to.
type Rendered struct {
	Body Body
	// Mentions are the ids of the members the body mentions, ascending.
	Mentions []int64
	// Sound is the name of the sound a `/play NAME` body plays, or "".
	Sound string
}

// mentionDirectoryKey is every Renderer's directoryKey. goldmark hands out
// context keys from an unguarded global counter, so the key is taken once,
// at package initialization, rather than by NewRenderer, which hosts (and
// parallel tests) may call from several goroutines at once.
var mentionDirectoryKey = parser.NewContextKey()

// NewRenderer builds a Renderer.
func NewRenderer() *Renderer {
	r := &Renderer{directoryKey: mentionDirectoryKey, policy: newBodyPolicy()}
	r.md = goldmark.New(
		goldmark.WithExtensions(
			extension.NewLinkify(extension.WithLinkifyAllowedProtocols([]string{"http:", "https:"})),
			extension.Strikethrough,
		),
		goldmark.WithParserOptions(
			// Before the autolink and raw HTML parsers, which also start at '<'.
			parser.WithInlineParsers(util.Prioritized(&mentionParser{directoryKey: r.directoryKey}, 50)),
		),
		goldmark.WithRendererOptions(
			html.WithHardWraps(),
			// Below the default HTML renderer's 1000, so these win.
			renderer.WithNodeRenderers(util.Prioritized(&bodyHTML{writer: html.NewWriter()}, 100)),
		),
	)
	return r
}

// newBodyPolicy is the allow-list every rendered body passes through. It is
// built from nothing, so an element or attribute is allowed only if it is
// named here.
func newBodyPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote",
		"ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "span", "a")
	p.AllowAttrs("href").OnElements("a")
	p.AllowURLSchemes("http", "https", "mailto")
	p.AllowRelativeURLs(true)
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	// Adds target="_blank" and rel="noopener" to absolute http(s) links, so
	// that following a link does not navigate away from the chat.
	p.AddTargetBlankToFullyQualifiedLinks(true)
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^mention$`)).OnElements("span")
	p.AllowAttrs("data-user-id").Matching(regexp.MustCompile(`^[0-9]{1,19}$`)).OnElements("span")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^language-[A-Za-z0-9_+#.-]{1,40}$`)).OnElements("code")
	p.AllowAttrs("start").Matching(regexp.MustCompile(`^[0-9]{1,9}$`)).OnElements("ol")
	return p
}

// Render validates markdown and renders it; members are the room's members,
// the only users a mention can name.
//
// A mention is `@Name`, where Name is, case-insensitively, the longest full
// name of a member that starts there, or the first word of exactly one
// member's name; it must not follow a letter or digit (bob@example.com is
// not a mention) and must end at a word boundary. `<@ID>` mentions a member
// by id, and an id that is no member's mentions nobody. Only active members
// can be mentioned, and never inside code or a link. A body that is exactly
// `/play NAME`, for a known sound, plays it.
//
// Returns an error matching [ErrInvalid] when the body is not valid UTF-8,
// contains NUL, is blank, or is longer than [MaxBodyLength] characters.
func (r *Renderer) Render(markdown string, members []User) (Rendered, error) {
	src, err := normalizeBody(markdown)
	if err != nil {
		return Rendered{}, err
	}
	source := []byte(src)
	pc := parser.NewContext()
	if strings.IndexByte(src, '@') >= 0 {
		pc.Set(r.directoryKey, newDirectory(members))
	}
	doc := r.md.Parser().Parse(text.NewReader(source), parser.WithContext(pc))
	capNesting(doc)
	mentions := settleLinks(doc, source)

	var buf bytes.Buffer
	if err := r.md.Renderer().Render(&buf, source, doc); err != nil {
		return Rendered{}, err
	}
	out := strings.TrimSpace(string(r.policy.SanitizeBytes(buf.Bytes())))
	plain := plainText(out)
	if plain == "" {
		// Nothing to read: only link reference definitions, a rule, an
		// empty heading. Show what the author typed rather than a blank
		// message (and never notify with an empty text).
		out = "<p>" + escapeLines(strings.TrimSpace(src)) + "</p>"
		plain, mentions = plainText(out), nil
	}
	return Rendered{
		Body:     Body{Markdown: src, HTML: out, PlainText: plain},
		Mentions: mentions,
		Sound:    soundOf(src),
	}, nil
}

// normalizeBody checks a body, turns its line endings into \n and drops its
// bidi embeddings, overrides and isolates: they can show a run of text, a
// file name or a line of code in another order than it was written, and a
// chat message has no use for them that the reader's own bidi algorithm
// does not cover. The bidi marks (LRM, RLM, ALM), which only place
// punctuation in mixed-direction text, stay. A body that shows nothing (only
// spaces, format characters, joiners, fillers) is blank.
func normalizeBody(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", invalid("body", "must be valid UTF-8")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "", invalid("body", "must not contain NUL characters")
	}
	if strings.IndexByte(s, '\r') >= 0 {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
	}
	if strings.ContainsFunc(s, isBidiControl) {
		s = strings.Map(func(r rune) rune {
			if isBidiControl(r) {
				return -1
			}
			return r
		}, s)
	}
	if blank(s) {
		return "", invalid("body", "must not be empty")
	}
	if utf8.RuneCountInString(s) > MaxBodyLength {
		return "", invalid("body", "must be at most %d characters", MaxBodyLength)
	}
	return s, nil
}

// soundOf returns NAME when the body is exactly `/play NAME` with a known
// sound (names are case-sensitive, as in Campfire).
func soundOf(src string) string {
	name, ok := strings.CutPrefix(strings.TrimSpace(src), "/play ")
	if !ok || name == "" || !IsSound(name) {
		return ""
	}
	for _, c := range []byte(name) {
		if !(c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return ""
		}
	}
	return name
}

// escapeLines is src as HTML text, with its line breaks kept.
func escapeLines(src string) string {
	return strings.ReplaceAll(nethtml.EscapeString(src), "\n", "<br>\n")
}

// settleLinks fixes what CommonMark allows inside link text but an anchor
// cannot hold: a link or autolink inside a link (or inside an image, which
// renders as a link) keeps only its text, and a mention there turns back into
// the text the author typed. It returns the ids of the mentions that stay,
// distinct and ascending.
func settleLinks(doc ast.Node, source []byte) []int64 {
	var (
		nested  []ast.Node
		demoted []*mentionNode
		ids     []int64
		depth   int
	)
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		switch n := n.(type) {
		case *ast.Link, *ast.AutoLink, *ast.Image:
			if !entering {
				depth--
				break
			}
			if depth > 0 {
				nested = append(nested, n)
			}
			depth++
		case *mentionNode:
			if !entering {
				break
			}
			if depth > 0 {
				demoted = append(demoted, n)
			} else {
				ids = append(ids, n.userID)
			}
		}
		return ast.WalkContinue, nil
	})
	for _, m := range demoted {
		m.Parent().ReplaceChild(m.Parent(), m, ast.NewTextSegment(m.source))
	}
	for _, n := range nested {
		parent := n.Parent()
		if al, ok := n.(*ast.AutoLink); ok {
			label := ast.NewString(al.Label(source))
			label.SetRaw(true)
			parent.ReplaceChild(parent, n, label)
			continue
		}
		for c := n.FirstChild(); c != nil; {
			next := c.NextSibling()
			parent.InsertBefore(parent, n, c)
			c = next
		}
		parent.RemoveChild(parent, n)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// maxNesting bounds how deeply block quotes, lists and emphasis nest in a
// rendered body. Deeper nesting is flattened: its content stays, its
// indentation goes. HTML parsers give up on deep trees (browsers and
// golang.org/x/net/html stop at 512 open elements), and a few thousand nested
// quotes in one message would only ever be an attack on the viewers' browsers.
const maxNesting = 32

// capNesting flattens the containers nested deeper than maxNesting into their
// parents.
func capNesting(doc ast.Node) {
	var (
		flat   []ast.Node
		isFlat = map[ast.Node]bool{}
		depth  int
	)
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		cost := 0
		switch n.Kind() {
		case ast.KindBlockquote, ast.KindEmphasis, east.KindStrikethrough:
			cost = 1
		case ast.KindList:
			cost = 2 // <ul><li>
		case ast.KindListItem:
			// Counted with its list, and kept or flattened with it.
			if entering && isFlat[n.Parent()] {
				isFlat[n] = true
				flat = append(flat, n)
			}
			return ast.WalkContinue, nil
		default:
			return ast.WalkContinue, nil
		}
		switch {
		case !entering && !isFlat[n]:
			depth -= cost
		case !entering:
		case depth+cost > maxNesting:
			isFlat[n] = true
			flat = append(flat, n)
		default:
			depth += cost
		}
		return ast.WalkContinue, nil
	})
	// In document order, so that a flattened node's children move to a
	// parent that stays, or that is flattened later.
	for _, n := range flat {
		parent := n.Parent()
		for c := n.FirstChild(); c != nil; {
			next := c.NextSibling()
			if tb, ok := c.(*ast.TextBlock); ok {
				// A tight list item's text has no <p>; out of its <li> it
				// needs one to stay on its own line.
				p := ast.NewParagraph()
				p.SetLines(tb.Lines())
				for t := tb.FirstChild(); t != nil; {
					tnext := t.NextSibling()
					p.AppendChild(p, t)
					t = tnext
				}
				c = p
			}
			parent.InsertBefore(parent, n, c)
			c = next
		}
		parent.RemoveChild(parent, n)
	}
}

// plainText is the text content of sanitized HTML: block elements and line
// breaks become newlines, everything else its text.
func plainText(fragment string) string {
	var sb strings.Builder
	lineStart := true
	breakLine := func() {
		if !lineStart {
			sb.WriteByte('\n')
			lineStart = true
		}
	}
	pre := 0
	z := nethtml.NewTokenizer(strings.NewReader(fragment))
	for {
		tt := z.Next()
		switch tt {
		case nethtml.ErrorToken:
			return strings.TrimSpace(sb.String())
		case nethtml.TextToken:
			t := string(z.Text())
			if pre == 0 {
				// Outside <pre>, newlines in the markup only lay it out:
				// the renderer writes every line break as <br>.
				t = strings.ReplaceAll(strings.TrimLeft(t, "\n"), "\n", " ")
			}
			if t != "" {
				sb.WriteString(t)
				lineStart = strings.HasSuffix(t, "\n")
			}
		case nethtml.StartTagToken, nethtml.EndTagToken, nethtml.SelfClosingTagToken:
			name, _ := z.TagName()
			switch atom.Lookup(name) {
			case atom.Br:
				sb.WriteByte('\n')
				lineStart = true
			case atom.Pre:
				if tt == nethtml.StartTagToken {
					pre++
				} else if pre > 0 {
					pre--
				}
				breakLine()
			case atom.P, atom.Blockquote, atom.Ul, atom.Ol, atom.Li, atom.Hr,
				atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
				breakLine()
			}
		}
	}
}

// safeHref returns a link destination as an href, and whether a body may
// link to it: http, https, mailto and relative URLs only. Entities are
// resolved first, so &#106;avascript: is javascript:.
func safeHref(dest []byte, resolveReferences bool) ([]byte, bool) {
	href := util.URLEscape(dest, resolveReferences)
	u, err := url.Parse(string(href))
	if err != nil {
		return nil, false
	}
	switch u.Scheme {
	case "", "http", "https", "mailto":
		return href, true
	}
	return nil, false
}

// bodyHTML renders the nodes whose default HTML a chat body must not have,
// and mentions.
type bodyHTML struct {
	writer html.Writer
}

func (b *bodyHTML) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(kindMention, b.renderMention)
	reg.Register(ast.KindLink, b.renderLink)
	reg.Register(ast.KindAutoLink, b.renderAutoLink)
	reg.Register(ast.KindImage, b.renderImage)
	reg.Register(ast.KindRawHTML, b.renderRawHTML)
	reg.Register(ast.KindHTMLBlock, b.renderHTMLBlock)
}

func (b *bodyHTML) renderMention(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		n := node.(*mentionNode)
		w.WriteString(`<span class="mention" data-user-id="`)
		w.WriteString(strconv.FormatInt(n.userID, 10))
		w.WriteString(`">@`)
		w.WriteString(nethtml.EscapeString(n.name))
		w.WriteString(`</span>`)
	}
	return ast.WalkSkipChildren, nil
}

// renderLink drops the anchor, not the text, of a link to a URL a body may
// not link to. A link without text shows its URL, so that no link is
// invisible. Titles are not rendered.
func (b *bodyHTML) renderLink(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.Link)
	href, ok := safeHref(n.Destination, true)
	if !hasText(n, source) {
		if entering {
			b.writeLink(w, href, ok, func() { b.writer.Write(w, n.Destination) })
		}
		return ast.WalkSkipChildren, nil
	}
	switch {
	case !ok:
	case entering:
		w.WriteString(`<a href="`)
		w.Write(util.EscapeHTML(href))
		w.WriteString(`">`)
	default:
		w.WriteString(`</a>`)
	}
	return ast.WalkContinue, nil
}

// writeLink writes an anchor to href around what label writes, or only the
// label when the URL is not allowed (ok is false).
func (b *bodyHTML) writeLink(w util.BufWriter, href []byte, ok bool, label func()) {
	if ok {
		w.WriteString(`<a href="`)
		w.Write(util.EscapeHTML(href))
		w.WriteString(`">`)
	}
	label()
	if ok {
		w.WriteString(`</a>`)
	}
}

func (b *bodyHTML) renderAutoLink(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.AutoLink)
	dest, label := n.URL(source), n.Label(source)
	if n.AutoLinkType == ast.AutoLinkEmail && !bytes.HasPrefix(bytes.ToLower(dest), []byte("mailto:")) {
		dest = append([]byte("mailto:"), dest...)
	}
	href, ok := safeHref(dest, false)
	b.writeLink(w, href, ok, func() { w.Write(util.EscapeHTML(label)) })
	return ast.WalkSkipChildren, nil
}

// renderImage writes an image as a link to it, labelled with its alt text
// (or its URL when the alt text is blank): no <img>, so nothing loads until
// someone follows the link.
func (b *bodyHTML) renderImage(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.Image)
	href, ok := safeHref(n.Destination, true)
	b.writeLink(w, href, ok, func() {
		if hasText(n, source) {
			b.writeTexts(w, source, n)
		} else {
			b.writer.Write(w, n.Destination)
		}
	})
	return ast.WalkSkipChildren, nil
}

// hasText reports whether n has any non-blank text inside.
func hasText(n ast.Node, source []byte) bool {
	found := false
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		var v []byte
		switch c := c.(type) {
		case *ast.Text:
			v = c.Value(source)
		case *ast.String:
			v = c.Value
		}
		if entering && len(bytes.TrimSpace(v)) > 0 {
			found = true
			return ast.WalkStop, nil
		}
		return ast.WalkContinue, nil
	})
	return found
}

// writeTexts writes the text inside n, without markup.
func (b *bodyHTML) writeTexts(w util.BufWriter, source []byte, n ast.Node) {
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch c := c.(type) {
		case *ast.Text:
			if _, code := c.Parent().(*ast.CodeSpan); code || c.IsRaw() {
				b.writer.RawWrite(w, c.Value(source))
			} else {
				b.writer.Write(w, c.Value(source))
			}
			if c.SoftLineBreak() || c.HardLineBreak() {
				w.WriteByte(' ')
			}
		case *ast.String:
			if c.IsRaw() || c.IsCode() {
				b.writer.RawWrite(w, c.Value)
			} else {
				b.writer.Write(w, c.Value)
			}
		case *ast.AutoLink:
			w.Write(util.EscapeHTML(c.Label(source)))
		}
		return ast.WalkContinue, nil
	})
}

// renderRawHTML shows inline HTML as the text the author typed.
func (b *bodyHTML) renderRawHTML(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		segs := node.(*ast.RawHTML).Segments
		for i := range segs.Len() {
			seg := segs.At(i)
			w.WriteString(escapeLines(string(seg.Value(source))))
		}
	}
	return ast.WalkSkipChildren, nil
}

// renderHTMLBlock shows an HTML block as a paragraph of the text the author
// typed.
func (b *bodyHTML) renderHTMLBlock(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.HTMLBlock)
	var sb strings.Builder
	lines := n.Lines()
	for i := range lines.Len() {
		seg := lines.At(i)
		sb.Write(seg.Value(source))
	}
	if n.HasClosure() {
		sb.Write(n.ClosureLine.Value(source))
	}
	if t := strings.TrimRight(sb.String(), "\n"); strings.TrimSpace(t) != "" {
		w.WriteString("<p>")
		w.WriteString(escapeLines(t))
		w.WriteString("</p>\n")
	}
	return ast.WalkSkipChildren, nil
}

// kindMention is the AST node kind of a mention. Like the kinds goldmark
// declares, it is set once and never changes.
var kindMention = ast.NewNodeKind("CampfireMention")

// mentionNode is a resolved mention of a member.
type mentionNode struct {
	ast.BaseInline
	userID int64
	name   string
	// source is what the author typed, for when the mention turns back into
	// text.
	source text.Segment
}

func (n *mentionNode) Kind() ast.NodeKind { return kindMention }

func (n *mentionNode) Dump(source []byte, level int) {
	ast.DumpHelper(n, source, level, map[string]string{
		"UserID": strconv.FormatInt(n.userID, 10), "Name": n.name}, nil)
}

// mentionParser turns `@Name` and `<@ID>` into mentions of members. As an
// inline parser it never sees code spans or code blocks, whose content
// goldmark does not parse.
type mentionParser struct {
	directoryKey parser.ContextKey
}

func (p *mentionParser) Trigger() []byte { return []byte{'@', '<'} }

func (p *mentionParser) Parse(_ ast.Node, block text.Reader, pc parser.Context) ast.Node {
	dir, _ := pc.Get(p.directoryKey).(*directory)
	if dir == nil {
		return nil
	}
	line, seg := block.PeekLine()
	var (
		u *directoryEntry
		n int
	)
	switch {
	case bytes.HasPrefix(line, []byte("<@")):
		u, n = dir.byToken(line)
	case len(line) > 0 && line[0] == '@':
		prev := block.PrecendingCharacter()
		if isWordRune(prev) || prev == '<' && isIDToken(line[1:]) {
			// An id token that named no member (<@42>) is not
			// @Name: it must not mention a member whose name is 42.
			return nil
		}
		u, n = dir.byName(line[1:])
		n++
	}
	if u == nil {
		return nil
	}
	block.Advance(n)
	return &mentionNode{userID: u.id, name: u.name, source: text.NewSegment(seg.Start, seg.Start+n)}
}

// isIDToken reports whether b starts with the digits and the '>' that end
// a `<@ID>`.
func isIDToken(b []byte) bool {
	i := 0
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i > 0 && i < len(b) && b[i] == '>'
}

// directory is who one body can mention: the room's active members. It is
// made for each body that has an @. The first lookups scan the members; a
// body with many mentions sorts them once and searches.
type directory struct {
	members []User
	// names are the active members with a name, once a lookup needs them;
	// sorted by name under case folding once indexed.
	names []directoryEntry
	// firsts indexes names sorted by first name, once indexed.
	firsts  []int32
	indexed bool
	lookups int
	// maxRunes is the length of the longest name.
	maxRunes int
	// asciiStarts has a bit for each ASCII rune (folded) that a name starts
	// with, so that most @s that start no name cost nothing; otherStarts:
	// some names start with a non-ASCII rune.
	asciiStarts [2]uint64
	otherStarts bool
	// byID indexes names, built at the first <@ID>.
	byID map[int64]int
}

// indexAfter is how many lookups scan the members before they are sorted:
// a sort costs about as much as 2·log2(members) scans.
const indexAfter = 16

type directoryEntry struct {
	id          int64
	name, first string
}

// nameMatch is a name or first name that matches n bytes at an @.
type nameMatch struct {
	entry *directoryEntry
	n     int
	first bool
}

func newDirectory(members []User) *directory { return &directory{members: members} }

func (d *directory) load() {
	if d.names != nil || d.members == nil {
		return
	}
	d.names = make([]directoryEntry, 0, len(d.members))
	for _, m := range d.members {
		if name := strings.TrimSpace(m.Name); m.Active() && name != "" {
			d.names = append(d.names, directoryEntry{id: m.ID, name: name, first: firstWord(name)})
			d.maxRunes = max(d.maxRunes, utf8.RuneCountInString(name))
			r, _ := utf8.DecodeRuneInString(name)
			if k := foldKey(r); k < utf8.RuneSelf {
				d.asciiStarts[k/64] |= 1 << (k % 64)
			} else {
				d.otherStarts = true
			}
		}
	}
	d.members = nil
}

func (d *directory) index() {
	d.indexed = true
	es := d.names
	slices.SortFunc(es, func(a, b directoryEntry) int {
		return cmp.Or(compareFold(a.name, b.name), cmp.Compare(a.id, b.id))
	})
	d.firsts = make([]int32, len(es))
	for i := range d.firsts {
		d.firsts[i] = int32(i)
	}
	slices.SortFunc(d.firsts, func(a, b int32) int {
		return cmp.Or(compareFold(es[a].first, es[b].first), cmp.Compare(es[a].id, es[b].id))
	})
	d.byID = nil // positions moved
}

// byToken resolves `<@ID>` at the start of line.
func (d *directory) byToken(line []byte) (*directoryEntry, int) {
	end := bytes.IndexByte(line, '>')
	if end < 3 || end > 2+19 {
		return nil, 0
	}
	digits := line[2:end]
	for _, c := range digits {
		if c < '0' || c > '9' {
			return nil, 0
		}
	}
	id, err := strconv.ParseInt(string(digits), 10, 64)
	if err != nil {
		return nil, 0
	}
	d.load()
	if d.byID == nil {
		d.byID = make(map[int64]int, len(d.names))
		for i, e := range d.names {
			if _, dup := d.byID[e.id]; !dup {
				d.byID[e.id] = i
			}
		}
	}
	i, ok := d.byID[id]
	if !ok {
		return nil, 0
	}
	return &d.names[i], end + 1
}

// byName resolves the name at the start of line (after the @): the longest
// full name, or first name that only one member has, that matches there and
// ends at a word boundary, if it names only one member.
func (d *directory) byName(line []byte) (*directoryEntry, int) {
	if len(line) == 0 || unicode.IsSpace(utf8RuneAt(line, 0)) {
		return nil, 0 // names are trimmed
	}
	d.load()
	if k := foldKey(utf8RuneAt(line, 0)); k < utf8.RuneSelf && d.asciiStarts[k/64]&(1<<(k%64)) == 0 ||
		k >= utf8.RuneSelf && !d.otherStarts {
		return nil, 0
	}
	// A name can end only where a word does: collect those ends, up to the
	// longest name.
	var buf [32]int
	ends := buf[:0]
	i := 0
	for k := 0; k < d.maxRunes && i < len(line) && line[i] != '\n'; k++ {
		_, size := utf8.DecodeRune(line[i:])
		i += size
		if i == len(line) || !isWordRune(utf8RuneAt(line, i)) {
			ends = append(ends, i)
		}
	}
	if len(ends) == 0 {
		return nil, 0
	}
	text := string(line[:i])
	if d.lookups++; !d.indexed && d.lookups > indexAfter {
		d.index()
	}
	var matches []nameMatch
	if d.indexed {
		// Narrow the names, and the first names, that start with the text
		// as it grows; where none do, no longer name can match.
		name := func(i int) string { return d.names[i].name }
		first := func(i int) string { return d.names[d.firsts[i]].first }
		nlo, nhi, flo, fhi := 0, len(d.names), 0, len(d.firsts)
		for _, n := range ends {
			want := text[:n]
			nlo, nhi = foldRange(nlo, nhi, want, name, comparePrefixFold)
			flo, fhi = foldRange(flo, fhi, want, first, comparePrefixFold)
			if nlo == nhi && flo == fhi {
				break
			}
			if lo, hi := foldRange(nlo, nhi, want, name, compareFold); lo < hi {
				matches = addMatch(matches, nameMatch{&d.names[lo], n, false})
				matches = addMatch(matches, nameMatch{&d.names[hi-1], n, false})
			}
			if lo, hi := foldRange(flo, fhi, want, first, compareFold); lo < hi {
				matches = addMatch(matches, nameMatch{&d.names[d.firsts[lo]], n, true})
				matches = addMatch(matches, nameMatch{&d.names[d.firsts[hi-1]], n, true})
			}
		}
	} else {
		atEnd := func(n int) bool { _, ok := slices.BinarySearch(ends, n); return ok }
		for j := range d.names {
			e := &d.names[j]
			if n, ok := prefixFold(text, e.name); ok && atEnd(n) {
				matches = addMatch(matches, nameMatch{e, n, false})
			}
			if n, ok := prefixFold(text, e.first); ok && atEnd(n) {
				matches = addMatch(matches, nameMatch{e, n, true})
			}
		}
	}
	return pickName(matches, ends)
}

// foldRange returns the range, within [lo, hi) of keys sorted under case
// folding, of the keys that compare equal to want. Equal keys are sorted by
// member id, so the first and the last of the range tell whether they name
// one member.
func foldRange(lo, hi int, want string, key func(int) string, compare func(string, string) int) (int, int) {
	start := lo + sort.Search(hi-lo, func(i int) bool { return compare(key(lo+i), want) >= 0 })
	end := start + sort.Search(hi-start, func(i int) bool { return compare(key(start+i), want) > 0 })
	return start, end
}

// comparePrefixFold compares the start of s, as long as prefix, with prefix
// under case folding: 0 when s starts with prefix.
func comparePrefixFold(s, prefix string) int {
	for prefix != "" {
		if s == "" {
			return -1
		}
		rs, ns := utf8.DecodeRuneInString(s)
		rp, np := utf8.DecodeRuneInString(prefix)
		if c := cmp.Compare(foldKey(rs), foldKey(rp)); c != 0 {
			return c
		}
		s, prefix = s[ns:], prefix[np:]
	}
	return 0
}

// addMatch adds m to ms unless ms already shows that m's kind of name, at
// m's length, names two members or m's member: that is all pickName needs,
// and it keeps ms short when thousands of members share a first name.
func addMatch(ms []nameMatch, m nameMatch) []nameMatch {
	same := 0
	for _, o := range ms {
		if o.n == m.n && o.first == m.first {
			if o.entry.id == m.entry.id {
				return ms
			}
			same++
		}
	}
	if same >= 2 {
		return ms
	}
	return append(ms, m)
}

// pickName chooses among the names that match at an @: at the longest end
// where any name matches, full names and first names that only one member
// has (every member with that first name matches there too) must all be one
// member's.
func pickName(matches []nameMatch, ends []int) (*directoryEntry, int) {
	for _, n := range slices.Backward(ends) {
		var firstOf *directoryEntry
		uniqueFirst := true
		for _, m := range matches {
			if m.n == n && m.first {
				if firstOf == nil {
					firstOf = m.entry
				} else if m.entry.id != firstOf.id {
					uniqueFirst = false
				}
			}
		}
		var found *directoryEntry
		for _, m := range matches {
			switch {
			case m.n != n || m.first && !uniqueFirst:
			case found == nil:
				found = m.entry
			case found.id != m.entry.id:
				return nil, 0
			}
		}
		if found != nil {
			return found, n
		}
	}
	return nil, 0
}

// prefixFold reports whether s starts with prefix under simple case folding,
// and how many bytes of s the match takes.
func prefixFold(s, prefix string) (int, bool) {
	i := 0
	for _, pr := range prefix {
		if i >= len(s) {
			return 0, false
		}
		sr, size := rune(s[i]), 1
		if sr >= utf8.RuneSelf {
			sr, size = utf8.DecodeRuneInString(s[i:])
		}
		if sr != pr && foldKey(sr) != foldKey(pr) {
			return 0, false
		}
		i += size
	}
	return i, true
}

func utf8RuneAt(b []byte, i int) rune {
	r, _ := utf8.DecodeRune(b[i:])
	return r
}

// compareFold orders strings by their runes under simple case folding: 0
// when strings.EqualFold.
func compareFold(a, b string) int {
	for a != "" && b != "" {
		if ca, cb := a[0], b[0]; ca < utf8.RuneSelf && cb < utf8.RuneSelf {
			// Most names are ASCII: skip decoding.
			if c := cmp.Compare(foldKey(rune(ca)), foldKey(rune(cb))); c != 0 {
				return c
			}
			a, b = a[1:], b[1:]
			continue
		}
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if c := cmp.Compare(foldKey(ra), foldKey(rb)); c != 0 {
			return c
		}
		a, b = a[na:], b[nb:]
	}
	return cmp.Compare(len(a), len(b))
}

// foldKey is the smallest rune that folds to r, the same for every case of r.
func foldKey(r rune) rune {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' {
			return r - 'a' + 'A' // the orbits of k and s hold K and S too
		}
		return r
	}
	k := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		k = min(k, f)
	}
	return k
}

func firstWord(name string) string {
	if i := strings.IndexFunc(name, unicode.IsSpace); i >= 0 {
		return name[:i]
	}
	return name
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
