package campfire

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"hash/maphash"
	"math"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Limits bound how often one person may repeat each kind of write through
// the HTTP API, so that a script cannot flood a room, everyone's sidebar or
// the database while people working normally never meet a limit. Past a
// limit the request answers 429 rate_limited with Retry-After, and only
// that person (or bot) waits. Calls a host makes from Go (PostMessage and
// the others) are its own code and are not limited.
//
// Each field's zero value is the default below; a negative PerSecond turns
// that limit off. PROTOCOL.md lists the limits and the routes each covers
// in one table.
type Limits struct {
	// Posts: new messages and boosts, from people and bots. Zero:
	// Config.PostRate and Config.PostBurst, whose own zero is 5 a second
	// with bursts of 20.
	Posts Rate
	// Edits: editing and deleting messages, removing boosts. Zero: 5 a
	// second with bursts of 20, as posts.
	Edits Rate
	// Rooms: creating, renaming and deleting rooms and changing their
	// members. Zero: bursts of 10, then one every 6 seconds.
	Rooms Rate
	// Profile: changing one's own name, bio or password (PATCH /users/me).
	// Zero: bursts of 10, then one every 6 seconds.
	Profile Rate
	// Admin: account settings, the join code, other people's roles and
	// status, and bots. Zero: bursts of 10, then one every 6 seconds.
	Admin Rate
	// Marks: marking a room read, involvement, typing and presence, which
	// clients send as people move around. Zero: 2 a second with bursts of
	// 30.
	Marks Rate
}

// Rate is a token bucket: Burst requests at once, then PerSecond on
// average. A zero field takes its limit's default; a negative PerSecond
// means no limit.
type Rate struct {
	PerSecond float64
	Burst     int
}

// Default write limits (see [Limits]).
var (
	defaultEditRate  = Rate{PerSecond: 5, Burst: 20}
	defaultRoomRate  = Rate{PerSecond: 1.0 / 6, Burst: 10}
	defaultMarksRate = Rate{PerSecond: 2, Burst: 30}
)

// Sign-in throttling. Every try is counted three ways:
//   - per client address, across emails: 10 tries, then one every 18 s
//     (Campfire's 10 per 3 minutes);
//   - per email and address: 10 tries, then one every 6 minutes, so that one
//     address guessing one account gets ten an hour;
//   - per email, from everywhere: 100 tries, then one every 36 s (100 an
//     hour). Only many addresses together reach it: one address's 10 an
//     hour leave it refilling. A browser that has signed in to that email
//     before (its device cookie) is exempt, so the owner gets in while a
//     distributed attack on their account is held to 100 guesses an hour.
var (
	loginPerAddress = Rate{PerSecond: 1.0 / 18, Burst: 10}
	loginPerPair    = Rate{PerSecond: 1.0 / 360, Burst: 10}
	loginPerEmail   = Rate{PerSecond: 1.0 / 36, Burst: 100}
)

// maxLoginBody bounds a sign-in or join body: the longest email and
// password, every character escaped, fit many times over. Read no more of
// an anonymous request than that.
const maxLoginBody = 16 << 10

// maxBuckets bounds each limiter's memory: a bucket is a 16-byte map entry,
// so a full limiter holds about 3 MB whatever a flood of distinct keys.
const maxBuckets = 1 << 17

// buckets is a table of token buckets, by a fixed-size hash of their key.
// A bucket is one number, its theoretical arrival time (GCRA): when the
// next request would be on schedule, in nanoseconds since epoch. A bucket
// whose time has passed is full and is dropped: it is the same as none.
// A table is not safe for concurrent use.
type buckets struct {
	interval  int64 // nanoseconds between requests, sustained
	tolerance int64 // how far ahead of schedule a burst may run
	max       int
	epoch     time.Time
	seed      maphash.Seed
	tat       map[uint64]int64
}

func newBuckets(r Rate, max int, epoch time.Time) *buckets {
	interval := int64(math.Round(float64(time.Second) / r.PerSecond))
	return &buckets{
		interval:  interval,
		tolerance: interval * int64(r.Burst-1),
		max:       max,
		epoch:     epoch,
		seed:      maphash.MakeSeed(),
		tat:       map[uint64]int64{},
	}
}

// key hashes k: a key of any length is kept as 8 bytes, and the per-table
// seed keeps anyone from choosing keys that collide.
func (b *buckets) key(k string) uint64 { return maphash.String(b.seed, k) }

// wait is how long until key k may make a request; 0 if it may now.
func (b *buckets) wait(k uint64, now int64) int64 {
	tat, ok := b.tat[k]
	if !ok || tat <= now {
		return 0
	}
	return max(0, tat-now-b.tolerance)
}

// take spends one request of key k, which wait has allowed.
func (b *buckets) take(k uint64, now int64) {
	tat, ok := b.tat[k]
	if !ok {
		b.makeRoom(now)
	}
	b.tat[k] = max(tat, now) + b.interval
}

// makeRoom keeps the table under its bound before a new bucket: first
// drop the full buckets, then, if the table is still nearly full, the
// fullest quarter, whose keys lose the least by starting afresh.
func (b *buckets) makeRoom(now int64) {
	if len(b.tat) < b.max {
		return
	}
	for k, tat := range b.tat {
		if tat <= now {
			delete(b.tat, k)
		}
	}
	if len(b.tat) < b.max-b.max/8 {
		return
	}
	tats := make([]int64, 0, len(b.tat))
	for _, tat := range b.tat {
		tats = append(tats, tat)
	}
	slices.Sort(tats)
	cut := tats[len(tats)/4]
	for k, tat := range b.tat {
		if tat <= cut {
			delete(b.tat, k)
		}
	}
}

// limiterSet is a set of token buckets by key, safe for concurrent use.
type limiterSet struct {
	mu  sync.Mutex
	now func() time.Time
	b   *buckets
}

func newLimiterSet(r Rate, now func() time.Time) *limiterSet {
	return &limiterSet{now: now, b: newBuckets(r, maxBuckets, now())}
}

// allow takes a token for every key, or none if any key is out of tokens,
// in which case it says how long until they all have one again. A refused
// request leaves no bucket behind.
func (l *limiterSet) allow(keys ...string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := int64(l.now().Sub(l.b.epoch))
	hashed := make([]uint64, len(keys))
	var wait int64
	for i, k := range keys {
		hashed[i] = l.b.key(k)
		wait = max(wait, l.b.wait(hashed[i], now))
	}
	if wait > 0 {
		return false, time.Duration(wait)
	}
	for _, k := range hashed {
		l.b.take(k, now)
	}
	return true, 0
}

// loginThrottle counts sign-in tries per address, per email and address,
// and per email (see loginPerAddress), under one lock, so that a try takes
// from all its buckets or from none.
type loginThrottle struct {
	mu                sync.Mutex
	now               func() time.Time
	addr, pair, email *buckets
	epoch             time.Time
}

func newLoginThrottle(now func() time.Time) *loginThrottle {
	epoch := now()
	return &loginThrottle{
		now:   now,
		epoch: epoch,
		addr:  newBuckets(loginPerAddress, maxBuckets, epoch),
		pair:  newBuckets(loginPerPair, maxBuckets, epoch),
		email: newBuckets(loginPerEmail, maxBuckets, epoch),
	}
}

// allow takes a try for addr and email; exempt skips the per-email ceiling
// (the browser holds a device cookie for email).
func (t *loginThrottle) allow(addr, email string, exempt bool) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := int64(t.now().Sub(t.epoch))
	a := t.addr.key(addr)
	p := t.pair.key(email + "\x00" + addr)
	e := t.email.key(email)
	wait := max(t.addr.wait(a, now), t.pair.wait(p, now))
	if !exempt {
		wait = max(wait, t.email.wait(e, now))
	}
	if wait > 0 {
		return false, time.Duration(wait)
	}
	t.addr.take(a, now)
	t.pair.take(p, now)
	if !exempt {
		t.email.take(e, now)
	}
	return true, 0
}

// The device cookie (OWASP's "device cookies") marks a browser that has
// signed in to an account: a random nonce and an HMAC over the email and
// the nonce, with a key only the server knows. It holds no secret of the
// account and the server stores nothing for it; it only exempts its browser
// from the per-email ceiling, never from the per-address limits.
const (
	deviceCookieName   = "campfire_device"
	deviceCookieMaxAge = 2 * 365 * 24 * time.Hour
	deviceNonceLen     = 16
)

func newDeviceKey() []byte {
	key := make([]byte, 32)
	rand.Read(key)
	return key
}

func (s *Server) deviceMAC(email string, nonce []byte) []byte {
	mac := hmac.New(sha256.New, s.deviceKey)
	mac.Write([]byte("campfire device\x00"))
	mac.Write(nonce)
	mac.Write([]byte(email))
	return mac.Sum(nil)
}

// setDeviceCookie marks this browser as one that signed in as email.
func (s *Server) setDeviceCookie(w http.ResponseWriter, r *http.Request, email string) {
	nonce := make([]byte, deviceNonceLen)
	rand.Read(nonce)
	value := base64.RawURLEncoding.EncodeToString(append(nonce, s.deviceMAC(email, nonce)...))
	setCookie(w, r, deviceCookieName, value, deviceCookieMaxAge, s.secureCookies)
}

// knownDevice reports whether r comes from a browser that signed in as
// email before.
func (s *Server) knownDevice(r *http.Request, email string) bool {
	c, err := r.Cookie(deviceCookieName)
	if err != nil || len(c.Value) > 128 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(b) != deviceNonceLen+sha256.Size {
		return false
	}
	return hmac.Equal(b[deviceNonceLen:], s.deviceMAC(email, b[:deviceNonceLen]))
}

// MaxMessageBytes caps a message as the events carry it: its markdown,
// HTML and plain text JSON-encoded, with its mentions (boosts aside). Every
// event is stored, and sent to every member's connections: a body that
// escapes and expands to hundreds of kilobytes is refused (422) instead.
// Ordinary text takes about 3 bytes a character (30 KB for 10,000); a
// 10,000-character paste of HTML source, dense in < > & and quotes, 64 KB;
// 10,000 "<" take 210 KB and are refused, and so are links full of "&"
// (320 KB, the largest found).
const MaxMessageBytes = 128 << 10

// checkMessageSize refuses a rendered body whose message would encode past
// MaxMessageBytes.
func checkMessageSize(r Rendered) error {
	if n := len(Message{Body: r.Body, Mentions: r.Mentions}.appendJSON(nil)); n > MaxMessageBytes {
		return invalid("body", "is too large once encoded (%d KiB, at most %d KiB): fewer characters that need escaping, such as < > & and quotes, fit", n>>10, MaxMessageBytes>>10)
	}
	return nil
}

// writeLimits are the per-user limiters of [Limits]; nil is no limit.
type writeLimits struct {
	edits, rooms, profile, admin, marks *limiterSet
}

// setLimits builds the server's limiters from cfg.
func (s *Server) setLimits(cfg Config) {
	s.loginThrottle = newLoginThrottle(s.now)
	s.loginLimits = newLimiterSet(loginPerAddress, s.now)
	posts := cfg.Limits.Posts
	if posts == (Rate{}) {
		posts = Rate{PerSecond: cfg.PostRate, Burst: cfg.PostBurst}
	}
	build := func(r, def Rate) *limiterSet {
		if r.PerSecond < 0 {
			return nil
		}
		if r.PerSecond == 0 {
			r.PerSecond = def.PerSecond
		}
		if r.Burst <= 0 {
			r.Burst = def.Burst
		}
		return newLimiterSet(r, s.now)
	}
	s.postLimits = build(posts, defaultEditRate)
	s.writeLimits = writeLimits{
		edits:   build(cfg.Limits.Edits, defaultEditRate),
		rooms:   build(cfg.Limits.Rooms, defaultRoomRate),
		profile: build(cfg.Limits.Profile, defaultRoomRate),
		admin:   build(cfg.Limits.Admin, defaultRoomRate),
		marks:   build(cfg.Limits.Marks, defaultMarksRate),
	}
	s.deviceKey = cfg.DeviceKey
	if len(s.deviceKey) == 0 {
		s.deviceKey = newDeviceKey()
	}
	s.bodyTimeout = cfg.BodyReadTimeout
	if s.bodyTimeout == 0 {
		s.bodyTimeout = 10 * time.Second
	}
}

// limit runs h only while u has a token in l.
func limit(l *limiterSet, h authedFunc) authedFunc {
	if l == nil {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request, u User) error {
		if ok, wait := l.allow(idString(u.ID)); !ok {
			return &RateLimitError{RetryAfter: wait}
		}
		return h(w, r, u)
	}
}

// errBodyTimeout answers a request whose body did not arrive in
// Config.BodyReadTimeout.
var errBodyTimeout = &httpError{http.StatusRequestTimeout, "timeout", "the request body took too long to arrive"}

// boundBodyRead gives r's body until the server's bound to arrive: a
// client that sends it a byte at a time cannot hold the connection. Only
// requests with a body get a deadline: net/http clears it when the body
// ends, and on a request without one its background read would take the
// deadline for the client going away. The transports' streams never pass
// here.
func (s *Server) boundBodyRead(w http.ResponseWriter, r *http.Request) {
	if s.bodyTimeout < 0 || r.Body == nil || r.Body == http.NoBody {
		return
	}
	// A host's ResponseWriter that cannot set deadlines leaves the bound to
	// its own server.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.bodyTimeout))
}
