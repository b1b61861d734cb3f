// Package benchsrv is what both bench servers (campfire and the centrifuge
// baseline) share: the endpoints the load generator drives and reads, under
// /bench/, and the in-process publisher that feeds the fan-out scenario.
//
// The publisher runs inside the server process and calls the library's own
// in-process publish (campfire's Hub.Publish, centrifuge's Node.Publish), so
// both servers see the same publish path shape: one call per message, from
// one goroutine, on the server's core.
package benchsrv

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// Target is a server under test.
type Target interface {
	// Publish publishes one fan-out message to a room: the event built with
	// the wire package, seq and ts as given, with a body of bodySize bytes.
	Publish(roomID, seq, ts int64, bodySize int)
	// Probe publishes an ephemeral {"type":"probe"} event to a room, which
	// the load generator uses to learn that its subscriptions are live.
	Probe(roomID int64)
}

// Stats is a snapshot of the server process.
type Stats struct {
	Goroutines  uint64 `json:"goroutines"`
	HeapLive    uint64 `json:"heap_live_bytes"`    // live heap as of the last GC
	HeapObjects uint64 `json:"heap_objects_bytes"` // heap in use by objects now
	GoTotal     uint64 `json:"go_total_bytes"`     // all memory mapped by the Go runtime
	// HeapFree is heap memory free and not yet returned to the OS (it
	// counts in RSS); HeapReleased, free and returned (it does not).
	HeapFree     uint64 `json:"heap_free_bytes"`
	HeapReleased uint64 `json:"heap_released_bytes"`
	AllocObjects uint64 `json:"alloc_objects"` // cumulative
	AllocBytes   uint64 `json:"alloc_bytes"`   // cumulative
	GCCycles     uint64 `json:"gc_cycles"`
	CPUNanos     int64  `json:"cpu_ns"`      // user+system, from getrusage
	RSSKB        int64  `json:"rss_kb"`      // VmRSS
	WriteCalls   int64  `json:"write_calls"` // write syscalls (syscw of /proc/self/io)
	// RunDelay is how long the process's threads were runnable but waited
	// for a CPU (the second field of /proc/self/task/*/schedstat): on a
	// shared machine, how much of the core others took.
	RunDelayNanos int64 `json:"run_delay_ns"`
}

var metricNames = []string{
	"/sched/goroutines:goroutines",
	"/gc/heap/live:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/total:bytes",
	"/gc/heap/allocs:objects",
	"/gc/heap/allocs:bytes",
	"/gc/cycles/total:gc-cycles",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/released:bytes",
}

// ReadStats reads this process's Stats.
func ReadStats() Stats {
	samples := make([]metrics.Sample, len(metricNames))
	for i, n := range metricNames {
		samples[i].Name = n
	}
	metrics.Read(samples)
	u := func(i int) uint64 {
		if samples[i].Value.Kind() == metrics.KindUint64 {
			return samples[i].Value.Uint64()
		}
		return 0
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return Stats{
		Goroutines: u(0), HeapLive: u(1), HeapObjects: u(2), GoTotal: u(3),
		AllocObjects: u(4), AllocBytes: u(5), GCCycles: u(6), HeapFree: u(7), HeapReleased: u(8),
		CPUNanos:      ru.Utime.Nano() + ru.Stime.Nano(),
		RSSKB:         RSSKB(os.Getpid()),
		WriteCalls:    procIO("syscw"),
		RunDelayNanos: runDelay(),
	}
}

// runDelay sums the run-queue wait of this process's threads.
func runDelay() int64 {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return -1
	}
	var sum int64
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + t.Name() + "/schedstat")
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) >= 2 {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			sum += n
		}
	}
	return sum
}

// procIO reads a counter of /proc/self/io; -1 if unknown.
func procIO(key string) int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return -1
}

// RSSKB reads VmRSS of a process from /proc, in KiB; -1 if unknown.
func RSSKB(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return -1
}

// Handler serves /bench/ for t, and /debug/pprof/ when withPprof.
func Handler(t Target, withPprof bool) http.Handler {
	mux := http.NewServeMux()
	p := &publisher{t: t, seqs: map[int64]int64{}}
	mux.HandleFunc("GET /bench/stats", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(ReadStats())
	})
	mux.HandleFunc("POST /bench/gc", func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /bench/probe", func(w http.ResponseWriter, r *http.Request) {
		for _, v := range r.URL.Query()["room"] {
			if id, err := strconv.ParseInt(v, 10, 64); err == nil {
				t.Probe(id)
			}
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /bench/control", p.serveControl)
	if withPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// Command asks the publisher for one fan-out run.
type Command struct {
	Rooms      []int64 `json:"rooms"`
	Body       int     `json:"body"`        // body bytes
	Rate       float64 `json:"rate"`        // messages/s over all rooms, open loop; 0: window mode
	Window     int64   `json:"window"`      // window mode: messages in flight per room
	DurationMS int64   `json:"duration_ms"` // how long to publish
}

// Result is what a run published.
type Result struct {
	Published int64           `json:"published"`
	FirstSeq  map[int64]int64 `json:"first_seq"` // per room, the first seq of this run
	LastSeq   map[int64]int64 `json:"last_seq"`  // per room, the last seq published
	Behind    int64           `json:"behind_ns"` // open loop: how late the publisher was at worst
}

type publisher struct {
	t    Target
	mu   sync.Mutex // one run at a time
	seqs map[int64]int64
}

// serveControl runs one Command per connection: the client sends it as a
// text message, then, in window mode, binary messages of one little-endian
// int64 per room (in Command.Rooms order): the highest seq every subscriber
// of that room has received. The Result comes back as a text message.
func (p *publisher) serveControl(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	ctx := r.Context()
	_, msg, err := c.Read(ctx)
	if err != nil {
		return
	}
	var cmd Command
	if err := json.Unmarshal(msg, &cmd); err != nil || len(cmd.Rooms) == 0 {
		c.Close(websocket.StatusPolicyViolation, "bad command")
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	acked := make([]atomic.Int64, len(cmd.Rooms))
	for i, id := range cmd.Rooms {
		acked[i].Store(p.seqs[id])
	}
	ackc := make(chan struct{}, 1)
	go func() {
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			for i := range acked {
				if len(b) >= 8*(i+1) {
					acked[i].Store(int64(binary.LittleEndian.Uint64(b[8*i:])))
				}
			}
			select {
			case ackc <- struct{}{}:
			default:
			}
		}
	}()
	res := p.run(ctx, cmd, acked, ackc)
	b, _ := json.Marshal(res)
	c.Write(ctx, websocket.MessageText, b)
	c.Close(websocket.StatusNormalClosure, "")
}

func (p *publisher) run(ctx context.Context, cmd Command, acked []atomic.Int64, ackc <-chan struct{}) Result {
	res := Result{FirstSeq: map[int64]int64{}, LastSeq: map[int64]int64{}}
	seqs := make([]int64, len(cmd.Rooms))
	for i, id := range cmd.Rooms {
		seqs[i] = p.seqs[id]
		res.FirstSeq[id] = seqs[i] + 1
	}
	publish := func(i int, ts int64) {
		seqs[i]++
		p.t.Publish(cmd.Rooms[i], seqs[i], ts, cmd.Body)
		res.Published++
	}
	start := time.Now()
	deadline := start.Add(time.Duration(cmd.DurationMS) * time.Millisecond)
	if cmd.Rate > 0 {
		total := int64(cmd.Rate * float64(cmd.DurationMS) / 1000)
		interval := float64(time.Second) / cmd.Rate
		for n := int64(0); n < total && ctx.Err() == nil; {
			due := start.Add(time.Duration(float64(n) * interval))
			now := time.Now()
			if due.After(now) {
				time.Sleep(due.Sub(now))
				continue
			}
			if late := int64(now.Sub(due)); late > res.Behind {
				res.Behind = late
			}
			publish(int(n%int64(len(cmd.Rooms))), due.UnixNano())
			n++
		}
	} else {
		window := max(cmd.Window, 1)
		for i := 0; ctx.Err() == nil; {
			if !time.Now().Before(deadline) {
				break
			}
			sent := false
			for range cmd.Rooms {
				if seqs[i]-acked[i].Load() < window {
					publish(i, time.Now().UnixNano())
					sent = true
				}
				i = (i + 1) % len(cmd.Rooms)
			}
			if !sent {
				select {
				case <-ackc:
				case <-time.After(time.Until(deadline)):
				case <-ctx.Done():
				}
			}
		}
	}
	for i, id := range cmd.Rooms {
		p.seqs[id] = seqs[i]
		res.LastSeq[id] = seqs[i]
	}
	return res
}
