package campfire

import "strings"

// The rules of visible.go, for the tests of package campfire_test that tell
// what the API must accept from what it must refuse.
var (
	// VisibleLabel reports whether a trimmed name, room name, bio or boost
	// shows something and holds nothing that hides or reorders text.
	VisibleLabel = func(s string) bool { return !blank(s) && checkVisible("", s) == nil }
	// Blank reports whether s shows nothing.
	Blank = blank
	// BodyAsStored is a body as Render keeps it: \n line endings, without
	// bidi embeddings, overrides and isolates.
	BodyAsStored = func(s string) string {
		s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
		return strings.Map(func(r rune) rune {
			if isBidiControl(r) {
				return -1
			}
			return r
		}, s)
	}
)
