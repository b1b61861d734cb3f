package campfire_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/opencampfire/campfire"
	"github.com/opencampfire/campfire/transport/sse"
	cfws "github.com/opencampfire/campfire/transport/websocket"
)

// TestSlowBodyIsCut: a client that sends its headers, then a body one
// byte at a time, is answered 408 and disconnected once the body has taken
// Config.BodyReadTimeout, however steadily the bytes come; the WebSocket
// and SSE streams opened before it live on past that bound.
func TestSlowBodyIsCut(t *testing.T) {
	const bound = 300 * time.Millisecond
	w := newWorld(t, campfire.Config{
		BodyReadTimeout: bound,
		Transports:      []campfire.Transport{cfws.New(nil), sse.New(nil)},
	})
	ws := rtDial(t, w.bob, "")
	ws.subscribe(w.allTalk, nil)
	ws.sync()
	sseLines := openSSE(t, w.bob, fmt.Sprintf("/api/v1/sse?rooms=%d", w.allTalk))

	botKey := w.admin.must(201, "POST", "/api/v1/account/bots", map[string]any{"name": "Slowpoke"})["bot_key"].(string)

	token := w.bob.http.Jar.Cookies(mustURL(t, w.ts.URL))[0]
	for _, route := range []string{
		fmt.Sprintf("POST /api/v1/rooms/%d/messages", w.allTalk),
		"PATCH /api/v1/users/me",
		"POST /api/v1/session",
		fmt.Sprintf("POST /api/v1/rooms/%d/%s/messages", w.allTalk, botKey), // a raw body
	} {
		method, path, _ := strings.Cut(route, " ")
		conn, err := net.Dial("tcp", strings.TrimPrefix(w.ts.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\nCookie: %s=%s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
			method, path, strings.TrimPrefix(w.ts.URL, "http://"), token.Name, token.Value)
		// One byte every 20 ms: the whole body would take 20 s.
		stop := make(chan struct{})
		go func() {
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if _, err := conn.Write([]byte(" ")); err != nil {
						return
					}
				}
			}
		}()
		start := time.Now()
		conn.SetReadDeadline(start.Add(10 * time.Second))
		answer, err := io.ReadAll(conn)
		close(stop)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("%s: no answer and no close within 10 s (bound %v): %v", route, bound, err)
		}
		// The server answers 408 and closes; bytes still arriving after
		// the close may reset the connection before the answer is read.
		t.Logf("%s: cut after %v (%d bytes of answer, %v)", route, time.Since(start).Round(time.Millisecond), len(answer), err)
		if len(answer) > 0 && (!strings.HasPrefix(string(answer), "HTTP/1.1 408 ") || !strings.Contains(string(answer), `"code":"timeout"`)) {
			t.Fatalf("%s: answer %q, want 408 timeout", route, answer)
		}
	}

	// The streams, open for longer than the bound, still carry the room.
	w.admin.post(w.allTalk, "still here")
	if ev := ws.nextOf(10*time.Second, "message.created"); !strings.Contains(string(ev.raw), "still here") {
		t.Fatalf("WebSocket: %s", ev.raw)
	}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case line, ok := <-sseLines:
			if !ok {
				t.Fatal("the SSE stream ended")
			}
			if strings.Contains(line, "still here") {
				return
			}
		case <-timeout:
			t.Fatal("the SSE stream did not carry the message")
		}
	}
}

// openSSE opens an event stream as c and returns its lines.
func openSSE(t *testing.T, c *client, path string) <-chan string {
	t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	res, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != 200 {
		t.Fatalf("SSE: %d", res.StatusCode)
	}
	lines := make(chan string, 1024)
	sc := bufio.NewScanner(res.Body)
	if !sc.Scan() {
		t.Fatal("SSE: no first line")
	}
	go func() {
		defer close(lines)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return lines
}
