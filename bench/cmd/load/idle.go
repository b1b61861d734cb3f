package main

import (
	"context"
	"fmt"
	"time"

	"github.com/opencampfire/campfire/bench/internal/benchsrv"
)

// IdleResult is the footprint of idle connections on one server.
type IdleResult struct {
	Server    string `json:"server"`
	Transport string `json:"transport"`
	Conns     int    `json:"conns"`
	Dropped   int    `json:"dropped"` // connections that ended while idle

	BaseRSSKB      int64  `json:"base_rss_kb"`
	RSSKB          int64  `json:"rss_kb"`
	BaseHeapLive   uint64 `json:"base_heap_live_bytes"`
	HeapLive       uint64 `json:"heap_live_bytes"`
	BaseGoroutines uint64 `json:"base_goroutines"`
	Goroutines     uint64 `json:"goroutines"`

	RSSPerConn float64 `json:"rss_per_conn_bytes"`
	// InUsePerConn is the Go runtime's memory in use (all it has mapped,
	// less the heap that is free, returned to the OS or not): RSS without
	// the garbage of the connection phase that the runtime still holds.
	InUsePerConn      float64 `json:"in_use_per_conn_bytes"`
	HeapPerConn       float64 `json:"heap_per_conn_bytes"`
	GoroutinesPerConn float64 `json:"goroutines_per_conn"`

	IdleWindowS float64 `json:"idle_window_s"`
	// Idle CPU, from /proc/PID/stat (10 ms ticks) and from the server's
	// getrusage (microseconds), per connection per second.
	IdleCPUProcMS      float64 `json:"idle_cpu_proc_ms"`
	IdleCPURusageMS    float64 `json:"idle_cpu_rusage_ms"`
	CPUPerConnNSPerSec float64 `json:"cpu_per_conn_ns_per_s"`
	ConnectSeconds     float64 `json:"connect_s"`
}

func runIdle(ctx context.Context, rep *Report) error {
	// The window spans one keepalive period of each server (campfire pings
	// every 30 s, centrifuge every 25 s), so that their cost is counted.
	n, window := 10_000, 32*time.Second
	if cfg.quick {
		n, window = 1_000, 2*time.Second
	}
	for _, sse := range []bool{false, true} {
		for _, kind := range []string{"campfire", "centrifuge"} {
			r, err := idleOnce(ctx, kind, sse, n, window)
			if err != nil {
				return fmt.Errorf("%s sse=%v: %w", kind, sse, err)
			}
			rep.Idle = append(rep.Idle, r)
			logf("idle %s %s: %.0f B RSS/conn, %.0f B heap/conn, %.2f goroutines/conn, %.0f ns CPU/conn/s",
				r.Server, r.Transport, r.RSSPerConn, r.HeapPerConn, r.GoroutinesPerConn, r.CPUPerConnNSPerSec)
		}
	}
	return nil
}

func idleOnce(ctx context.Context, kind string, sse bool, n int, window time.Duration) (IdleResult, error) {
	transport := "websocket"
	if sse {
		transport = "sse"
	}
	res := IdleResult{Server: kind, Transport: transport, Conns: n, IdleWindowS: window.Seconds()}
	// Ten connections a user (tabs, devices): campfire caps a user's
	// connections (Config.MaxConnectionsPerUser, 32 by default).
	users := max(100, n/10)
	s, err := startServer(kind, serverArgs(kind, users, 100, 0, "")...)
	if err != nil {
		return res, err
	}
	defer s.stop()
	rooms, err := roomsOf(s, 100)
	if err != nil {
		return res, err
	}
	time.Sleep(500 * time.Millisecond)
	s.gc()
	time.Sleep(500 * time.Millisecond)
	base := s.stats()
	res.BaseRSSKB, res.BaseHeapLive, res.BaseGoroutines = base.RSSKB, base.HeapLive, base.Goroutines

	clients := make([]*client, n)
	for i := range clients {
		clients[i] = &client{kind: kind, sse: sse, addr: s.addr, user: fmt.Sprintf("u%d", i%users+1), room: rooms[i%len(rooms)]}
	}
	defer closeAll(clients)
	t := time.Now()
	if err := dialAll(ctx, clients, liveOnly, 64); err != nil {
		return res, err
	}
	if err := waitProbed(s, clients, 2*time.Minute); err != nil {
		return res, err
	}
	res.ConnectSeconds = time.Since(t).Seconds()
	time.Sleep(2 * time.Second)
	s.gc()
	time.Sleep(time.Second)
	st := s.stats()
	res.RSSKB, res.HeapLive, res.Goroutines = st.RSSKB, st.HeapLive, st.Goroutines
	res.RSSPerConn = float64(st.RSSKB-base.RSSKB) * 1024 / float64(n)
	res.HeapPerConn = (float64(st.HeapLive) - float64(base.HeapLive)) / float64(n)
	inUse := func(s benchsrv.Stats) float64 {
		return float64(s.GoTotal) - float64(s.HeapFree) - float64(s.HeapReleased)
	}
	res.InUsePerConn = (inUse(st) - inUse(base)) / float64(n)
	res.GoroutinesPerConn = (float64(st.Goroutines) - float64(base.Goroutines)) / float64(n)

	s.saveProfile(ctx, "/debug/pprof/heap", fmt.Sprintf("idle-%s-%s-heap.pb.gz", kind, transport))
	s.saveProfile(ctx, "/debug/pprof/goroutine", fmt.Sprintf("idle-%s-%s-goroutine.pb.gz", kind, transport))
	p0, r0 := procCPU(s.pid), s.stats().CPUNanos
	time.Sleep(window)
	p1, r1 := procCPU(s.pid), s.stats().CPUNanos
	res.IdleCPUProcMS = float64(p1-p0) / 1e6
	res.IdleCPURusageMS = float64(r1-r0) / 1e6
	res.CPUPerConnNSPerSec = float64(r1-r0) / window.Seconds() / float64(n)
	res.Dropped = countDown(clients)
	return res, nil
}

// serverArgs are the flags of a server: campfire gets users and rooms (open,
// or closed of roomSize members) and a database file; centrifuge needs none.
func serverArgs(kind string, users, rooms, roomSize int, db string) []string {
	if kind != "campfire" {
		return nil
	}
	args := []string{"-users", fmt.Sprint(users), "-rooms", fmt.Sprint(rooms), "-room-size", fmt.Sprint(roomSize)}
	if db != "" {
		args = append(args, "-db", db)
	}
	return args
}

// roomsOf is the room ids to use: campfire's from its setup, centrifuge's
// channels need no setup and take the same ids.
func roomsOf(s *server, n int) ([]int64, error) {
	if s.kind == "campfire" {
		ids, _, err := s.setupRooms()
		if err != nil {
			return nil, err
		}
		if len(ids) < n {
			return nil, fmt.Errorf("campfire has %d rooms, want %d", len(ids), n)
		}
		return ids[:n], nil
	}
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	return ids, nil
}
