package campfire

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// What a reader sees of a name is all they can judge it by. Names, room
// names, bios and boosts are short labels that people trust at a glance, so
// they refuse the format characters that only hide or reorder text there:
// a name with an invisible character in it looks like one without, and a
// right-to-left override shows "Helper" for "repleH". The joiners that real
// text needs are kept where it needs them.

// checkVisible refuses s, the value of field, when it holds a character that
// can only deceive a reader of a short label: bidi controls, invisible
// spaces, joiners and operators, fillers and line separators (see
// isDeceptive), and the joiners and tag characters outside the sequences
// that need them (see joinerFits). It returns an error matching [ErrInvalid]
// that names field.
func checkVisible(field, s string) error {
	prev := rune(-1)
	for i, r := range s {
		bad := isDeceptive(r)
		switch {
		case r == zwj || r == zwnj:
			next, _ := utf8.DecodeRuneInString(s[i+utf8.RuneLen(r):])
			bad = !joinerFits(r, prev, next)
		case isTag(r):
			// A tag spells a subdivision flag after a black flag, and a run
			// of tags ends with the cancel tag.
			bad = !(prev == blackFlag || isTag(prev) && prev != cancelTag)
			next, _ := utf8.DecodeRuneInString(s[i+utf8.RuneLen(r):])
			if r != cancelTag && !isTag(next) {
				bad = true
			}
		}
		if bad {
			return invalid(field, "must not contain invisible or direction-changing characters (U+%04X)", r)
		}
		prev = r
	}
	return nil
}

const (
	zwj       = '\u200d'
	zwnj      = '\u200c'
	blackFlag = '\U0001f3f4'
	cancelTag = '\U000e007f'
)

// isDeceptive reports whether r is a character that a name never needs and
// that readers cannot see, or that changes the order of what they see:
// the bidi embeddings, overrides, isolates and marks; the zero-width space,
// word joiner, invisible operators and BOM; the soft hyphen and the
// Mongolian vowel separator; the Hangul fillers, which show as blanks; the
// line and paragraph separators; and the deprecated format characters, the
// interlinear annotations and the shorthand format controls.
func isDeceptive(r rune) bool {
	switch r {
	case '\u00ad', '\u061c', '\u115f', '\u1160', '\u180e', '\u200b', '\u200e', '\u200f',
		'\u2028', '\u2029', '\u3164', '\ufeff', '\uffa0':
		return true
	}
	return '\u202a' <= r && r <= '\u202e' || '\u2060' <= r && r <= '\u206f' ||
		'\ufff9' <= r && r <= '\ufffb' || '\U0001bca0' <= r && r <= '\U0001bca3' || r == '\U000e0001'
}

func isTag(r rune) bool { return '\U000e0020' <= r && r <= cancelTag }

// joinerFits reports whether a zero-width joiner or non-joiner between prev
// and next does what real text uses it for: ZWJ glues emoji into one
// (👨‍👩‍👧, 🏳️‍🌈), and both choose how letters of the scripts that join
// letters connect (ZWNJ in Persian علی‌رضا, ZWJ after a virama in
// Sinhala ශ්‍රී). Between Latin, Greek or Cyrillic letters, at an edge or
// beside a space, a joiner changes nothing a reader sees but the name's
// identity.
func joinerFits(r, prev, next rune) bool {
	if r == zwj && isEmojiPart(prev) && isEmoji(next) {
		return true
	}
	return joiningScript(prev) && (unicode.IsLetter(next) || unicode.IsMark(next))
}

// isEmoji approximates Extended_Pictographic, which package unicode lacks:
// emoji are symbols (So), and the ones before a joiner may carry a skin
// tone (Sk) or the emoji presentation selector.
func isEmoji(r rune) bool { return unicode.Is(unicode.So, r) }

func isEmojiPart(r rune) bool {
	return isEmoji(r) || r == '\ufe0f' || '\U0001f3fb' <= r && r <= '\U0001f3ff'
}

// joiningScript reports whether r is a letter or a mark of a script whose
// letters take joiners, that is, not Latin, Greek, Cyrillic or a script
// shared by all (digits, punctuation).
func joiningScript(r rune) bool {
	return (unicode.IsLetter(r) || unicode.IsMark(r)) &&
		!unicode.In(r, unicode.Latin, unicode.Greek, unicode.Cyrillic, unicode.Common, unicode.Inherited)
}

// isInvisible reports whether r shows nothing by itself: a space, a control
// or format character, a joiner, a variation selector, the combining
// grapheme joiner, a Hangul filler or the blank Braille pattern. A name or a
// body made only of these is blank.
func isInvisible(r rune) bool {
	switch {
	case unicode.IsSpace(r), unicode.IsControl(r), unicode.Is(unicode.Cf, r), isDeceptive(r):
		return true
	case r == '\u034f', r == '\u2800', unicode.Is(unicode.Variation_Selector, r):
		return true
	}
	return false
}

// blank reports whether s shows nothing.
func blank(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return !isInvisible(r) })
}

// isBidiControl reports whether r is a bidi embedding, override or isolate
// (or their terminators): the characters that can show a run of text in
// another order than it was written. Message bodies lose them (see
// normalizeBody).
func isBidiControl(r rune) bool {
	return '\u202a' <= r && r <= '\u202e' || '\u2066' <= r && r <= '\u2069'
}
