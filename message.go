package campfire

import "time"

// Message is one post in a room.
type Message struct {
	ID     int64
	RoomID int64
	// Seq is the room sequence number of the event that created the message.
	Seq             int64
	ClientMessageID string
	Creator         UserRef
	Body            Body
	// Mentions are the ids of the room members the body @mentions, ascending.
	Mentions []int64
	// Sound is the /play sound's name, or "".
	Sound     string
	Boosts    []Boost
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Body is a message's text in its three forms.
type Body struct {
	// Markdown is what the author wrote.
	Markdown string `json:"markdown"`
	// HTML is the rendered, sanitized markup: safe to insert into a page.
	HTML string `json:"html"`
	// PlainText is for notifications, search and screen readers.
	PlainText string `json:"plain_text"`
}

// Boost is a short reaction to a message (an emoji or up to 16 characters).
type Boost struct {
	ID        int64
	MessageID int64
	RoomID    int64
	Content   string
	Booster   UserRef
	CreatedAt time.Time
}

// Limits on message content, in characters.
const (
	MaxBodyLength         = 10000
	MaxBoostLength        = 16
	MaxClientMessageIDLen = 100
)

// MarshalJSON writes the protocol's Message shape (see json.go).
func (m Message) MarshalJSON() ([]byte, error) { return m.appendJSON(nil), nil }

// MarshalJSON writes the protocol's Boost shape (see json.go).
func (b Boost) MarshalJSON() ([]byte, error) { return b.appendJSON(nil), nil }

// Sounds are the names that `/play NAME` accepts: Campfire's 56.
var soundNames = [...]string{
	"56k", "ballmer", "bell", "bezos", "bueller", "butts", "clowntown", "cottoneyejoe",
	"crickets", "curb", "dadgummit", "dangerzone", "danielsan", "deeper", "donotwant", "drama",
	"flawless", "glados", "gogogo", "greatjob", "greyjoy", "guarantee", "heygirl", "honk",
	"horn", "horror", "inconceivable", "letitgo", "live", "loggins", "makeitso", "noooo",
	"nyan", "ohmy", "ohyeah", "pushit", "rimshot", "rollout", "rumble", "sax",
	"secret", "sexyback", "story", "tada", "tmyk", "totes", "trololo", "trombone",
	"unix", "vuvuzela", "what", "whoomp", "wups", "yay", "yeah", "yodel",
}

// Sounds returns the names that `/play NAME` accepts, in alphabetical order.
func Sounds() []string { return append([]string(nil), soundNames[:]...) }

// IsSound reports whether name is a playable sound.
func IsSound(name string) bool {
	for _, s := range soundNames {
		if s == name {
			return true
		}
	}
	return false
}
