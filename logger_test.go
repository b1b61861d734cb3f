package campfire_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencampfire/campfire"
	cfsse "github.com/opencampfire/campfire/transport/sse"
	cfws "github.com/opencampfire/campfire/transport/websocket"
)

// failingMembership is a store whose Membership fails once fail is set:
// what a disk going bad looks like to a subscribe.
type failingMembership struct {
	campfire.Store
	fail *atomic.Bool
}

func (f failingMembership) Membership(ctx context.Context, roomID, userID int64) (campfire.Membership, error) {
	if f.fail.Load() {
		return campfire.Membership{}, errors.New("the disk is on fire")
	}
	return f.Store.Membership(ctx, roomID, userID)
}

// syncBuffer is a bytes.Buffer that handlers on several goroutines share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestTransportsLogThroughConfigLogger: a host sets Config.Logger once, and
// the transports, given no logger of their own, log through it.
func TestTransportsLogThroughConfigLogger(t *testing.T) {
	var logs syncBuffer
	fail := &atomic.Bool{}
	w := newWorld(t, campfire.Config{
		Store:      failingMembership{Store: openStore(t), fail: fail},
		Logger:     slog.New(slog.NewTextHandler(&logs, nil)),
		Transports: []campfire.Transport{cfws.New(nil), cfsse.New(nil)},
	})
	fail.Store(true)

	c := rtDial(t, w.bob, "")
	c.send(map[string]any{"type": "subscribe", "room_id": w.allTalk, "since": 0})
	if ev := c.nextOf(5*time.Second, "error"); !strings.Contains(string(ev.Data), "internal") {
		t.Fatalf("a failing subscribe answered %s, want an internal error", ev.raw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/api/v1/sse?rooms=%d:0", w.ts.URL, w.allTalk), nil)
	res, err := w.bob.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	for _, want := range []string{"campfire: websocket", "campfire/sse", "the disk is on fire"} {
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(logs.String(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("Config.Logger never received %q; it has:\n%s", want, logs.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
