package campfire_test

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencampfire/campfire"
)

// signIn tries email and password as c, from ip.
func (c *client) signIn(email, password, ip string) *response {
	c.tb.Helper()
	return c.do("POST", "/api/v1/session", map[string]any{"email": email, "password": password}, fromIP(ip))
}

// TestLoginFloodOfHugeEmailsKeepsNoMemory: 1,500 sign-ins with unique
// emails of about 1 MB each, the flood that grew a server by 2 GB, are
// refused before anything of them is kept (413: a sign-in body is small;
// the server reads no more than that and closes the connection): the heap
// grows by less than 50 MB.
func TestLoginFloodOfHugeEmailsKeepsNoMemory(t *testing.T) {
	w := newWorld(t, campfire.Config{ClientIP: testClientIP})
	const requests, workers = 1500, 4
	filler := strings.Repeat("a", 1000*1000)

	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	st := time.Now()
	statuses := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for worker := range workers {
		wg.Go(func() {
			for i := worker; i < requests; i += workers {
				// The client sends what the server reads, and would send
				// the rest (as Content-Length says) if the server waited.
				body := fmt.Sprintf(`{"email":"%d%s@example.com","password":"guess"}`, i, filler)
				sent := make(chan struct{})
				req, _ := http.NewRequest("POST", w.ts.URL+"/api/v1/session", &untilAnswered{r: strings.NewReader(body), answered: sent})
				req.ContentLength = int64(len(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Test-IP", "198.51.100.7")
				status := 0 // the server closed the connection before the answer was read
				if res, err := http.DefaultClient.Do(req); err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					status = res.StatusCode
				}
				close(sent)
				mu.Lock()
				statuses[status]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	t.Log("flood", time.Since(st))
	after := heap()
	grown := int64(after) - int64(before)
	t.Logf("answers %v; heap %d MB before, %d MB after", statuses, before>>20, after>>20)
	if statuses[413]+statuses[0] != requests || statuses[413] == 0 {
		t.Errorf("answers %v, want every oversized sign-in refused with 413", statuses)
	}
	if grown > 50<<20 {
		t.Fatalf("the heap grew by %d MB, want under 50 MB", grown>>20)
	}
	// The flood took nothing from the address: its owner signs in.
	w.bob.signIn("bob@example.com", testPassword, "198.51.100.7")
	if r := w.bob.signIn("bob@example.com", testPassword, "198.51.100.7"); r.status != 200 {
		t.Fatalf("sign-in after the flood: %d %s", r.status, r.body)
	}
}

// untilAnswered reads r's first 64 KiB at once, and the rest only after
// the answer: enough to show the server the whole request, without pushing
// 1.5 GB through the loopback when the server has stopped reading.
type untilAnswered struct {
	r        *strings.Reader
	n        int
	answered chan struct{}
}

func (u *untilAnswered) Read(p []byte) (int, error) {
	if u.n >= 64<<10 {
		<-u.answered
		return 0, io.ErrUnexpectedEOF
	}
	n, err := u.r.Read(p[:min(len(p), 64<<10-u.n)])
	u.n += n
	return n, err
}

// TestLoginOversizedCredentialsAreRefused: an email over 254 bytes or a
// password over 256 bytes is 422, and spends none of the address's tries.
func TestLoginOversizedCredentialsAreRefused(t *testing.T) {
	w := newWorld(t, campfire.Config{ClientIP: testClientIP})
	c := newClient(t, w.ts.URL)
	for range 20 {
		c.signIn(strings.Repeat("e", 250)+"@x.io", testPassword, "192.0.2.1").wantError(t, 422, "invalid")
		c.signIn("bob@example.com", strings.Repeat("p", 257), "192.0.2.1").wantError(t, 422, "invalid")
	}
	if r := c.signIn("bob@example.com", testPassword, "192.0.2.1"); r.status != 200 {
		t.Fatalf("sign-in after oversized tries: %d %s", r.status, r.body)
	}
}

// handClock stands still until the test turns it.
type handClock struct {
	start  time.Time
	offset atomic.Int64
}

func newHandClock() *handClock               { return &handClock{start: time.Now()} }
func (c *handClock) Now() time.Time          { return c.start.Add(time.Duration(c.offset.Load())) }
func (c *handClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// lockoutWorld is a world whose clock the test turns and whose password
// checks are cheap, so that a test can try hundreds of sign-ins.
func lockoutWorld(t *testing.T) (*world, *handClock) {
	t.Helper()
	probe := &loginProbe{Store: openStore(t)}
	clock := newHandClock()
	w := newWorld(t, campfire.Config{Store: probe, ClientIP: testClientIP, Now: clock.Now})
	h := cheapHash(testPassword)
	probe.cheapHash.Store(&h)
	return w, clock
}

// TestLoginStrangersCannotLockTheOwnerOut: wrong passwords for a person's
// email from other addresses, in a burst or as a slow drip, never keep
// that person from signing in; guessing stays slow.
func TestLoginStrangersCannotLockTheOwnerOut(t *testing.T) {
	t.Run("TenWrongTriesElsewhere", func(t *testing.T) {
		w, _ := lockoutWorld(t)
		stranger := newClient(t, w.ts.URL)
		for range 10 {
			stranger.signIn("carol@example.com", "wrong password", "203.0.113.1").wantError(t, 401, "invalid_credentials")
		}
		owner := newClient(t, w.ts.URL) // a browser that never signed in
		if r := owner.signIn("carol@example.com", testPassword, "198.51.100.1"); r.status != 200 {
			t.Fatalf("the owner from another address: %d %s", r.status, r.body)
		}
	})
	t.Run("SlowDrip", func(t *testing.T) {
		w, clock := lockoutWorld(t)
		stranger := newClient(t, w.ts.URL)
		// One wrong try every 18 s for three hours, from one address.
		for i := range 600 {
			clock.Advance(18 * time.Second)
			stranger.signIn("carol@example.com", "wrong password", "203.0.113.1")
			if i%100 == 99 {
				owner := newClient(t, w.ts.URL)
				if r := owner.signIn("carol@example.com", testPassword, fmt.Sprint("198.51.100.", i/100)); r.status != 200 {
					t.Fatalf("after %d wrong tries, the owner: %d %s", i+1, r.status, r.body)
				}
			}
		}
	})
	t.Run("GuessingFromOneAddressStaysSlow", func(t *testing.T) {
		w, clock := lockoutWorld(t)
		stranger := newClient(t, w.ts.URL)
		// An hour of guessing, a try every 6 s.
		evaluated := 0
		for range 600 {
			clock.Advance(6 * time.Second)
			r := stranger.signIn("carol@example.com", "wrong password", "203.0.113.1")
			switch r.status {
			case 401:
				evaluated++
			case 429:
				if r.header.Get("Retry-After") == "" {
					t.Fatal("429 without Retry-After")
				}
			default:
				t.Fatalf("status %d %s", r.status, r.body)
			}
		}
		// 10 at once, then one every 6 minutes.
		if evaluated > 20 {
			t.Fatalf("%d passwords checked in an hour from one address, want at most 20", evaluated)
		}
		// Spread over accounts, the address is still held to 10 at once.
		clock.Advance(time.Hour)
		statuses := map[int]int{}
		for i := range 20 {
			statuses[stranger.signIn(fmt.Sprintf("u%d@example.com", i), "wrong password", "203.0.113.1").status]++
		}
		if statuses[401] != 10 || statuses[429] != 10 {
			t.Fatalf("20 accounts from one address: %v, want 10 checked, 10 refused", statuses)
		}
	})
}

// TestLoginCeilingSparesTheOwnersBrowser: many addresses guessing one
// email meet a per-email ceiling that refuses everyone, except a browser
// that signed in to that account before (its device cookie).
func TestLoginCeilingSparesTheOwnersBrowser(t *testing.T) {
	w, _ := lockoutWorld(t)
	owner := newClient(t, w.ts.URL)
	r := owner.signIn("carol@example.com", testPassword, "198.51.100.1")
	if r.status != 200 {
		t.Fatalf("sign-in: %d %s", r.status, r.body)
	}
	var device *http.Cookie
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == "campfire_device" {
			device = c
		}
	}
	if device == nil {
		t.Fatal("no device cookie at sign-in")
	}
	if !device.HttpOnly || device.SameSite != http.SameSiteLaxMode || device.Path != "/" || device.MaxAge < 365*24*3600 {
		t.Fatalf("device cookie %+v: want HttpOnly, SameSite=Lax, Path=/, a year or more", device)
	}
	if strings.Contains(device.Value, "carol") {
		t.Fatalf("device cookie %q names the account", device.Value)
	}
	owner.must(204, "DELETE", "/api/v1/session", nil)

	// Two tries each from many addresses: the ceiling (100) holds.
	attacker := newClient(t, w.ts.URL)
	statuses := map[int]int{}
	for i := range 150 {
		ip := fmt.Sprintf("203.0.%d.%d", i/2/200, i/2%200)
		statuses[attacker.signIn("carol@example.com", "wrong password", ip).status]++
	}
	// The owner's own sign-in took one of the 100.
	if statuses[401] != 99 || statuses[429] != 51 {
		t.Fatalf("150 distributed guesses: %v, want 99 checked, then 429", statuses)
	}
	// A browser without the cookie is refused, right password or not,
	// and so is one holding another account's cookie.
	newClient(t, w.ts.URL).signIn("carol@example.com", testPassword, "198.51.100.2").wantError(t, 429, "rate_limited")
	bobs := newClient(t, w.ts.URL)
	if r := bobs.signIn("bob@example.com", testPassword, "198.51.100.3"); r.status != 200 {
		t.Fatalf("bob: %d", r.status)
	}
	bobs.signIn("carol@example.com", testPassword, "198.51.100.3").wantError(t, 429, "rate_limited")
	forged := newClient(t, w.ts.URL)
	forged.http.Jar.SetCookies(mustURL(t, w.ts.URL), []*http.Cookie{{Name: "campfire_device", Value: strings.Repeat("A", len(device.Value))}})
	forged.signIn("carol@example.com", testPassword, "198.51.100.4").wantError(t, 429, "rate_limited")

	// The owner's browser, from any address, gets in.
	if r := owner.signIn("carol@example.com", testPassword, "198.51.100.5"); r.status != 200 {
		t.Fatalf("the owner's browser during the attack: %d %s", r.status, r.body)
	}
}
