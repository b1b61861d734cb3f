package campfire_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/opencampfire/campfire"
)

// hostileShapes are bodies shaped to make a markdown parser, the mention
// parser or the sanitizer take quadratic time or recurse deeply, at the
// length limit and beyond it, beside render_test's pathologicalBodies.
// TestRenderHostileShapes checks what they render to; how long that takes
// is BenchmarkRenderHostileShapes's to show.
func hostileShapes() map[string]string {
	const n = campfire.MaxBodyLength - 1 // 9,999
	run := func(s string) string { return strings.Repeat(s, n/len(s)) }
	return map[string]string{
		"Brackets":          run("["),
		"ClosingBrackets":   run("]"),
		"Parens":            run("("),
		"ClosingParens":     run(")"),
		"Stars":             run("*"),
		"Underscores":       run("_"),
		"Tildes":            run("~"),
		"Backticks":         run("`"),
		"LessThans":         run("<"),
		"GreaterThans":      run(">"),
		"Backslashes":       run("\\"),
		"Bangs":             run("!"),
		"Ampersands":        run("&"),
		"Hashes":            run("#"),
		"Pipes":             run("|"),
		"Ats":               run("@"),
		"StarUnderscore":    run("*_"),
		"StarUnderscoreSp":  run("*_ "),
		"WordStarUnder":     run("a*_"),
		"StrongEm":          run("***a"),
		"DelimiterLadder":   strings.Repeat("*", n/2) + strings.Repeat("_", n/2),
		"EmphasisNest":      strings.Repeat("*a _", n/8) + strings.Repeat("_ a*", n/8),
		"LinkOpenersText":   run("[a"),
		"LinkClosers":       run("](a"),
		"ImageOpeners":      run("!["),
		"RefLinks":          run("[a]"),
		"RefDefsUnused":     run("[a]: b\n"),
		"AngleAutolinks":    run("<a:"),
		"AngleMentions":     run("<@"),
		"CodeSpanLadder":    strings.Repeat("`", n/200) + strings.Repeat("a`", n/2-n/200),
		"BackslashBrackets": run("\\["),
		"EntityStarts":      run("&#"),
		"HTMLComments":      run("<!--"),
		"HTMLTags":          run("<a "),
		"HTMLCloseTags":     run("</"),
		"QuoteNest":         run(">"),
		"QuoteNestSpaced":   run("> "),
		"QuoteListLadder":   strings.Repeat("> - ", n/4),
		"ListQuoteLadder":   strings.Repeat("- > ", n/4),
		"OrderedNest":       strings.Repeat("1. ", n/3),
		"IndentedLists":     strings.Repeat("- a\n  ", n/6),
		"QuoteLines":        run(">\n"),
		"FenceOpeners":      run("```\n"),
		"SetextLines":       run("a\n=\n"),
		"HeadingRun":        run("# a\n"),
		"Tables":            run("|a|\n|-|\n"),
		"WWWLinks":          run("www.a."),
		"EmailLike":         run("a@a."),
		"URLRun":            run("http://"),
		"MentionChain":      run("@Ada "),
		"NewlinesOnly":      "x" + strings.Repeat("\n", n-1),
		"CRs":               "x" + strings.Repeat("\r", n-1),
		"Spaces":            "x" + strings.Repeat(" ", n-1),
		"Tabs":              "x" + strings.Repeat("\t", n-1),
		"Multibyte":         strings.Repeat("語", n),
		"Combining":         "e" + strings.Repeat("\u0301", n-1),
		"RTLOverrides":      run("\u202e["),
	}
}

// TestRenderHostileShapes: each shape renders, to safe HTML, the same way
// twice; and 50,000 '[' (over the limit) is refused as too long, before any
// parsing.
func TestRenderHostileShapes(t *testing.T) {
	r := campfire.NewRenderer()
	for name, in := range hostileShapes() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if utf8.RuneCountInString(in) > campfire.MaxBodyLength {
				t.Fatalf("shape of %d characters is over the limit", utf8.RuneCountInString(in))
			}
			got, err := r.Render(in, renderMembers)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range renderedProblems(in, got, err) {
				t.Error(p)
			}
			if again, _ := r.Render(in, renderMembers); !reflect.DeepEqual(got, again) {
				t.Error("two renders differ")
			}
		})
	}
	for _, c := range []string{"[", "(", "*", "_", "`", "<", ">", "\\", "> ", "- "} {
		in := strings.Repeat(c, 50000/len(c))
		_, err := r.Render(in, renderMembers)
		var ve *campfire.ValidationError
		if !errors.As(err, &ve) || ve.Message != "must be at most 10000 characters" {
			t.Errorf("%d×%q: %v, want too long", 50000/len(c), c, err)
		}
	}
}

// TestRenderHostileShapesKeepText: the text of a run of one character is
// never lost, whatever markdown makes of it (escaping, emphasis or nothing).
func TestRenderHostileShapesKeepText(t *testing.T) {
	r := campfire.NewRenderer()
	for _, c := range []string{"[", "]", "(", ")", "!", "&", "<", "|"} {
		in := strings.Repeat(c, campfire.MaxBodyLength)
		got, err := r.Render(in, renderMembers)
		if err != nil {
			t.Fatal(err)
		}
		if got.Body.PlainText != in {
			t.Errorf("%q run: PlainText is %d bytes of %q, want the run", c, len(got.Body.PlainText), got.Body.PlainText[:min(40, len(got.Body.PlainText))])
		}
	}
}

// BenchmarkRenderHostileShapes times each shape and a refused 50,000 '['.
// Compare with BenchmarkRender/Typical: each should stay within a small
// multiple of an ordinary long body's time per byte.
func BenchmarkRenderHostileShapes(b *testing.B) {
	r := campfire.NewRenderer()
	cases := hostileShapes()
	cases["TooLong50000Brackets"] = strings.Repeat("[", 50000)
	names := make([]string, 0, len(cases))
	for name := range cases {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		in := cases[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				r.Render(in, renderMembers)
			}
		})
	}
}
