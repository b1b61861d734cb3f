package campfire_test

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/opencampfire/campfire"
)

// renderMembers is a room whose names exercise mention matching: a full name that
// is another's first name (Ada / Ada Lovelace), a shared first name (Grace),
// a unique first name (Linus), a deactivated member and a name full of
// characters that mean something to HTML and regular expressions.
var renderMembers = []campfire.User{
	{ID: 5, Name: "Bob", Status: campfire.StatusActive},
	{ID: 1, Name: "Ada Lovelace", Status: campfire.StatusActive},
	{ID: 2, Name: "Ada", Status: campfire.StatusActive},
	{ID: 3, Name: "Grace Hopper", Status: campfire.StatusActive},
	{ID: 4, Name: "Grace Kelly", Status: campfire.StatusActive},
	{ID: 6, Name: "Linus Torvalds", Status: campfire.StatusActive},
	{ID: 7, Name: "Gone Away", Status: campfire.StatusDeactivated},
	{ID: 8, Name: `Tom & "J.R." (QA)+`, Status: campfire.StatusActive},
	{ID: 9, Name: "Zoë Ångström", Status: campfire.StatusActive},
	{ID: 10, Name: "Kelvin Sign", Status: campfire.StatusActive}, // starts with KELVIN SIGN, which folds to k
}

func mustRender(t testing.TB, markdown string) campfire.Rendered {
	t.Helper()
	got, err := campfire.NewRenderer().Render(markdown, renderMembers)
	if err != nil {
		t.Fatalf("Render(%q): %v", markdown, err)
	}
	assertSafeHTML(t, got.Body.HTML)
	return got
}

func TestRenderMarkdown(t *testing.T) {
	const ext = ` rel="nofollow noreferrer noopener" target="_blank"`
	tests := []struct {
		name, in, want string
	}{
		{"BoldItalicStrike", "**b** *i* _i_ ~~s~~", `<p><strong>b</strong> <em>i</em> <em>i</em> <del>s</del></p>`},
		{"InlineCode", "run `go test` now", `<p>run <code>go test</code> now</p>`},
		{"InlineCodeKeepsMarkup", "`<b>&amp;`", `<p><code>&lt;b&gt;&amp;amp;</code></p>`},
		{"FencedCodeWithLanguage", "```go\nx := 1 < 2\n```", "<pre><code class=\"language-go\">x := 1 &lt; 2\n</code></pre>"},
		{"FencedCodeHostileLanguageDropped", "```\"><script>\nx\n```", "<pre><code>x\n</code></pre>"},
		{"FencedCodeOddLanguageDropped", "```java:script\nx\n```", "<pre><code>x\n</code></pre>"},
		{"IndentedCode", "    a  b\n    c", "<pre><code>a  b\nc\n</code></pre>"},
		{"Link", "[docs](https://example.com/a?b=1&c=2)", `<p><a href="https://example.com/a?b=1&amp;c=2"` + ext + `>docs</a></p>`},
		{"LinkTitleDropped", `[docs](https://example.com "the title")`, `<p><a href="https://example.com"` + ext + `>docs</a></p>`},
		{"RelativeLink", "[room](/rooms/7)", `<p><a href="/rooms/7" rel="nofollow noreferrer">room</a></p>`},
		{"MailtoLink", "[mail](mailto:a@example.com)", `<p><a href="mailto:a@example.com" rel="nofollow noreferrer">mail</a></p>`},
		{"AutolinkBareURL", "see https://example.com/x.", `<p>see <a href="https://example.com/x"` + ext + `>https://example.com/x</a>.</p>`},
		{"AutolinkWWW", "www.example.com", `<p><a href="http://www.example.com"` + ext + `>www.example.com</a></p>`},
		{"AutolinkEmail", "write to bob@example.com", `<p>write to <a href="mailto:bob@example.com" rel="nofollow noreferrer">bob@example.com</a></p>`},
		{"AutolinkAngle", "<https://example.com>", `<p><a href="https://example.com"` + ext + `>https://example.com</a></p>`},
		{"FTPNotLinked", "ftp://example.com/f", `<p>ftp://example.com/f</p>`},
		{"UnorderedList", "- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>"},
		{"OrderedListStart", "3. a\n4. b", "<ol start=\"3\">\n<li>a</li>\n<li>b</li>\n</ol>"},
		{"NestedList", "- a\n  - b", "<ul>\n<li>a\n<ul>\n<li>b</li>\n</ul>\n</li>\n</ul>"},
		{"Blockquote", "> quoted\nstill", "<blockquote>\n<p>quoted<br>\nstill</p>\n</blockquote>"},
		{"Heading", "# Title", "<h1>Title</h1>"},
		{"ThematicBreak", "a\n\n---\n\nb", "<p>a</p>\n<hr>\n<p>b</p>"},
		{"NewlineIsLineBreak", "one\ntwo", "<p>one<br>\ntwo</p>"},
		{"ParagraphsSeparate", "one\n\ntwo", "<p>one</p>\n<p>two</p>"},
		{"CRLFNormalized", "one\r\ntwo\rthree", "<p>one<br>\ntwo<br>\nthree</p>"},
		{"EntitiesDecodedAndEscaped", "&copy; &amp; &lt;b&gt; &#60;", `<p>© &amp; &lt;b&gt; &lt;</p>`},
		{"RawHTMLShownAsText", "a <b>bold</b> tag", `<p>a &lt;b&gt;bold&lt;/b&gt; tag</p>`},
		{"HTMLBlockShownAsText", "<div>\nhi\n</div>", "<p>&lt;div&gt;<br>\nhi<br>\n&lt;/div&gt;</p>"},
		{"ImageBecomesLink", "![a cat](https://example.com/cat.png)", `<p><a href="https://example.com/cat.png"` + ext + `>a cat</a></p>`},
		{"ImageWithoutAltShowsURL", "![](https://example.com/cat.png)", `<p><a href="https://example.com/cat.png"` + ext + `>https://example.com/cat.png</a></p>`},
		{"ImageInLinkIsItsAltText", "[![badge](https://img.example/b.svg)](https://example.com)", `<p><a href="https://example.com"` + ext + `>badge</a></p>`},
		{"AutolinkInLinkIsText", "[a <https://b.example>](https://c.example)", `<p><a href="https://c.example"` + ext + `>a https://b.example</a></p>`},
		{"LinkReferenceOnlyShownAsText", "[1]: https://example.com", `<p>[1]: https://example.com</p>`},
		{"RuleOnlyShownAsText", "  ***\n", `<p>***</p>`},
		{"LinkWithoutTextShowsURL", "see [](https://example.com) [](javascript:x)", `<p>see <a href="https://example.com"` + ext + `>https://example.com</a> javascript:x</p>`},
		{"ImageWithoutAltOrSafeURLShowsURL", "![](javascript:x)", `<p>javascript:x</p>`},
		{"ReferenceLink", "[docs][1]\n\n[1]: https://example.com", `<p><a href="https://example.com"` + ext + `>docs</a></p>`},
		{"TablesNotEnabled", "| a |\n|---|\n| b |", "<p>| a |<br>\n|---|<br>\n| b |</p>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustRender(t, tt.in)
			if got.Body.HTML != tt.want {
				t.Errorf("Render(%q).HTML\n got %q\nwant %q", tt.in, got.Body.HTML, tt.want)
			}
		})
	}
}

func TestRenderBodyKeepsMarkdown(t *testing.T) {
	got := mustRender(t, "  Hi **there**\r\n")
	if want := "  Hi **there**\n"; got.Body.Markdown != want {
		t.Errorf("Markdown = %q, want %q (line endings normalized, not trimmed)", got.Body.Markdown, want)
	}
}

// TestRenderProtocolExample renders the Message example of PROTOCOL.md.
func TestRenderProtocolExample(t *testing.T) {
	got := mustRender(t, "Hi @Bob, **ship it**")
	want := campfire.Rendered{
		Body: campfire.Body{
			Markdown:  "Hi @Bob, **ship it**",
			HTML:      `<p>Hi <span class="mention" data-user-id="5">@Bob</span>, <strong>ship it</strong></p>`,
			PlainText: "Hi @Bob, ship it",
		},
		Mentions: []int64{5},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
}

// TestRenderHostileInput feeds markup meant to run script, load resources or
// fool a reader: each output must pass the allow-list, and what must not
// survive must not.
func TestRenderHostileInput(t *testing.T) {
	tests := []struct {
		name, in string
		// notLinked: the output must have no <a> at all.
		notLinked bool
		// wantText is a fragment the plain text must keep, if set.
		wantText string
	}{
		{name: "ScriptTag", in: "<script>alert(1)</script>", wantText: "<script>alert(1)</script>"},
		{name: "ScriptInline", in: "hi <script>alert(1)</script> there", wantText: "hi <script>"},
		{name: "ImgOnerror", in: `<img src=x onerror="alert(1)">`, wantText: "onerror"},
		{name: "ImgOnerrorInline", in: `look <img src=x onerror=alert(1)>`},
		{name: "AnchorJavascript", in: `<a href="javascript:alert(1)">x</a>`, notLinked: true},
		{name: "MarkdownJavascript", in: "[x](javascript:alert(1))", notLinked: true, wantText: "x"},
		{name: "MarkdownJavascriptMixedCase", in: "[x](JaVaScRiPt:alert(1))", notLinked: true},
		{name: "MarkdownJavascriptLeadingSpace", in: "[x]( javascript:alert(1))", notLinked: true},
		{name: "MarkdownJavascriptAngle", in: "[x](<javascript:alert(1)>)", notLinked: true},
		{name: "EntityEncodedScheme", in: "[x](&#106;avascript:alert(1))", notLinked: true},
		{name: "HexEntityEncodedScheme", in: "[x](&#x6A;avascript:alert(1))", notLinked: true},
		{name: "NamedEntityColon", in: "[x](javascript&colon;alert(1))"},
		{name: "TabInScheme", in: "[x](java&#x09;script:alert(1))", notLinked: true},
		{name: "NewlineInScheme", in: "[x](java&#10;script:alert(1))", notLinked: true},
		{name: "PercentEncodedScheme", in: "[x](%6Aavascript:alert(1))"},
		{name: "BackslashEscapedScheme", in: `[x](javascript\:alert(1))`, notLinked: true},
		{name: "DataURL", in: "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", notLinked: true},
		{name: "DataImage", in: "![x](data:image/png;base64,iVBORw0KGgo=)", notLinked: true, wantText: "x"},
		{name: "VBScript", in: "[x](vbscript:msgbox(1))", notLinked: true},
		{name: "FileURL", in: "[x](file:///etc/passwd)", notLinked: true},
		{name: "AutolinkJavascript", in: "<javascript:alert(1)>", notLinked: true, wantText: "javascript:alert(1)"},
		{name: "AutolinkData", in: "<data:text/html,hi>", notLinked: true},
		{name: "ReferenceJavascript", in: "[x][a]\n\n[a]: javascript:alert(1)", notLinked: true},
		{name: "ImageJavascript", in: "![x](javascript:alert(1))", notLinked: true},
		{name: "EventHandlerAttributes", in: `<p onclick="alert(1)" onmouseover=alert(1)>hi</p>`},
		{name: "StyleAttribute", in: `<span style="position:fixed;top:0">x</span>`},
		{name: "FakeMention", in: `<span class="mention" data-user-id="1">@Ada Lovelace</span>`, wantText: `<span class="mention"`},
		{name: "BrokenNestedMarkup", in: "<a href='x'><b><i>x</a></b> **a *b** c* [a [b](c) d](e) <div><p>"},
		{name: "UnclosedComment", in: "a <!-- b\n\nc"},
		{name: "CDATA", in: "<![CDATA[<script>alert(1)</script>]]>"},
		{name: "SVG", in: `<svg onload=alert(1)><script>alert(1)</script></svg>`},
		{name: "SVGInline", in: `x <svg><a xlink:href="javascript:alert(1)"><text>y</text></a></svg>`},
		{name: "Math", in: `<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`},
		{name: "Iframe", in: `<iframe src="https://evil.example"></iframe>`},
		{name: "StyleTag", in: `<style>body{display:none}</style>`},
		{name: "ObjectEmbed", in: `<object data="x.swf"></object><embed src="x.swf">`},
		{name: "FormButton", in: `<form action="https://evil.example"><button>go</button></form>`},
		{name: "MetaRefresh", in: `<meta http-equiv="refresh" content="0;url=https://evil.example">`},
		{name: "BaseHref", in: `<base href="https://evil.example/">`},
		{name: "AttributeBreakoutInURL", in: `[x](https://example.com/"onmouseover="alert(1))`},
		{name: "AttributeBreakoutInTitle", in: `[x](https://example.com "a\" onmouseover=\"alert(1)")`},
		{name: "AttributeBreakoutInLanguage", in: "```\" onclick=\"alert(1)\nx\n```"},
		{name: "RTLOverride", in: "invoice\u202Egnp.exe [click](https://example.com/\u202Etxt.exe)"},
		{name: "ZeroWidthInScheme", in: "[x](java\u200Bscript:alert(1))", notLinked: true},
		{name: "FullwidthScheme", in: "[x](ｊａｖａｓｃｒｉｐｔ:alert(1))", notLinked: true},
		{name: "ZeroWidthMention", in: "@\u200BBob @Bo\u200Bb"},
		{name: "ProtocolRelative", in: "[x](//evil.example/path)"},
		{name: "EncodedAngleBrackets", in: "&lt;script&gt;alert(1)&lt;/script&gt;", wantText: "<script>"},
		{name: "MentionTokenInjection", in: `<@1"><script>alert(1)</script>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustRender(t, tt.in)
			if tt.notLinked && strings.Contains(got.Body.HTML, "<a") {
				t.Errorf("Render(%q).HTML = %q, want no link", tt.in, got.Body.HTML)
			}
			if !strings.Contains(got.Body.PlainText, tt.wantText) {
				t.Errorf("Render(%q).PlainText = %q, want it to contain %q", tt.in, got.Body.PlainText, tt.wantText)
			}
		})
	}
}

func TestRenderMentions(t *testing.T) {
	const (
		bob     = `<span class="mention" data-user-id="5">@Bob</span>`
		ada     = `<span class="mention" data-user-id="2">@Ada</span>`
		ada1    = `<span class="mention" data-user-id="1">@Ada Lovelace</span>`
		linus   = `<span class="mention" data-user-id="6">@Linus Torvalds</span>`
		tom     = `<span class="mention" data-user-id="8">@Tom &amp; &#34;J.R.&#34; (QA)+</span>`
		zoe     = `<span class="mention" data-user-id="9">@Zoë Ångström</span>`
		grace3  = `<span class="mention" data-user-id="3">@Grace Hopper</span>`
		mailBob = `<a href="mailto:bob@example.com" rel="nofollow noreferrer">bob@example.com</a>`
	)
	tests := []struct {
		name, in, want string
		mentions       []int64
	}{
		{"FullName", "hi @Bob!", "<p>hi " + bob + "!</p>", []int64{5}},
		{"AtLineStart", "@Bob hi", "<p>" + bob + " hi</p>", []int64{5}},
		{"CaseInsensitive", "hi @bOB", "<p>hi " + bob + "</p>", []int64{5}},
		{"CaseInsensitiveUnicode", "@ZOË ÅNGSTRÖM", "<p>" + zoe + "</p>", []int64{9}},
		{"CaseFoldingBeyondASCII", "@kelvin", "<p>" + `<span class="mention" data-user-id="10">@Kelvin Sign</span>` + "</p>", []int64{10}},
		{"LongestFullNameWins", "@Ada Lovelace wrote", "<p>" + ada1 + " wrote</p>", []int64{1}},
		{"ShorterFullNameWhenLongerDoesNotFollow", "@Ada Byron", "<p>" + ada + " Byron</p>", []int64{2}},
		{"UniqueFirstName", "@linus, look", "<p>" + linus + ", look</p>", []int64{6}},
		{"UniqueFirstNameFullNameLonger", "@Linus Torvalds", "<p>" + linus + "</p>", []int64{6}},
		{"AmbiguousFirstNameNotResolved", "@Grace?", "<p>@Grace?</p>", nil},
		{"AmbiguousFirstNameFullNameResolves", "@grace hopper", "<p>" + grace3 + "</p>", []int64{3}},
		{"NonMemberNotResolved", "@Mallory hi", "<p>@Mallory hi</p>", nil},
		{"DeactivatedNotResolved", "@Gone Away", "<p>@Gone Away</p>", nil},
		{"WordBoundaryRequired", "@Bobby and @Bob2", "<p>@Bobby and @Bob2</p>", nil},
		{"PunctuationIsABoundary", "(@Bob) @Bob's @Bob_", "<p>(" + bob + ") " + bob + "&#39;s " + bob + "_</p>", []int64{5}},
		{"NotInCodeSpan", "`@Bob`", "<p><code>@Bob</code></p>", nil},
		{"NotInFencedCode", "```\n@Bob <@5>\n```", "<pre><code>@Bob &lt;@5&gt;\n</code></pre>", nil},
		{"NotInIndentedCode", "    @Bob", "<pre><code>@Bob\n</code></pre>", nil},
		{"NotInLinkText", "[@Bob](https://example.com)", `<p><a href="https://example.com" rel="nofollow noreferrer noopener" target="_blank">@Bob</a></p>`, nil},
		{"NotInLinkURL", "[x](https://example.com/@Bob)", `<p><a href="https://example.com/@Bob" rel="nofollow noreferrer noopener" target="_blank">x</a></p>`, nil},
		{"NotInAutolink", "https://example.com/@Bob", `<p><a href="https://example.com/@Bob" rel="nofollow noreferrer noopener" target="_blank">https://example.com/@Bob</a></p>`, nil},
		{"NotInImageAlt", "![@Bob](https://example.com/b.png)", `<p><a href="https://example.com/b.png" rel="nofollow noreferrer noopener" target="_blank">@Bob</a></p>`, nil},
		{"EmailIsNotAMention", "bob@example.com", "<p>" + mailBob + "</p>", nil},
		{"AfterLetterIsNotAMention", "x@Bob é@Bob 1@Bob", "<p>x@Bob é@Bob 1@Bob</p>", nil},
		{"EscapedAtIsNotAMention", `\@Bob`, "<p>@Bob</p>", nil},
		{"InEmphasis", "**@Bob**", "<p><strong>" + bob + "</strong></p>", []int64{5}},
		{"TokenForMember", "ping <@6>", "<p>ping " + linus + "</p>", []int64{6}},
		{"TokenForNonMember", "ping <@42>", "<p>ping &lt;@42&gt;</p>", nil},
		{"TokenForDeactivated", "ping <@7>", "<p>ping &lt;@7&gt;</p>", nil},
		{"TokenNotANumber", "<@> <@-1> <@1 > <@x1>", "<p>&lt;@&gt; &lt;@-1&gt; &lt;@1 &gt; &lt;@x1&gt;</p>", nil},
		{"TokenWithNameIsANameMention", "<@bob>", "<p>&lt;" + bob + "&gt;</p>", []int64{5}},
		{"TokenTooBig", "<@99999999999999999999>", "<p>&lt;@99999999999999999999&gt;</p>", nil},
		{"NameSpecialCharactersEscaped", `cc @Tom & "J.R." (QA)+ now`, "<p>cc " + tom + " now</p>", []int64{8}},
		// The dots of "J.R." match only dots: the full name does not match,
		// so the unique first name does.
		{"NameRegexCharactersAreLiteral", `@Tom & "JxRx" (QA)+`, "<p>" + tom + ` &amp; &#34;JxRx&#34; (QA)+</p>`, []int64{8}},
		{"MentionsDistinctAndSorted", "@Linus @Bob <@6> @Ada Lovelace @bob", "<p>" + linus + " " + bob + " " + linus + " " + ada1 + " " + bob + "</p>", []int64{1, 5, 6}},
		{"AcrossLines", "@Bob\n@Ada", "<p>" + bob + "<br>\n" + ada + "</p>", []int64{2, 5}},
		{"NotAcrossLines", "@Ada\nLovelace", "<p>" + ada + "<br>\nLovelace</p>", []int64{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustRender(t, tt.in)
			if got.Body.HTML != tt.want {
				t.Errorf("Render(%q).HTML\n got %q\nwant %q", tt.in, got.Body.HTML, tt.want)
			}
			if !slices.Equal(got.Mentions, tt.mentions) {
				t.Errorf("Render(%q).Mentions = %v, want %v", tt.in, got.Mentions, tt.mentions)
			}
		})
		// After many lookups the renderer sorts the members and searches
		// them instead of scanning them: the answers must not change.
		t.Run(tt.name+"/AfterManyMentions", func(t *testing.T) {
			lead := strings.Repeat("@x ", 20)
			got := mustRender(t, lead+"\n\n"+tt.in)
			if want := "<p>" + strings.TrimSpace(lead) + "</p>\n" + tt.want; got.Body.HTML != want {
				t.Errorf("HTML\n got %q\nwant %q", got.Body.HTML, want)
			}
			if !slices.Equal(got.Mentions, tt.mentions) {
				t.Errorf("Mentions = %v, want %v", got.Mentions, tt.mentions)
			}
		})
	}
}

func TestRenderMentionsOnlyRoomMembers(t *testing.T) {
	r := campfire.NewRenderer()
	got, err := r.Render("@Bob <@5>", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Mentions != nil || strings.Contains(got.Body.HTML, "mention") {
		t.Errorf("with no members: %+v", got)
	}
}

func TestRenderMentionsSameFullNameIsAmbiguous(t *testing.T) {
	twins := []campfire.User{
		{ID: 1, Name: "Sam Smith", Status: campfire.StatusActive},
		{ID: 2, Name: "sam smith", Status: campfire.StatusActive},
		{ID: 1, Name: "Sam Smith", Status: campfire.StatusActive}, // listed twice
	}
	for _, lead := range []string{"", strings.Repeat("@x ", 20)} {
		got, err := campfire.NewRenderer().Render(lead+"@Sam Smith <@2> @sam", twins)
		if err != nil {
			t.Fatal(err)
		}
		if want := []int64{2}; !slices.Equal(got.Mentions, want) {
			t.Errorf("Mentions = %v, want %v (a name two members share names nobody; <@ID> still works)", got.Mentions, want)
		}
	}
}

func TestRenderPlainText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"MarkupRemoved", "**bold** _em_ ~~del~~ `code`", "bold em del code"},
		{"MentionsAsFullName", "hi @linus and <@1>", "hi @Linus Torvalds and @Ada Lovelace"},
		{"LinksAsTheirText", "[the docs](https://example.com) and https://example.org", "the docs and https://example.org"},
		{"ImagesAsTheirAltText", "![a cat](https://example.com/cat.png)", "a cat"},
		{"LineBreaks", "one\ntwo", "one\ntwo"},
		{"BlocksOnTheirOwnLines", "# Title\n\npara\n\n> quote\n\n- a\n- b\n\n1. c", "Title\npara\nquote\na\nb\nc"},
		{"CodeBlockKept", "```\nif a < b {\n  x()\n}\n```\nafter", "if a < b {\n  x()\n}\nafter"},
		{"EntitiesDecoded", "a &amp; b &lt;c&gt; &copy;", "a & b <c> ©"},
		{"RawHTMLAsTyped", "a <b>c</b>", "a <b>c</b>"},
		{"Trimmed", "\n\n  hello  \n\n", "hello"},
		{"NothingToReadShowsWhatWasTyped", "---", "---"},
		{"EmptyHeadingShowsWhatWasTyped", "#", "#"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustRender(t, tt.in)
			if got.Body.PlainText != tt.want {
				t.Errorf("Render(%q).PlainText = %q, want %q", tt.in, got.Body.PlainText, tt.want)
			}
		})
	}
}

func TestRenderSound(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"Known", "/play tada", "tada"},
		{"KnownTrimmed", "  /play tada\n", "tada"},
		{"KnownWithDigits", "/play 56k", "56k"},
		{"Unknown", "/play kazoo", ""},
		{"ExtraWords", "/play tada now", ""},
		{"TwoSpaces", "/play  tada", ""},
		{"NotAtStart", "let's /play tada", ""},
		{"NameIsCaseSensitive", "/play TADA", ""},
		{"CommandIsCaseSensitive", "/PLAY tada", ""},
		{"NoName", "/play", ""},
		{"Punctuation", "/play tada!", ""},
		{"SecondLine", "/play tada\n/play yay", ""},
		{"Formatted", "**/play tada**", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustRender(t, tt.in); got.Sound != tt.want {
				t.Errorf("Render(%q).Sound = %q, want %q", tt.in, got.Sound, tt.want)
			}
		})
	}
	if got := mustRender(t, "/play tada"); got.Body.HTML != "<p>/play tada</p>" || got.Body.PlainText != "/play tada" {
		t.Errorf("Render(/play tada).Body = %+v, want the command as text", got.Body)
	}
}

func TestRenderLimits(t *testing.T) {
	r := campfire.NewRenderer()
	ok := []struct{ name, in string }{
		{"MaxLength", strings.Repeat("a", campfire.MaxBodyLength)},
		{"MaxLengthInCharactersNotBytes", strings.Repeat("é", campfire.MaxBodyLength)},
		{"CRLFCountsOnce", strings.Repeat("a\r\n", campfire.MaxBodyLength/2)},
		{"SurroundingSpaceKept", " x "},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := r.Render(tt.in, renderMembers); err != nil {
				t.Errorf("Render: %v", err)
			}
		})
	}
	bad := []struct{ name, in, message string }{
		{"Empty", "", "must not be empty"},
		{"Whitespace", " \n\t\r\n ", "must not be empty"},
		{"TooLong", strings.Repeat("a", campfire.MaxBodyLength+1), "must be at most 10000 characters"},
		{"TooLongMultibyte", strings.Repeat("é", campfire.MaxBodyLength+1), "must be at most 10000 characters"},
		{"InvalidUTF8", "hi \xff\xfe", "must be valid UTF-8"},
		{"TruncatedUTF8", "caf\xc3", "must be valid UTF-8"},
		{"NUL", "a\x00b", "must not contain NUL characters"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Render(tt.in, renderMembers)
			var ve *campfire.ValidationError
			if !errors.Is(err, campfire.ErrInvalid) || !errors.As(err, &ve) {
				t.Fatalf("Render: %v, want a ValidationError", err)
			}
			if ve.Field != "body" || ve.Message != tt.message {
				t.Errorf("error = %q %q, want body %q", ve.Field, ve.Message, tt.message)
			}
		})
	}
}

// pathological are inputs that make naive markdown parsers or sanitizers take
// quadratic time or recurse deeply; BenchmarkRender times them.
func pathologicalBodies() map[string]string {
	n := campfire.MaxBodyLength
	return map[string]string{
		"OpenBrackets":       strings.Repeat("[", n-1),
		"OpenImages":         strings.Repeat("![", n/2),
		"UnclosedLinks":      strings.Repeat("[a](", n/4),
		"EmptyLinkOpeners":   strings.Repeat("[](", n/3),
		"NestedBrackets":     strings.Repeat("[", n/2-1000) + strings.Repeat("](x)", 250),
		"DeepBlockquote":     strings.Repeat(">", n),
		"DeepBlockquoteSp":   strings.Repeat("> ", n/2-1) + "x",
		"BlockquoteLines":    strings.Repeat("> a\n", n/4),
		"NestedLists":        strings.Repeat("- ", n/2-1) + "x",
		"NestedOrdered":      strings.Repeat("1. ", n/3),
		"StarRun":            strings.Repeat("*", n),
		"StarWords":          strings.Repeat("*a", n/2),
		"StrongOpeners":      strings.Repeat("**a", n/3),
		"UnderscoreWords":    strings.Repeat("_a", n/2),
		"MixedDelimiters":    strings.Repeat("*_~`[<", n/6),
		"Backticks":          strings.Repeat("`a", n/2),
		"LessThans":          strings.Repeat("<", n),
		"OpenTags":           strings.Repeat("<a ", n/3),
		"Ats":                strings.Repeat("@", n),
		"AtNames":            strings.Repeat("@Ada ", n/5),
		"MentionTokens":      strings.Repeat("<@1>", n/4),
		"Entities":           strings.Repeat("&#106;", n/6),
		"Newlines":           strings.Repeat("a\n", n/2),
		"AutolinkCandidates": strings.Repeat("www.a", n/5),
	}
}

// TestRenderPathological checks that hostile shapes render correctly; the
// time they take is for BenchmarkRender, not for a flaky assertion.
func TestRenderPathological(t *testing.T) {
	r := campfire.NewRenderer()
	for name, in := range pathologicalBodies() {
		t.Run(name, func(t *testing.T) {
			got, err := r.Render(in, renderMembers)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			assertSafeHTML(t, got.Body.HTML)
			if again, _ := r.Render(in, renderMembers); !reflect.DeepEqual(got, again) {
				t.Error("two renders differ")
			}
		})
	}
}

// TestRenderDeepNestingIsFlattened: quotes, lists and emphasis stop nesting
// at 32 levels (a list costs two: <ul><li>) and keep their content.
func TestRenderDeepNestingIsFlattened(t *testing.T) {
	tests := []struct {
		name, in, tag string
		want          int
		text          string
	}{
		{"Blockquotes", strings.Repeat("> ", 100) + "deep", "<blockquote>", 32, "deep"},
		{"ShallowBlockquotesKept", strings.Repeat("> ", 5) + "deep", "<blockquote>", 5, "deep"},
		{"Lists", strings.Repeat("- ", 100) + "x\n" + strings.Repeat("  ", 99) + "- y", "<ul>", 16, "x\ny"},
		{"Emphasis", strings.Repeat("*a _b ", 40) + "c" + strings.Repeat("_ d*", 40), "<em>", 32, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustRender(t, tt.in)
			if n := strings.Count(got.Body.HTML, tt.tag); n != tt.want {
				t.Errorf("%d %s, want %d in %q", n, tt.tag, tt.want, got.Body.HTML)
			}
			if tt.text != "" && got.Body.PlainText != tt.text {
				t.Errorf("PlainText = %q, want %q", got.Body.PlainText, tt.text)
			}
		})
	}
}

// TestRenderConcurrent shares one Renderer between goroutines (run with -race).
func TestRenderConcurrent(t *testing.T) {
	r := campfire.NewRenderer()
	inputs := []string{"Hi @Bob, **ship it**", "@Ada Lovelace <@6> `code`", "[x](https://example.com)", "```go\nx\n```", "/play tada"}
	want := make([]campfire.Rendered, len(inputs))
	for i, in := range inputs {
		want[i], _ = r.Render(in, renderMembers)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				k := (g + i) % len(inputs)
				got, err := r.Render(inputs[k], renderMembers)
				if err != nil || !reflect.DeepEqual(got, want[k]) {
					t.Errorf("Render(%q) = %+v, %v; want %+v", inputs[k], got, err, want[k])
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkRender renders in a room of 200 members, of 5,000, and of 5,000
// who all share a first name (the worst case for mention lookup).
func BenchmarkRender(b *testing.B) {
	r := campfire.NewRenderer()
	room := func(n int, name func(int) string) []campfire.User {
		users := slices.Clone(renderMembers)
		for i := range n {
			users = append(users, campfire.User{ID: int64(100 + i), Name: name(i), Status: campfire.StatusActive})
		}
		return users
	}
	firsts := strings.Fields("Alice Bruno Chen Dana Emeka Farah Goran Hana Ivan Jun Kofi Lena Mateo Nia Omar Priya Quinn Rosa Sven Tariq")
	lasts := strings.Fields("Adams Berg Costa Diaz Eze Fischer Garcia Haddad Ito Jensen")
	small := room(200, func(i int) string { return firsts[i%20] + " " + lasts[i/20] })
	big := room(5000, func(i int) string { return fmt.Sprintf("%s %s%d", firsts[i%20], lasts[i/20%10], i/200) })
	sams := room(5000, func(i int) string { return fmt.Sprintf("Sam Person%d", i) })
	const typical = "Hi @Bob and @Ada Lovelace, **ship it**: see https://example.com/pr/42 and `make test`.\n> looks good"
	type bench struct {
		in   string
		room []campfire.User
	}
	cases := map[string]bench{
		"Typical":            {typical, small},
		"TypicalRoomOf5000":  {typical, big},
		"Long":               {strings.Repeat("Some *text* with a [link](https://example.com) and @Linus.\n", 150), small},
		"ManySamsRoomOf5000": {strings.Repeat("@Sam Person4999 ", 600), sams},
	}
	for name, in := range pathologicalBodies() {
		cases["Pathological/"+name] = bench{in, small}
	}
	names := make([]string, 0, len(cases))
	for name := range cases {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		c := cases[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.in)))
			for b.Loop() {
				if _, err := r.Render(c.in, c.room); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// safeHTMLAttrs is the allow-list the rendered HTML must keep to, per element:
// each attribute with a check of its value.
var safeHTMLAttrs = map[string]map[string]func(string) bool{
	"p": nil, "br": nil, "strong": nil, "em": nil, "del": nil, "s": nil, "pre": nil,
	"blockquote": nil, "ul": nil, "li": nil, "hr": nil,
	"h1": nil, "h2": nil, "h3": nil, "h4": nil, "h5": nil, "h6": nil,
	"ol":   {"start": regexp.MustCompile(`^[0-9]+$`).MatchString},
	"code": {"class": regexp.MustCompile(`^language-[A-Za-z0-9_+#.-]+$`).MatchString},
	"span": {
		"class":        func(v string) bool { return v == "mention" },
		"data-user-id": regexp.MustCompile(`^[0-9]+$`).MatchString,
	},
	"a": {
		"href":   isSafeHTMLHref,
		"target": func(v string) bool { return v == "_blank" },
		"rel": func(v string) bool {
			for _, tok := range strings.Fields(v) {
				if tok != "nofollow" && tok != "noopener" && tok != "noreferrer" {
					return false
				}
			}
			return strings.Contains(v, "nofollow") && strings.Contains(v, "noreferrer")
		},
	},
}

// isSafeHTMLHref reports whether an href (entities already decoded, as a browser
// sees it) is http, https, mailto or relative.
func isSafeHTMLHref(v string) bool {
	if strings.ContainsFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return false // browsers strip tabs and newlines inside a scheme
	}
	u, err := url.Parse(v)
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "", "http", "https", "mailto":
		return true
	}
	return false
}

// assertSafeHTML parses s as a browser would and fails unless every node is
// text or an allowed element with allowed attributes.
func assertSafeHTML(t testing.TB, s string) {
	t.Helper()
	body := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(s), body)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	for _, root := range nodes {
		for n := range htmlTree(root) {
			if msg := unsafeHTMLNode(n); msg != "" {
				t.Fatalf("unsafe HTML: %s in %q", msg, s)
			}
		}
	}
}

func htmlTree(root *html.Node) func(func(*html.Node) bool) {
	return func(yield func(*html.Node) bool) {
		if !yield(root) {
			return
		}
		for n := range root.Descendants() {
			if !yield(n) {
				return
			}
		}
	}
}

// unsafeHTMLNode says what is wrong with n, or "".
func unsafeHTMLNode(n *html.Node) string {
	switch n.Type {
	case html.TextNode:
		return ""
	case html.ElementNode:
	default:
		return fmt.Sprintf("node of type %d (%q)", n.Type, n.Data)
	}
	allowed, ok := safeHTMLAttrs[n.Data]
	if !ok || n.Namespace != "" {
		return fmt.Sprintf("element <%s> (namespace %q)", n.Data, n.Namespace)
	}
	seen := map[string]string{}
	for _, a := range n.Attr {
		check, ok := allowed[a.Key]
		if !ok || a.Namespace != "" || !check(a.Val) {
			return fmt.Sprintf("attribute %s=%q on <%s>", a.Key, a.Val, n.Data)
		}
		seen[a.Key] = a.Val
	}
	switch n.Data {
	case "a":
		if _, ok := seen["href"]; !ok {
			return "<a> without href"
		}
		if _, ok := seen["target"]; ok && !(strings.Contains(seen["rel"], "noopener") && strings.Contains(seen["rel"], "noreferrer")) {
			return "target without rel=noopener noreferrer"
		}
	case "span":
		if seen["class"] != "mention" || seen["data-user-id"] == "" {
			return fmt.Sprintf("span that is not a mention: %v", seen)
		}
		if c := n.FirstChild; c == nil || c.Type != html.TextNode || !strings.HasPrefix(c.Data, "@") || c.NextSibling != nil {
			return "mention whose content is not @Name"
		}
	}
	return ""
}
