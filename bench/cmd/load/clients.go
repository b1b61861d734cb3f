package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/opencampfire/campfire/bench/internal/hist"
	"github.com/opencampfire/campfire/bench/internal/wire"
)

// client is one subscriber of one room, over WebSocket or SSE, to either
// server. It checks the sequence of the durable events it receives: each
// must be the one after the last (else some were lost, or came twice).
type client struct {
	kind string // campfire or centrifuge
	sse  bool
	addr string
	user string
	room int64

	mu   sync.Mutex
	ws   *websocket.Conn
	conn net.Conn // SSE

	last    atomic.Int64 // seq of the last durable event received
	count   atomic.Int64 // durable events received
	lost    atomic.Int64 // seqs skipped
	dups    atomic.Int64 // seqs received again, or out of order
	resyncs atomic.Int64
	errors  atomic.Int64
	probed  atomic.Bool
	down    atomic.Bool // the connection ended
	lat     *hist.H     // latency of each delivery, when set

	// onCaughtUp, when set, is called once last reaches caughtUpAt.
	caughtUpAt atomic.Int64
	caughtUp   atomic.Int64 // unix ns when last first reached caughtUpAt
}

var wsHTTP = &http.Client{Transport: &http.Transport{
	DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
	MaxIdleConnsPerHost: -1,
}}

// dial connects and subscribes; since < 0 means live only (campfire).
func (c *client) dial(ctx context.Context, since int64) error {
	c.down.Store(false)
	if c.sse {
		return c.dialSSE(ctx, since)
	}
	path := "/api/v1/ws"
	if c.kind == "centrifuge" {
		path = "/connection/websocket"
	}
	ws, _, err := websocket.Dial(ctx, "ws://"+c.addr+path, &websocket.DialOptions{
		HTTPClient:      wsHTTP,
		HTTPHeader:      http.Header{"X-Bench-User": {c.user}},
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		return err
	}
	ws.SetReadLimit(16 << 20)
	c.mu.Lock()
	c.ws = ws
	c.mu.Unlock()
	var frames []string
	room := strconv.FormatInt(c.room, 10)
	if c.kind == "centrifuge" {
		frames = []string{`{"id":1,"connect":{}}`, `{"id":2,"subscribe":{"channel":"room` + room + `"}}`}
	} else if since >= 0 {
		frames = []string{`{"type":"subscribe","room_id":` + room + `,"since":` + strconv.FormatInt(since, 10) + `}`}
	} else {
		frames = []string{`{"type":"subscribe","room_id":` + room + `}`}
	}
	for _, f := range frames {
		if err := ws.Write(ctx, websocket.MessageText, []byte(f)); err != nil {
			ws.CloseNow()
			return err
		}
	}
	go c.readWS(ws)
	return nil
}

func (c *client) readWS(ws *websocket.Conn) {
	defer c.down.Store(true)
	ctx := context.Background()
	buf := make([]byte, 0, 4096)
	for {
		_, r, err := ws.Reader(ctx)
		if err != nil {
			return
		}
		buf = buf[:0]
		for {
			if len(buf) == cap(buf) {
				buf = append(buf, 0)[:len(buf)]
			}
			n, err := r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if err == io.EOF {
				break
			}
			if err != nil {
				return
			}
		}
		wire.Lines(buf, func(line []byte) {
			if c.kind == "centrifuge" && len(line) == 2 && line[0] == '{' && line[1] == '}' {
				ws.Write(ctx, websocket.MessageText, []byte("{}")) // pong
				return
			}
			c.handle(line)
		})
	}
}

var (
	durableTypes = [][]byte{[]byte("message.created"), []byte("message.updated"), []byte("message.deleted"),
		[]byte("boost.created"), []byte("boost.deleted"), []byte("room.updated"), []byte("room.deleted")}
	probeType  = []byte("probe")
	resyncType = []byte("resync")
	errorType  = []byte("error")
)

// handle looks at one event line.
func (c *client) handle(line []byte) {
	typ := wire.Type(line)
	switch {
	case typ == nil:
		return
	case bytes.Equal(typ, probeType):
		c.probed.Store(true)
		return
	case bytes.Equal(typ, resyncType):
		c.resyncs.Add(1)
		return
	case bytes.Equal(typ, errorType):
		c.errors.Add(1)
		return
	}
	durable := false
	for _, d := range durableTypes {
		if bytes.Equal(typ, d) {
			durable = true
			break
		}
	}
	if !durable {
		return
	}
	seq := wire.Seq(line)
	if c.lat != nil {
		if ts := wire.TS(line); ts > 0 {
			c.lat.Record(time.Duration(time.Now().UnixNano() - ts))
		}
	}
	last := c.last.Load()
	switch {
	case seq <= last:
		c.dups.Add(1)
		return
	case seq > last+1:
		c.lost.Add(seq - last - 1)
	}
	c.last.Store(seq)
	c.count.Add(1)
	if at := c.caughtUpAt.Load(); at > 0 && seq >= at && c.caughtUp.Load() == 0 {
		c.caughtUp.Store(time.Now().UnixNano())
	}
}

// dialSSE opens an SSE stream with a raw HTTP/1.1 request, so that 10,000 of
// them cost the load generator little.
func (c *client) dialSSE(ctx context.Context, since int64) error {
	room := strconv.FormatInt(c.room, 10)
	var target string
	if c.kind == "centrifuge" {
		target = "/connection/sse?room=" + room + "&cf_connect=" + url.QueryEscape(`{"id":1,"connect":{}}`)
	} else {
		target = "/api/v1/sse?rooms=" + room + ":" + strconv.FormatInt(max(since, 0), 10)
	}
	d := net.Dialer{Timeout: 10 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return err
	}
	req := "GET " + target + " HTTP/1.1\r\nHost: " + c.addr + "\r\nAccept: text/event-stream\r\nX-Bench-User: " + c.user + "\r\n\r\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		conn.Close()
		return err
	}
	c.mu.Lock()
	c.conn = conn
	c.mu.Unlock()
	go c.readSSE(conn)
	return nil
}

// readSSE only watches for the probe and for the stream's end: the idle
// scenario needs no more.
func (c *client) readSSE(conn net.Conn) {
	defer c.down.Store(true)
	buf := make([]byte, 2048)
	var tail []byte
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			chunk := append(tail, buf[:n]...)
			if bytes.Contains(chunk, []byte(`"type":"probe"`)) {
				c.probed.Store(true)
			}
			if len(chunk) > 32 {
				chunk = chunk[len(chunk)-32:]
			}
			tail = append(tail[:0], chunk...)
		}
		if err != nil {
			return
		}
	}
}

// drop ends the connection at once, without a close handshake, as a
// network failure or a killed browser would.
func (c *client) drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ws != nil {
		c.ws.CloseNow()
		c.ws = nil
	}
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// dialAll connects clients, a few at a time.
func dialAll(ctx context.Context, clients []*client, since func(*client) int64, parallel int) error {
	var wg sync.WaitGroup
	var firstErr atomic.Value
	sem := make(chan struct{}, parallel)
	for _, c := range clients {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			var err error
			for try := 0; try < 5; try++ {
				if err = c.dial(ctx, since(c)); err == nil {
					return
				}
				time.Sleep(time.Duration(50*(try+1)) * time.Millisecond)
			}
			firstErr.CompareAndSwap(nil, fmt.Errorf("dial %s: %w", c.user, err))
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return err
	}
	return nil
}

func liveOnly(*client) int64 { return -1 }

// waitProbed probes rooms until every client has seen a probe, proof that
// its subscription is live.
func waitProbed(s *server, clients []*client, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		rooms := map[int64]bool{}
		missing := 0
		for _, c := range clients {
			if !c.probed.Load() {
				rooms[c.room] = true
				missing++
			}
		}
		if missing == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d clients never saw a probe", missing, len(clients))
		}
		ids := make([]int64, 0, len(rooms))
		for r := range rooms {
			ids = append(ids, r)
		}
		for len(ids) > 0 {
			n := min(len(ids), 200)
			s.probe(ids[:n])
			ids = ids[n:]
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func closeAll(clients []*client) {
	for _, c := range clients {
		c.drop()
	}
}

func countDown(clients []*client) int {
	n := 0
	for _, c := range clients {
		if c.down.Load() {
			n++
		}
	}
	return n
}
