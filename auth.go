package campfire

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Role is what a user may do across the account.
type Role string

const (
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
	RoleBot    Role = "bot"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleMember || r == RoleBot }

// UserStatus says whether a user may sign in.
type UserStatus string

const (
	StatusActive      UserStatus = "active"
	StatusDeactivated UserStatus = "deactivated"
)

// Valid reports whether s is a known status.
func (s UserStatus) Valid() bool { return s == StatusActive || s == StatusDeactivated }

// User is a person or a bot.
type User struct {
	ID     int64
	Name   string
	Email  string
	Role   Role
	Status UserStatus
	Bio    string
	// ExternalID links the user to the host's identity when
	// [Config.Authenticate] is set; empty for built-in accounts.
	ExternalID string
	// WebhookURL is where a bot's webhooks go; empty for people. It is
	// never in the User's JSON: only admins see it, in the Bot shape.
	WebhookURL string
	CreatedAt  time.Time
}

// Active reports whether the user may sign in and take part.
func (u User) Active() bool { return u.Status == StatusActive }

// Ref is the short form of a user embedded in messages and boosts.
func (u User) Ref() UserRef { return UserRef{ID: u.ID, Name: u.Name, Role: u.Role} }

// UserRef is a user as shown beside what they wrote.
type UserRef struct {
	ID   int64
	Name string
	Role Role
}

// avatarURL is where a user's avatar is served, relative to the mount point.
func avatarURL(id int64) string { return "/api/v1/users/" + strconv.FormatInt(id, 10) + "/avatar" }

// MarshalJSON writes {"id", "name", "role", "avatar_url"} (see json.go).
func (u UserRef) MarshalJSON() ([]byte, error) { return u.appendJSON(nil), nil }

// userJSON is the protocol's User shape.
type userJSON struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	Role      Role       `json:"role"`
	Status    UserStatus `json:"status"`
	Bio       string     `json:"bio"`
	AvatarURL string     `json:"avatar_url"`
	Email     string     `json:"email,omitempty"`
}

// publicUser is the User shape without the email, for everyone but the user
// and admins.
func publicUser(u User) userJSON {
	return userJSON{ID: u.ID, Name: u.Name, Role: u.Role, Status: u.Status, Bio: u.Bio, AvatarURL: avatarURL(u.ID)}
}

// userFor is u as viewer may see it: the email only to admins and to u.
func userFor(viewer, u User) userJSON {
	j := publicUser(u)
	if viewer.ID == u.ID || viewer.Role == RoleAdmin {
		j.Email = u.Email
	}
	return j
}

// MarshalJSON writes the protocol's User shape without the email; the API
// adds the email for admins and the user themself.
func (u User) MarshalJSON() ([]byte, error) { return json.Marshal(publicUser(u)) }

// Identity is the host's signed-in person, returned by [Config.Authenticate].
type Identity struct {
	// ExternalID is the host's stable id for the person; required.
	ExternalID string
	// Name is shown in the chat; required. It is read when campfire first
	// sees the person: a name that PATCH /users/me would refuse (empty, too
	// long, with control characters, <, > or @, or with characters that
	// hide or reorder text) becomes "user " and ExternalID instead.
	Name string
	// Email is optional.
	Email string
	// Admin makes the user a campfire admin (kept in sync on every request).
	Admin bool
}

// Session is a signed-in browser or client. Only a hash of its token is stored.
type Session struct {
	TokenHash    []byte
	UserID       int64
	UserAgent    string
	IP           string
	CreatedAt    time.Time
	LastActiveAt time.Time
}

type userContextKey struct{}

// UserFromContext returns the user that the request was authenticated as.
func UserFromContext(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(userContextKey{}).(User)
	return u, ok
}

func contextWithUser(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, userContextKey{}, u)
}

// Limits on account fields.
const (
	MaxNameLength     = 80
	MaxBioLength      = 200
	MaxEmailLength    = 254
	MinPasswordLength = 8
	// MaxPasswordLength caps the work an attacker can make argon2 do.
	MaxPasswordLength = 256
)

func normalizeUserName(name string) (string, error) {
	name, err := normalizeName("name", name, MaxNameLength)
	if err == nil && strings.ContainsAny(name, "<>@") {
		err = invalid("name", "must not contain <, > or @")
	}
	return name, err
}

func normalizeEmail(email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	at := strings.LastIndexByte(email, '@')
	switch {
	case email == "":
		return "", invalid("email", "must not be empty")
	case len(email) > MaxEmailLength:
		return "", invalid("email", "must be at most %d characters", MaxEmailLength)
	case at < 1 || at == len(email)-1 || strings.ContainsFunc(email, unicode.IsSpace) || strings.ContainsFunc(email, isControl):
		return "", invalid("email", "is not an email address")
	}
	return email, nil
}

func normalizeBio(bio string) (string, error) {
	bio = strings.TrimSpace(bio)
	switch {
	case utf8.RuneCountInString(bio) > MaxBioLength:
		return "", invalid("bio", "must be at most %d characters", MaxBioLength)
	case strings.ContainsFunc(bio, func(r rune) bool { return r != '\n' && isControl(r) }):
		return "", invalid("bio", "must not contain control characters")
	case blank(bio):
		return "", nil
	}
	return bio, checkVisible("bio", bio)
}

func checkPassword(pw string) error {
	switch n := utf8.RuneCountInString(pw); {
	case n < MinPasswordLength:
		return invalid("password", "must be at least %d characters", MinPasswordLength)
	case len(pw) > MaxPasswordLength:
		return invalid("password", "must be at most %d bytes", MaxPasswordLength)
	}
	return nil
}

func isControl(r rune) bool { return unicode.IsControl(r) }

// Password hashing: argon2id at OWASP's first recommended setting (m=46 MiB,
// t=1, p=1) made a little stronger in time (t=2).
const (
	argonTime    = 2
	argonMemory  = 46 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// HashPassword returns an encoded argon2id hash of pw (PHC string format).
func HashPassword(pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errBadHash = errors.New("campfire: malformed password hash")

// CheckPassword reports whether pw matches the encoded hash, in constant time.
func CheckPassword(encoded, pw string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	var mem, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &t, &p); err != nil || mem == 0 || t == 0 || p == 0 || mem > 1<<20 || t > 16 {
		return false, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(pw), salt, t, mem, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// newToken returns 32 random bytes as URL-safe base64 (a session token) and
// the SHA-256 of the token, which is all that is stored.
func newToken() (token string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token), nil
}

// hashToken is the stored form of a session token.
func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// newJoinCode returns 12 characters from an alphabet without look-alikes,
// shown as xxxx-xxxx-xxxx.
func newJoinCode() (string, error) {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return sb.String(), nil
}

// normalizeJoinCode lets people paste a code with or without dashes, in any case.
func normalizeJoinCode(code string) string {
	code = strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(code))
	if len(code) != 12 {
		return code
	}
	return code[:4] + "-" + code[4:8] + "-" + code[8:]
}

// sessionCookieName is the cookie that carries the session token.
const sessionCookieName = "campfire_session"

// setSessionCookie sends the session token as an HttpOnly, SameSite=Lax
// cookie, Secure when the request came over TLS or secure is set.
func setSessionCookie(w http.ResponseWriter, r *http.Request, token string, maxAge time.Duration, secure bool) {
	setCookie(w, r, sessionCookieName, token, maxAge, secure)
}

// setCookie sends one of campfire's cookies: HttpOnly, SameSite=Lax, on
// every path, Secure when the request came over TLS or secure is set.
func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration, secure bool) {
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   int(maxAge / time.Second),
		HttpOnly: true,
		Secure:   secure || r.TLS != nil,
		SameSite: http.SameSiteLaxMode,
	})
}

func clearSessionCookie(w http.ResponseWriter, r *http.Request, secure bool) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: secure || r.TLS != nil, SameSite: http.SameSiteLaxMode,
	})
}
