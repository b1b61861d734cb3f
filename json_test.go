package campfire

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The hand-written encoders of json.go must write exactly what
// encoding/json writes for the same shapes. These are those shapes, as
// encoding/json sees them.

type refUserRef UserRef

func (u refUserRef) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID        int64  `json:"id"`
		Name      string `json:"name"`
		Role      Role   `json:"role"`
		AvatarURL string `json:"avatar_url"`
	}{u.ID, u.Name, u.Role, avatarURL(u.ID)})
}

type refBoost Boost

func (b refBoost) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID        int64      `json:"id"`
		MessageID int64      `json:"message_id"`
		Content   string     `json:"content"`
		Booster   refUserRef `json:"booster"`
		CreatedAt time.Time  `json:"created_at"`
	}{b.ID, b.MessageID, b.Content, refUserRef(b.Booster), b.CreatedAt.UTC()})
}

func refMessageJSON(m Message) ([]byte, error) {
	var sound *string
	if m.Sound != "" {
		sound = &m.Sound
	}
	mentions := m.Mentions
	if mentions == nil {
		mentions = []int64{}
	}
	boosts := make([]refBoost, len(m.Boosts))
	for i, b := range m.Boosts {
		boosts[i] = refBoost(b)
	}
	return json.Marshal(struct {
		ID              int64      `json:"id"`
		RoomID          int64      `json:"room_id"`
		Seq             int64      `json:"seq"`
		ClientMessageID string     `json:"client_message_id"`
		Creator         refUserRef `json:"creator"`
		Body            Body       `json:"body"`
		Mentions        []int64    `json:"mentions"`
		Sound           *string    `json:"sound"`
		Boosts          []refBoost `json:"boosts"`
		CreatedAt       time.Time  `json:"created_at"`
		UpdatedAt       time.Time  `json:"updated_at"`
	}{m.ID, m.RoomID, m.Seq, m.ClientMessageID, refUserRef(m.Creator), m.Body, mentions, sound, boosts, m.CreatedAt.UTC(), m.UpdatedAt.UTC()})
}

// jsonStrings are the strings that exercise every branch of the escaping.
func jsonStrings(t testing.TB) []string {
	ss := []string{
		"", "plain", `"quoted" and \back\slashed`, "<script>alert(1)</script> & more",
		"\x00\x01\x07\b\t\n\v\f\r\x1b\x1f\x7f", "line\u2028para\u2029end", "émoji 🔥 ok",
		"bad \xff\xfe utf-8 \xc3", "\xed\xa0\x80 surrogate", "tail \xe2\x82",
	}
	// The XSS corpus's lines, as they are: hostile strings of every kind.
	vectors, err := os.ReadFile("testdata/xss/vectors.txt")
	if err != nil {
		t.Fatal(err)
	}
	ss = append(ss, strings.Split(string(vectors), "\n")...)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		ss = append(ss, string(b))
	}
	return ss
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range jsonStrings(t) {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestMessageJSONMatchesEncodingJSON(t *testing.T) {
	ss := jsonStrings(t)
	rng := rand.New(rand.NewPCG(3, 4))
	pick := func() string { return ss[rng.IntN(len(ss))] }
	paris, _ := time.LoadLocation("Europe/Paris")
	times := []time.Time{{}, time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), time.Date(2026, 3, 29, 2, 30, 0, 123456789, paris), time.Unix(0, 1).UTC()}
	for i := range 500 {
		m := Message{
			ID: rng.Int64(), RoomID: int64(i), Seq: -int64(i), ClientMessageID: pick(),
			Creator:   UserRef{ID: rng.Int64N(1000), Name: pick(), Role: Role(pick())},
			Body:      Body{Markdown: pick(), HTML: pick(), PlainText: pick()},
			CreatedAt: times[rng.IntN(len(times))], UpdatedAt: times[rng.IntN(len(times))],
		}
		if i%3 == 0 {
			m.Sound = pick()
		}
		for range rng.IntN(3) {
			m.Mentions = append(m.Mentions, rng.Int64())
		}
		if i%4 == 0 {
			m.Mentions = []int64{} // empty, not nil: the same []
		}
		for range rng.IntN(3) {
			m.Boosts = append(m.Boosts, Boost{ID: rng.Int64(), MessageID: m.ID, RoomID: m.RoomID, Content: pick(),
				Booster: UserRef{ID: rng.Int64N(1000), Name: pick(), Role: RoleAdmin}, CreatedAt: times[rng.IntN(len(times))]})
		}
		want, err := refMessageJSON(m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := json.Marshal(m)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("json.Marshal(Message) = %s (%v)\nwant %s", got, err, want)
		}
		ev, err := NewEvent(EventMessageCreated, m.RoomID, 1, m)
		if err != nil || !bytes.Equal(ev.Data, want) {
			t.Fatalf("NewEvent(Message).Data = %s (%v)\nwant %s", ev.Data, err, want)
		}
		if len(m.Boosts) > 0 {
			want, _ := json.Marshal(refBoost(m.Boosts[0]))
			ev, err := NewEvent(EventBoostCreated, m.RoomID, 1, m.Boosts[0])
			if err != nil || !bytes.Equal(ev.Data, want) {
				t.Fatalf("NewEvent(Boost).Data = %s (%v)\nwant %s", ev.Data, err, want)
			}
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "a<b>&c", "\x00\u2028\xff", `"\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		got := appendJSONString(nil, s)
		if !bytes.Equal(got, want) {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
		if !json.Valid(got) || !utf8.Valid(got) || strings.ContainsAny(string(got), "<>&") {
			t.Fatalf("appendJSONString(%q) = %s: not valid, HTML-safe JSON", s, got)
		}
	})
}
