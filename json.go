package campfire

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// The wire shapes of the values every post and every page of history
// carries (Message, its creator and its boosts) are appended by hand: one
// buffer, no reflection, and none of the validating copy encoding/json makes
// of each nested MarshalJSON. The bytes are exactly what encoding/json
// writes (json_test.go compares the two): strings escaped the same way, HTML
// characters included, and times in RFC 3339 with nanoseconds.

func (m Message) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, m.ID, 10)
	b = append(b, `,"room_id":`...)
	b = strconv.AppendInt(b, m.RoomID, 10)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, m.Seq, 10)
	b = append(b, `,"client_message_id":`...)
	b = appendJSONString(b, m.ClientMessageID)
	b = append(b, `,"creator":`...)
	b = m.Creator.appendJSON(b)
	b = append(b, `,"body":{"markdown":`...)
	b = appendJSONString(b, m.Body.Markdown)
	b = append(b, `,"html":`...)
	b = appendJSONString(b, m.Body.HTML)
	b = append(b, `,"plain_text":`...)
	b = appendJSONString(b, m.Body.PlainText)
	b = append(b, `},"mentions":[`...)
	for i, id := range m.Mentions {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	b = append(b, `],"sound":`...)
	if m.Sound == "" {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, m.Sound)
	}
	b = append(b, `,"boosts":[`...)
	for i, boost := range m.Boosts {
		if i > 0 {
			b = append(b, ',')
		}
		b = boost.appendJSON(b)
	}
	b = append(b, `],"created_at":`...)
	b = appendJSONTime(b, m.CreatedAt)
	b = append(b, `,"updated_at":`...)
	b = appendJSONTime(b, m.UpdatedAt)
	return append(b, '}')
}

func (b Boost) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendInt(dst, b.ID, 10)
	dst = append(dst, `,"message_id":`...)
	dst = strconv.AppendInt(dst, b.MessageID, 10)
	dst = append(dst, `,"content":`...)
	dst = appendJSONString(dst, b.Content)
	dst = append(dst, `,"booster":`...)
	dst = b.Booster.appendJSON(dst)
	dst = append(dst, `,"created_at":`...)
	dst = appendJSONTime(dst, b.CreatedAt)
	return append(dst, '}')
}

func (u UserRef) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, u.ID, 10)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, u.Name)
	b = append(b, `,"role":`...)
	b = appendJSONString(b, string(u.Role))
	b = append(b, `,"avatar_url":"/api/v1/users/`...)
	b = strconv.AppendInt(b, u.ID, 10)
	return append(b, `/avatar"}`...)
}

// appendJSONTime appends t in UTC as time.Time's MarshalJSON writes it.
func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted as encoding/json quotes it, with
// HTML escaping: <, > and & as \u003c, \u003e and \u0026, U+2028 and
// U+2029 escaped, and invalid UTF-8 as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
