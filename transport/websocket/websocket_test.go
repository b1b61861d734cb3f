package websocket_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/opencampfire/campfire"
	"github.com/opencampfire/campfire/store/sqlite"
	cfws "github.com/opencampfire/campfire/transport/websocket"
)

// testChat is a campfire on SQLite served by httptest with the WebSocket
// transport, set up with its admin.
type testChat struct {
	ts     *httptest.Server
	chat   *campfire.Server
	token  string // the admin's session token
	userID int64
}

func newTestChat(tb testing.TB, opts *cfws.Options) *testChat {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "chat.db"), nil)
	if err != nil {
		tb.Fatal(err)
	}
	chat, err := campfire.New(campfire.Config{
		Store: db, Transports: []campfire.Transport{cfws.New(opts)},
		// TestIdleConnectionCost opens a hundred sockets as one user.
		MaxConnectionsPerUser: 1000,
	})
	if err != nil {
		tb.Fatal(err)
	}
	ts := httptest.NewServer(chat)
	tb.Cleanup(func() {
		ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := chat.Shutdown(ctx); err != nil {
			tb.Errorf("Shutdown: %v", err)
		}
		db.Close()
	})
	body := `{"name":"Ada Lovelace","email":"ada@example.com","password":"correct horse battery"}`
	res, err := http.Post(ts.URL+"/api/v1/setup", "application/json", strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	var setup struct {
		User struct {
			ID int64 `json:"id"`
		} `json:"user"`
	}
	if err := json.NewDecoder(res.Body).Decode(&setup); err != nil || res.StatusCode != 201 {
		tb.Fatalf("setup: %d %v", res.StatusCode, err)
	}
	tc := &testChat{ts: ts, chat: chat, userID: setup.User.ID}
	for _, c := range res.Cookies() {
		if c.Name == "campfire_session" {
			tc.token = c.Value
		}
	}
	if tc.token == "" {
		tb.Fatal("setup set no session cookie")
	}
	return tc
}

func (tc *testChat) wsURL() string {
	return "ws" + strings.TrimPrefix(tc.ts.URL, "http") + "/api/v1/ws"
}

// dial opens a WebSocket as the admin and reads the hello.
func (tc *testChat) dial(tb testing.TB) *websocket.Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, tc.wsURL(), &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + tc.token}},
	})
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	c.SetReadLimit(-1)
	tb.Cleanup(func() { c.CloseNow() })
	_, msg, err := c.Read(ctx)
	if err != nil || !bytes.HasPrefix(msg, []byte(`{"type":"hello"`)) {
		tb.Fatalf("first message %q, %v; want the hello", msg, err)
	}
	return c
}

// rawDial completes a WebSocket handshake over a bare TCP connection and
// leaves it there: a client that costs the test no goroutine, and that never
// answers a ping.
func rawDial(tb testing.TB, tc *testChat, header string) (net.Conn, *http.Response) {
	tb.Helper()
	nc, err := net.Dial("tcp", tc.ts.Listener.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { nc.Close() })
	fmt.Fprintf(nc, "GET /api/v1/ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
		tc.ts.Listener.Addr(), header)
	res, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		tb.Fatal(err)
	}
	return nc, res
}

// writeFrame sends text as one masked client frame (the mask is zero, so
// the payload goes as it is).
func writeFrame(tb testing.TB, nc net.Conn, text string) {
	tb.Helper()
	if len(text) > 125 {
		tb.Fatal("writeFrame: only short frames")
	}
	frame := append([]byte{0x81, 0x80 | byte(len(text)), 0, 0, 0, 0}, text...)
	if _, err := nc.Write(frame); err != nil {
		tb.Fatal(err)
	}
}

// allTalk returns the id of the room that setup created.
func (tc *testChat) allTalk(tb testing.TB) int64 {
	tb.Helper()
	req, _ := http.NewRequest("GET", tc.ts.URL+"/api/v1/rooms", nil)
	req.Header.Set("Authorization", "Bearer "+tc.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Rooms []struct {
			ID int64 `json:"id"`
		} `json:"rooms"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || len(body.Rooms) != 1 {
		tb.Fatalf("rooms: %+v, %v", body, err)
	}
	return body.Rooms[0].ID
}

// settle waits until f holds, for up to d.
func settle(d time.Duration, f func() bool) bool {
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// TestIdleConnectionCost measures what an idle connection costs the server:
// goroutines and memory. The clients are bare TCP connections, so every
// goroutine and nearly every byte counted is the server's.
func TestIdleConnectionCost(t *testing.T) {
	const n = 100
	tc := newTestChat(t, nil)
	header := "Authorization: Bearer " + tc.token + "\r\n"
	rawDial(t, tc, header) // warm up pools and lazily built state

	settle(time.Second, func() bool { return false })
	runtime.GC()
	var before, after runtime.MemStats
	g0 := runtime.NumGoroutine()
	runtime.ReadMemStats(&before)
	for range n {
		nc, res := rawDial(t, tc, header)
		if res.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("handshake: %s", res.Status)
		}
		_ = nc
	}
	// Every connection has sent its hello and its writer is gone.
	time.Sleep(200 * time.Millisecond)
	runtime.GC()
	g1 := runtime.NumGoroutine()
	runtime.ReadMemStats(&after)
	perConn := float64(g1-g0) / n
	heap := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / n // live objects, just after a GC
	stack := float64(int64(after.StackInuse)-int64(before.StackInuse)) / n
	t.Logf("idle connection: %.2f goroutines, %.1f KiB heap + %.1f KiB stack (race detector: %v)",
		perConn, heap/1024, stack/1024, raceEnabled)
	if perConn > 1.05 {
		t.Errorf("%.2f goroutines per idle connection, want 1", perConn)
	}

	// Writing starts a goroutine per connection only while there is
	// something to write.
	for range 20 {
		tc.chat.Hub().PublishUser(tc.userID, campfire.Event{Type: campfire.EventUnread, RoomID: 1, Data: json.RawMessage(`{"room_id":1}`)})
	}
	if !settle(5*time.Second, func() bool { return runtime.NumGoroutine() <= g1 }) {
		t.Errorf("after writing, %d goroutines, want %d as when idle", runtime.NumGoroutine(), g1)
	}
}

// TestDeadPeerIsClosed: a client that stops answering pings is dropped.
func TestDeadPeerIsClosed(t *testing.T) {
	tc := newTestChat(t, &cfws.Options{PingInterval: 50 * time.Millisecond, WriteTimeout: 100 * time.Millisecond})
	nc, res := rawDial(t, tc, "Authorization: Bearer "+tc.token+"\r\n")
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %s", res.Status)
	}
	room := tc.allTalk(t)
	writeFrame(t, nc, fmt.Sprintf(`{"type":"subscribe","room_id":%d}`, room))
	writeFrame(t, nc, fmt.Sprintf(`{"type":"presence","room_id":%d,"state":"present"}`, room))
	if !settle(2*time.Second, func() bool { return len(tc.chat.Hub().Present(room)) == 1 }) {
		t.Fatal("the client never became present")
	}
	// Read (the hello, the pings) without ever answering, until the server
	// hangs up.
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	_, err := io.Copy(io.Discard, nc)
	if err != nil {
		t.Fatalf("the server did not close the connection of a dead peer: %v", err)
	}
	t.Logf("closed after %v", time.Since(start).Round(time.Millisecond))
	// The server let go of it: its presence ended with it.
	if !settle(2*time.Second, func() bool { return len(tc.chat.Hub().Present(room)) == 0 }) {
		t.Error("still present")
	}
}

// TestLivePeerIsKept: pings answered keep a quiet connection open.
func TestLivePeerIsKept(t *testing.T) {
	tc := newTestChat(t, &cfws.Options{PingInterval: 20 * time.Millisecond, WriteTimeout: 200 * time.Millisecond})
	c := tc.dial(t)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, _, err := c.Read(ctx) // answers pings while it waits; nothing else comes
	if !strings.Contains(fmt.Sprint(err), "deadline") && !strings.Contains(fmt.Sprint(err), "context") {
		t.Fatalf("read: %v, want the client's own timeout", err)
	}
	if websocket.CloseStatus(err) != -1 {
		t.Fatalf("the server closed a live connection: %v", err)
	}
}

// TestCoalescing: events queued while a write is in progress leave together
// in one message, separated by newlines, and no message is larger than
// MaxCoalesce unless it holds a single event.
func TestCoalescing(t *testing.T) {
	for _, max := range []int{0, 300} {
		t.Run(fmt.Sprintf("MaxCoalesce=%d", max), func(t *testing.T) {
			tc := newTestChat(t, &cfws.Options{MaxCoalesce: max})
			c := tc.dial(t)
			const n = 2000
			for i := range n {
				data := fmt.Sprintf(`{"room_id":%d}`, i+1)
				tc.chat.Hub().PublishUser(tc.userID, campfire.Event{Type: campfire.EventUnread, RoomID: int64(i + 1), Data: json.RawMessage(data)})
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			got, messages := 0, 0
			for got < n {
				typ, msg, err := c.Read(ctx)
				if err != nil {
					t.Fatalf("after %d events: %v", got, err)
				}
				if typ != websocket.MessageText {
					t.Fatalf("message type %v, want text", typ)
				}
				messages++
				lines := bytes.Split(msg, []byte("\n"))
				if max > 0 && len(msg) > max && len(lines) > 1 {
					t.Fatalf("message of %d bytes holds %d events, over MaxCoalesce %d", len(msg), len(lines), max)
				}
				for _, line := range lines {
					var ev struct {
						Type   string `json:"type"`
						RoomID int64  `json:"room_id"`
					}
					if err := json.Unmarshal(line, &ev); err != nil {
						t.Fatalf("line %q: %v", line, err)
					}
					got++
					if ev.Type != "unread" || ev.RoomID != int64(got) {
						t.Fatalf("event %d: %s", got, line)
					}
				}
			}
			t.Logf("%d events in %d messages", n, messages)
			if messages >= n {
				t.Errorf("no event was coalesced")
			}
		})
	}
}

// TestOrigins: browsers' cross-origin upgrades are refused with the
// protocol's 403 unless OriginPatterns trust them; same-host pages and
// clients that send no Origin are welcome.
func TestOrigins(t *testing.T) {
	tc := newTestChat(t, &cfws.Options{OriginPatterns: []string{"*.trusted.example", "https://app.example:8443"}})
	host := tc.ts.Listener.Addr().String()
	for _, tt := range []struct {
		name   string
		header string
		want   int
	}{
		{"NoOrigin", "", 101},
		{"SameHost", "Origin: http://" + host + "\r\n", 101},
		{"SameOriginFetchSite", "Origin: http://elsewhere.example\r\nSec-Fetch-Site: same-origin\r\n", 101},
		{"CrossSite", "Origin: http://evil.example\r\n", 403},
		{"CrossSiteFetchSite", "Origin: http://evil.example\r\nSec-Fetch-Site: cross-site\r\n", 403},
		{"SameSiteIsCrossOrigin", "Origin: http://sub." + host + "\r\nSec-Fetch-Site: same-site\r\n", 403},
		{"NullOrigin", "Origin: null\r\n", 403},
		{"HostPattern", "Origin: https://chat.trusted.example\r\nSec-Fetch-Site: cross-site\r\n", 101},
		{"SchemePattern", "Origin: https://app.example:8443\r\n", 101},
		{"SchemePatternWrongScheme", "Origin: http://app.example:8443\r\n", 403},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, res := rawDial(t, tc, "Authorization: Bearer "+tc.token+"\r\n"+tt.header)
			if res.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.want)
			}
			if tt.want == 403 {
				var body campfire.ErrorBody
				if err := json.NewDecoder(res.Body).Decode(&body); err != nil || body.Error.Code != "forbidden" || body.Error.Message == "" {
					t.Fatalf("body %+v, %v; want the protocol's forbidden error", body, err)
				}
			}
		})
	}
}

func TestNewPanicsOnBadPattern(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("New accepted a malformed origin pattern")
		}
	}()
	cfws.New(&cfws.Options{OriginPatterns: []string{"[bad"}})
}

// TestNotAWebSocket: a plain GET with a session is refused by the
// handshake and leaves nothing behind for Shutdown to wait for.
func TestNotAWebSocket(t *testing.T) {
	tc := newTestChat(t, nil)
	req, _ := http.NewRequest("GET", tc.ts.URL+"/api/v1/ws", nil)
	req.Header.Set("Authorization", "Bearer "+tc.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUpgradeRequired {
		t.Fatalf("status %d, want 426", res.StatusCode)
	}
	// newTestChat's cleanup fails the test if Shutdown waits in vain.
}
